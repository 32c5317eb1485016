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
  const parts = [h('p', { class: 'lead' }, `What comes after ${quote(tok ? tok.text : '')} (token #${p.position})?`)];
  if (ctx.controls !== 'none') {
    const out = h('output', { text: `τ = ${fmt(p.temperature)}` });
    const slider = h('input', { type: 'range', min: 0.1, max: 3, step: 0.05, value: p.temperature, 'aria-label': 'temperature', class: 'temperature',
      on: { input: (e) => { out.textContent = `τ = ${fmt(Number(e.target.value))}`; ctx.setOption('temperature', Number(e.target.value)); } } });
    const pos = h('select', { 'aria-label': 'which token predicts', class: 'position',
      on: { change: (e) => ctx.setOption('predict_position', e.target.value === 'last' ? null : Number(e.target.value)) } },
      h('option', { value: 'last', text: 'the last token', selected: trace.options.predict_position === null }),
      trace.tokens.map((t, i) => h('option', { value: i, text: `#${i} ${t.text}`, selected: trace.options.predict_position === i })));
    parts.push(h('div', { class: 'row-controls' }, h('label', {}, 'Temperature ', slider, ' ', out), h('label', {}, 'Predict after ', pos)));
  }
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
