// Step `update`: the residual connection E′ = E + ΔE, drawn as arrows on the embedding map.
import { h, heatStrips, embeddingMap, maxAbs, fmt } from '../draw.js';
import { labelsOf, layerOf, quote, table, where } from './common.js';

export const id = 'update';
export const title = 'Update';
export const math = 'E′ = E + ΔE';
export const scope = 'layer';

export function explain(trace, state) {
  const c = trace.config;
  const mlp = trace.layers[state.layer].mlp;
  return [
    `The change is added to the vectors the layer started from (the residual connection): E′ = E + ΔE. Each token's vector moves away from its dictionary meaning toward its meaning in this sentence. The map shows the move for every token, on the same fixed projection as the embeddings.`,
    `Shape: ${trace.tokens.length} × ${c.d_model}.${mlp ? ` This model then passes E′ through a small MLP (${c.d_model} → ${c.d_mlp} → ${c.d_model}) and adds its output too; the arrow ends after the MLP.` : ''}${c.n_layers > 1 ? ` With ${c.n_layers} layers, the output of one layer is the input of the next.` : ''}`,
  ];
}

export function render(trace, state, ctx) {
  const L = state.layer;
  const layer = layerOf(trace, state);
  const labels = labelsOf(trace);
  const from = L === 0 ? trace.map.embeddings : trace.map.layers[L - 1];
  // E, ΔE and E′ share one colour scale (E + ΔE = E′ reads off directly); the MLP's much larger numbers get their own.
  const dom = maxAbs(layer.input, layer.delta, layer.updated);
  const parts = [
    embeddingMap({ points: from, arrowsTo: trace.map.layers[L], labels, background: ctx.vocab(), caption: `E → E′ (${where(trace, state, false) || 'the layer'})`,
      note: `Arrows: each token's vector entering ${where(trace, state, false) || 'the layer'} → leaving it, on the fixed 2-D projection (two leading principal components of the embedding table). Grey dots: common vocabulary tokens.` }),
  ];
  const strips = [
    heatStrips({ m: layer.input, labels, domain: dom, caption: 'input E', title: 'E entering the layer' }),
    heatStrips({ m: layer.delta, labels, domain: dom, caption: 'delta ΔE', title: 'ΔE from attention' }),
    heatStrips({ m: layer.updated, labels, domain: dom, caption: 'updated E′', title: 'E′ = E + ΔE' }),
  ];
  if (layer.mlp) {
    const mdom = maxAbs(layer.mlp.out, layer.output);
    strips.push(heatStrips({ m: layer.mlp.out, labels, domain: mdom, caption: 'mlp.out', title: 'MLP output, added to E′ (its own colour scale)' }));
    strips.push(heatStrips({ m: layer.output, labels, domain: mdom, caption: 'output', title: 'Layer output = E′ + MLP(E′)' }));
  }
  parts.push(h('div', { class: 'figs' }, strips));
  if (trace.neighbours) parts.push(neighbourTable(trace));
  return h('div', {}, parts);
}

function neighbourTable(trace) {
  const { before, after } = trace.neighbours;
  const list = (ns) => ns.map((n) => `${quote(n.text)} ${fmt(n.similarity)}`).join(', ');
  return h('figure', { class: 'figure' },
    h('div', { class: 'fig-title', text: 'Nearest vocabulary tokens (cosine similarity with their embedding rows, both measured from the mean embedding), before the layers (E) and after the last layer (where each vector already points toward the word it predicts next)' }),
    h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'nearest vocabulary tokens' }, h('table', { class: 'neighbours' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'token' }), h('th', { scope: 'col', text: 'nearest to E' }), h('th', { scope: 'col', text: 'nearest to the final E′' }))),
      h('tbody', {}, trace.tokens.map((t, i) => h('tr', { 'data-tok': i }, h('th', { scope: 'row', text: t.text }), h('td', { text: list(before[i]) }), h('td', { text: list(after[i]) })))))));
}

export function data(trace, state) {
  const layer = layerOf(trace, state);
  const labels = labelsOf(trace);
  const L = state.layer;
  const tables = [table('input', layer.input, labels), table('delta', layer.delta, labels), table('updated', layer.updated, labels)];
  if (layer.mlp) tables.push(table('mlp.out', layer.mlp.out, labels), table('output', layer.output, labels));
  tables.push(table('map before', L === 0 ? trace.map.embeddings : trace.map.layers[L - 1], labels, ['x', 'y']), table('map after', trace.map.layers[L], labels, ['x', 'y']));
  return { tables };
}
