// Step `embed`: each token's row of the embedding table plus its position's row: E = W_E[ids] + P.
// A model with rotary positions has no P (positions come in at `rotate`): E = W_E[ids].
import { h, heatStrips, embeddingMap, maxAbs } from '../draw.js';
import { labelsOf, table } from './common.js';

export const id = 'embed';
export const title = 'Embeddings';
/** The formula for `model` (its info or trace): no P with rotary positions. */
export const math = (model) => (model?.config?.positions?.kind === 'rope' ? 'E = W_E[ids]' : 'E = W_E[ids] + P');
export const scope = 'model';
const rotary = (trace) => !trace.position_embeddings;

export function explain(trace) {
  const c = trace.config;
  const T = trace.tokens.length;
  const lead = rotary(trace)
    ? `Each token id picks one row of a learned table W_E: a list of ${c.d_model} numbers that stands for the token. That row is the token's starting vector E, with nothing about where the token sits: this model adds its positions later, by turning the queries and keys (the Rotate step).`
    : `Each token id picks one row of a learned table W_E: a list of ${c.d_model} numbers that stands for the token. A second table P adds where the token sits (position 0, 1, 2…). Their sum E is the token's starting vector.`;
  return [
    lead,
    `Shape: ${T} × ${c.d_model} (one row per token). These vectors know nothing about the other words yet: “bank” gets the same row in “river bank” and in “bank account”. Giving each vector its context is what attention is for.`,
  ];
}

export function render(trace, state, ctx) {
  const labels = labelsOf(trace);
  const map = embeddingMap({ points: trace.map.embeddings, labels, background: ctx.vocab(), caption: 'Embedding map of E' });
  if (rotary(trace)) {
    return h('div', {}, h('div', { class: 'figs' },
      heatStrips({ m: trace.embeddings, labels, caption: 'embeddings E = W_E[ids]', title: 'E = W_E[ids] (the same for a token wherever it appears: no position part)' })), map);
  }
  const dom = maxAbs(trace.token_embeddings, trace.position_embeddings, trace.embeddings);
  return h('div', {}, h('div', { class: 'figs' },
    heatStrips({ m: trace.token_embeddings, labels, caption: 'token_embeddings W_E[ids]', title: 'Token embedding W_E[id] (the same for a token wherever it appears)', domain: dom }),
    heatStrips({ m: trace.position_embeddings, labels, caption: 'position_embeddings P', title: 'Position embedding P (depends only on the position)', domain: dom }),
    heatStrips({ m: trace.embeddings, labels, caption: 'embeddings E', title: 'E = W_E[ids] + P', domain: dom })),
    map);
}

export function data(trace) {
  const labels = labelsOf(trace);
  const tables = [table('token_embeddings', trace.token_embeddings, labels), table('embeddings', trace.embeddings, labels), table('map.embeddings', trace.map.embeddings, labels, ['x', 'y'])];
  if (!rotary(trace)) tables.splice(1, 0, table('position_embeddings', trace.position_embeddings, labels));
  return { tables };
}
