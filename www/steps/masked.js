// Step `masked`: the causal mask, −∞ where the key comes after the query.
import { attentionView, gridShape, headOf, labelsOf, maskLine, relativeLegend, scaledLine, table } from './common.js';

export const id = 'masked';
export const title = 'Masked';
export const math = 'S/√d + M, M = −∞ above the diagonal';
export const scope = 'head';
/** A T×T view of token pairs (row = query, column = key): the grid | lines switch and the transpose apply. */
export const tokenPairs = true;

export function explain(trace, state) {
  const row = state.transpose ? 'column' : 'row';
  return [
    `The model is trained to predict the next token, so a token may only look at itself and the tokens before it: looking ahead would be cheating. The causal mask sets every score ${state.transpose ? 'below' : 'above'} the diagonal (a key later than its query) to −∞, which the softmax turns into a weight of exactly 0.`,
    trace.options.causal ? `${gridShape(trace, state)} Hatched cells are masked. Each ${row} is coloured by how far its visible entries lie below its largest visible one (printed at the ${state.transpose ? 'bottom' : 'right'}): exactly what the softmax uses.` : `The mask is switched off (ablation): every token can see the future, something the model never saw in training. Watch how the weights and the prediction change.`,
  ];
}

export const render = (trace, state, ctx) => attentionView(trace, state, 'masked', { kind: 'div', relative: true, legendLabel: relativeLegend('masked score', state) }, ctx);
export const data = (trace, state) => ({ tables: [table('masked', headOf(trace, state).masked, labelsOf(trace), labelsOf(trace))] });
export const cellDetails = (trace, state, q, k) => [scaledLine(trace, state, q, k), maskLine(trace, state, q, k)];
