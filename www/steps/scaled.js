// Step `scaled`: the scores divided by √d_head.
import { attentionView, dotProductLines, gridShape, headOf, labelsOf, relativeLegend, scaledLine, table } from './common.js';

export const id = 'scaled';
export const title = 'Scaled';
export const math = 'S / √d_head';
export const scope = 'head';
/** A T×T view of token pairs (row = query, column = key): the grid | lines switch and the transpose apply. */
export const tokenPairs = true;

export function explain(trace, state) {
  const dh = trace.config.d_head;
  const row = state.transpose ? 'column' : 'row';
  return [
    `A dot product of ${dh} numbers grows with ${dh}: if the query and key entries are roughly unit-sized, the score's spread is about √${dh} ≈ ${Math.sqrt(dh).toFixed(2)}. Dividing by √d_head brings the scores back to a spread of about 1, so the softmax that follows is not pushed into putting all its weight on one token (where its gradients vanish and training stalls).`,
    trace.options.scale ? `${gridShape(trace, state)} This grid has its own colour scale: each ${row} coloured by how far its entries lie below the ${row}’s largest, which is all the softmax will see. Compare the legend’s range with the scores’: it shrank by √${dh}.` : `Scaling is switched off (ablation): these are the raw scores. Compare the weights with scaling on.`,
  ];
}

export const render = (trace, state, ctx) => attentionView(trace, state, 'scaled', { kind: 'div', relative: true, legendLabel: relativeLegend('scaled score', state) }, ctx);
export const data = (trace, state) => ({ tables: [table('scaled', headOf(trace, state).scaled, labelsOf(trace), labelsOf(trace))] });
export const cellDetails = (trace, state, q, k) => [...dotProductLines(trace, state, q, k), scaledLine(trace, state, q, k)];
