// Step `masked`: the causal mask, −∞ where the key comes after the query.
import { maxAbs } from '../draw.js';
import { attentionView, gridShape, headOf, labelsOf, maskLine, scaledLine, table } from './common.js';

export const id = 'masked';
export const title = 'Masked';
export const math = 'S/√d + M, M = −∞ above the diagonal';
export const scope = 'head';
/** A T×T view of token pairs (row = query, column = key): the grid | lines switch and the transpose apply. */
export const tokenPairs = true;

export function explain(trace) {
  return [
    `The model is trained to predict the next token, so a token may only look at itself and the tokens before it: looking ahead would be cheating. The causal mask sets every score above the diagonal (a key later than its query) to −∞, which the softmax turns into a weight of exactly 0.`,
    trace.options.causal ? `${gridShape(trace)} Hatched cells are masked.` : `The mask is switched off (ablation): every token can see the future, something the model never saw in training. Watch how the weights and the prediction change.`,
  ];
}

export const render = (trace, state, ctx) => attentionView(trace, state, 'masked', { kind: 'div', domain: maxAbs(headOf(trace, state).scores), legendLabel: 'masked score (same colour scale as the scores)' }, ctx);
export const data = (trace, state) => ({ tables: [table('masked', headOf(trace, state).masked, labelsOf(trace), labelsOf(trace))] });
export const cellDetails = (trace, state, q, k) => [scaledLine(trace, state, q, k), maskLine(trace, state, q, k)];
