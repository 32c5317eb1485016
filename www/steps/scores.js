// Step `scores`: how well each key matches each query, S = Q · Kᵀ.
import { attentionView, dotProductLines, gridShape, headOf, labelsOf, relativeLegend, table, withinRow } from './common.js';

export const id = 'scores';
export const title = 'Scores';
export const math = 'S = Q · Kᵀ';
export const scope = 'head';
/** A T×T view of token pairs (row = query, column = key): the grid | lines switch and the transpose apply. */
export const tokenPairs = true;

export function explain(trace, state) {
  const rotated = trace.config.positions?.kind === 'rope' ? ' (both turned by their positions, see Rotate)' : '';
  const [looks, looked] = state.transpose ? ['the column', 'the row'] : ['the row', 'the column'];
  return [
    `For every pair of tokens, the score is the dot product of the query of the token that looks (${looks}) with the key of the token looked at (${looked})${rotated}: multiply them number by number and add up. When the two vectors point the same way the products agree in sign and the score is large; when they are unrelated the products cancel and the score is small or negative.`,
    withinRow(state),
    gridShape(trace, state) + ' Hover or focus a cell to see its sum of products.',
  ];
}

export const render = (trace, state, ctx) => attentionView(trace, state, 'scores', { kind: 'div', relative: true, legendLabel: relativeLegend('score', state) }, ctx);
export const data = (trace, state) => ({ tables: [table('scores', headOf(trace, state).scores, labelsOf(trace), labelsOf(trace))] });
export const cellDetails = (trace, state, q, k) => dotProductLines(trace, state, q, k);
