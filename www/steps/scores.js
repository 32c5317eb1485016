// Step `scores`: how well each key matches each query, S = Q · Kᵀ.
import { attentionView, dotProductLines, gridShape, headOf, labelsOf, table } from './common.js';

export const id = 'scores';
export const title = 'Scores';
export const math = 'S = Q · Kᵀ';
export const scope = 'head';
/** A T×T view of token pairs (row = query, column = key): the grid | lines switch and the transpose apply. */
export const tokenPairs = true;

export function explain(trace) {
  const rotated = trace.config.positions?.kind === 'rope' ? ' (both turned by their positions, see Rotate)' : '';
  return [
    `For every pair of tokens, the score is the dot product of the query of the token that looks (the row) with the key of the token looked at (the column)${rotated}: multiply them number by number and add up. A large score means “this key is what the query is looking for”.`,
    gridShape(trace) + ' Hover or focus a cell to see its sum of products.',
  ];
}

export const render = (trace, state, ctx) => attentionView(trace, state, 'scores', { kind: 'div', legendLabel: 'score (blue < 0 < red)' }, ctx);
export const data = (trace, state) => ({ tables: [table('scores', headOf(trace, state).scores, labelsOf(trace), labelsOf(trace))] });
export const cellDetails = (trace, state, q, k) => dotProductLines(trace, state, q, k);
