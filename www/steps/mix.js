// Step `mix`: each head's weighted sum of values, A · V.
import { h, heatStrips, fmt, fmt4, at, rows } from '../draw.js';
import { headOf, labelsOf, quote, table, where } from './common.js';

export const id = 'mix';
export const title = 'Mix';
export const math = 'mixed = A · V';
export const scope = 'head';

export function explain(trace) {
  const c = trace.config;
  return [
    `Each token now collects what the others pass on: its new vector is the average of the value vectors, weighted by its row of attention weights. A token that puts weight 0.9 on “creature” gets mostly the value of “creature”.`,
    `Shape per head: ${trace.tokens.length} × ${c.d_head} = (${trace.tokens.length} × ${trace.tokens.length} weights) · (${trace.tokens.length} × ${c.d_head} values). Hover a cell of the mixed vectors to see its weighted sum.`,
  ];
}

export function render(trace, state) {
  const head = headOf(trace, state);
  const labels = labelsOf(trace);
  const detail = (q, d) => {
    const T = rows(head.weights);
    const terms = [];
    for (let k = 0; k < T; k++) if (at(head.weights, q, k) > 0) terms.push(`${fmt(at(head.weights, q, k))}×${fmt(at(head.values, k, d))}`);
    return `mixed[${quote(labels[q])}, dim ${d}] = Σ_k A[q,k]·V[k,${d}] = ${terms.join(' + ')} = ${fmt4(at(head.mixed, q, d))}`;
  };
  return h('div', { class: 'figs' },
    heatStrips({ m: head.values, labels, caption: `values (${where(trace, state)})`, title: 'V: what each token passes on' }),
    heatStrips({ m: head.mixed, labels, caption: `mixed (${where(trace, state)})`, title: `mixed = A · V, ${where(trace, state)}${head.enabled ? '' : ' (this head is switched off: its output is not used)'}`, detail }));
}

export function data(trace, state) {
  const labels = labelsOf(trace);
  return { tables: [table('values', headOf(trace, state).values, labels), table('mixed', headOf(trace, state).mixed, labels)] };
}
