// Step `predict`: the last vector predicts the next token, softmax(norm(E′_last) · W_Eᵀ / τ).
import { h, barChart, fmt } from '../draw.js';
import { quote } from './common.js';

export const id = 'predict';
export const title = 'Predict';
export const math = 'p = softmax(norm(E′_last) · W_Eᵀ / τ)';
export const scope = 'model';

export function explain(trace) {
  const c = trace.config;
  return [
    `After the last layer, a token's vector is compared with every row of the embedding table (a dot product with each of the ${c.vocab_size} tokens): the logits. Softmax turns them into probabilities for the next token. Only the last token's vector is used to continue the text, because only it has seen the whole sentence.`,
    `The temperature τ divides the logits first: τ < 1 sharpens the distribution (the favourite wins more often), τ > 1 flattens it. Top ${trace.predict.top.length} of ${c.vocab_size} shown.`,
  ];
}

export function render(trace, state, ctx) {
  const p = trace.predict;
  const tok = trace.tokens[p.position];
  const parts = [h('p', { class: 'lead' }, `What comes after ${quote(tok ? tok.text : '')} (token #${p.position}), at temperature τ = ${fmt(p.temperature)}?`)];
  const ghost = ctx.baseline ? ctx.baseline.predict.top : null;
  parts.push(barChart({ items: p.top, ghost, caption: `next-token probabilities after ${quote(tok ? tok.text : '')} at τ = ${fmt(p.temperature)}` }));
  return h('div', {}, parts);
}

export function data(trace) {
  const top = trace.predict.top;
  const values = new Float32Array(top.length * 3);
  top.forEach((c, i) => values.set([c.id, c.logit, c.prob], i * 3));
  return { tables: [{ name: `top ${top.length} after position ${trace.predict.position}`, rows: top.length, cols: 3, values, rowLabels: top.map((c) => c.text), colLabels: ['id', 'logit', 'prob'] }] };
}
