// Step `weights`: softmax across each row, A = softmax(S/√d + M).
import { h } from '../draw.js';
import { attentionView, gridShape, headOf, labelsOf, maskLine, softmaxLines, table } from './common.js';

export const id = 'weights';
export const title = 'Weights';
export const math = 'A = softmax(S/√d_head + M)';
export const scope = 'head';
/** A T×T view of token pairs (row = query, column = key): the grid | lines switch and the transpose apply. */
export const tokenPairs = true;

export function explain(trace, state) {
  const row = state.transpose ? 'column' : 'row';
  return [
    `Softmax turns each ${row} of masked scores into a probability distribution: exponentiate every entry (so all become positive, and −∞ becomes 0), then divide by the ${row}'s sum. Each ${row} now adds up to 1: it says how the query token shares its attention among the tokens it can see. Adding the same number to a whole ${row} of scores would change nothing here; only how far each score lies below the ${row}'s largest counts.`,
    `${gridShape(trace, state)} The ${state.transpose ? 'Σ col numbers at the bottom check' : 'Σ row numbers at the right check'} that every ${row} sums to 1. Switch to the lines view to see the same weights as lines between tokens.`,
  ];
}

export function render(trace, state, ctx) {
  const view = attentionView(trace, state, 'weights', { kind: 'seq', rowSums: true, legendLabel: 'attention weight (0 to 1)' }, ctx);
  if (!ctx.baseline) return view;
  // An ablation is on: the same head of the unablated model, for comparison.
  return h('div', { class: 'figs' },
    h('div', {}, h('div', { class: 'fig-title', text: 'With the ablations' }), view),
    h('div', { class: 'baseline' }, h('div', { class: 'fig-title', text: 'Without them (the model as trained)' }),
      attentionView(ctx.baseline, state, 'weights', { kind: 'seq', rowSums: true, legendLabel: 'attention weight without ablations' }, ctx)));
}
export const data = (trace, state) => ({ tables: [table('weights', headOf(trace, state).weights, labelsOf(trace), labelsOf(trace))] });
export const cellDetails = (trace, state, q, k) => [maskLine(trace, state, q, k), ...softmaxLines(trace, state, q, k)];
