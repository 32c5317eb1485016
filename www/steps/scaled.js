// Step `scaled`: the scores divided by √d_head.
import { maxAbs } from '../draw.js';
import { attentionView, dotProductLines, gridShape, headOf, labelsOf, scaledLine, table } from './common.js';

export const id = 'scaled';
export const title = 'Scaled';
export const math = 'S / √d_head';
export const scope = 'head';
/** A T×T view of token pairs (row = query, column = key): the grid | lines switch and the transpose apply. */
export const tokenPairs = true;

export function explain(trace) {
  const dh = trace.config.d_head;
  return [
    `A dot product of ${dh} numbers grows with ${dh}: if the query and key entries are roughly unit-sized, the score's spread is about √${dh} ≈ ${Math.sqrt(dh).toFixed(2)}. Dividing by √d_head brings the scores back to a spread of about 1, so the softmax that follows is not pushed into putting all its weight on one token (where its gradients vanish and training stalls).`,
    trace.options.scale ? `${gridShape(trace)} Colours use the same scale as the scores, so you see how much smaller they got.` : `Scaling is switched off (ablation): these are the raw scores. Compare the weights with scaling on.`,
  ];
}

export const render = (trace, state, ctx) => attentionView(trace, state, 'scaled', { kind: 'div', domain: maxAbs(headOf(trace, state).scores), legendLabel: 'scaled score (same colour scale as the scores)' }, ctx);
export const data = (trace, state) => ({ tables: [table('scaled', headOf(trace, state).scaled, labelsOf(trace), labelsOf(trace))] });
export const cellDetails = (trace, state, q, k) => [...dotProductLines(trace, state, q, k), scaledLine(trace, state, q, k)];
