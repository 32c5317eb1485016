// Step `update`: the residual connection E + ΔE, then (a model with an MLP) E′ = E + ΔE + MLP: attention's
// move and the MLP's drawn apart, each on a map fitted to its own points, with each vector's cosine to itself.
import { h, heatStrips, maxAbs, fmt, at, tokenLabel } from '../draw.js';
import { pathsMap } from '../map-paths.js';
import { labelsOf, layerOf, quote, table, where } from './common.js';

export const id = 'update';
export const title = 'Update';
export const math = 'E′ = E + ΔE';
export const scope = 'layer';

export function explain(trace, state) {
  const c = trace.config;
  const mlp = trace.layers[state.layer].mlp;
  return [
    `The change is added to the vectors the layer started from (the residual connection): E′ = E + ΔE. Each token's vector moves away from its dictionary meaning toward its meaning in this sentence.${mlp ? ' The first map shows attention’s move alone, E → E + ΔE; the second, on its own scale, what the MLP then adds.' : ''} The cosine of each vector with itself before and after says how far it turned (1: not at all).`,
    `Shape: ${trace.tokens.length} × ${c.d_model}.${mlp ? ` This model passes E + ΔE through a small MLP (${c.d_model} → ${c.d_mlp} → ${c.d_model}) and adds its output too: its numbers are much larger, so it gets its own map and colour scale.` : ''}${c.n_layers > 1 ? ` With ${c.n_layers} layers, the output of one layer is the input of the next.` : ''}`,
  ];
}

const pointsOf = (m, i) => [at(m, i, 0), at(m, i, 1)];

/** Attention's move and (if the model has an MLP) the MLP's, each on a map fitted to its own points. */
function legMaps(trace, state, ctx) {
  const L = state.layer;
  const layer = layerOf(trace, state);
  const labels = labelsOf(trace);
  const from = L === 0 ? trace.map.embeddings : trace.map.layers[L - 1];
  const mid = trace.map.updated[L], to = trace.map.layers[L];
  const w = where(trace, state, false) || 'the layer';
  const tokens = labels.map((label, i) => ({ label: tokenLabel(label, 14), tok: i }));
  const maps = [pathsMap({ paths: tokens.map((p) => ({ ...p, points: [pointsOf(from, p.tok), pointsOf(mid, p.tok)] })),
    legs: [{ name: 'attention: E → E + ΔE', cls: 'move' }], stages: ['E', 'E + ΔE'], caption: `attention’s move (${w})`, background: ctx.vocab(),
    note: 'Each axis fitted to these points (the two leading principal components of the embedding table); grey dots: vocabulary tokens nearby.' })];
  if (layer.mlp) {
    maps.push(pathsMap({ paths: tokens.map((p) => ({ ...p, points: [pointsOf(mid, p.tok), pointsOf(to, p.tok)] })),
      legs: [{ name: 'MLP: E + ΔE → E′', cls: 'move-mlp' }], stages: ['E + ΔE', 'E′'], caption: `the MLP’s move (${w})`, background: ctx.vocab(),
      note: 'Its own scale: the MLP moves vectors much further.' }));
  }
  return h('div', { class: 'figs' }, maps);
}

/** Each token's cosine with itself before and after attention, and after the MLP. */
function turnTable(trace, state) {
  const layer = layerOf(trace, state);
  const labels = labelsOf(trace);
  const cols = [['cos(E, E + ΔE): attention', layer.cos_updated]];
  if (layer.mlp) cols.push(['cos(E + ΔE, E′): the MLP', layer.cos_output]);
  return h('figure', { class: 'figure' },
    h('div', { class: 'fig-title', text: 'How far each vector turned: its cosine with itself before and after (1 = the same direction)' }),
    h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'cosine of each vector with itself before and after' }, h('table', { class: 'turns' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'token' }), cols.map(([name]) => h('th', { scope: 'col', text: name })))),
      h('tbody', {}, labels.map((t, i) => h('tr', { 'data-tok': i }, h('th', { scope: 'row', text: t }), cols.map(([, m]) => h('td', { text: fmt(m.data[i], 3) }))))))));
}

export function render(trace, state, ctx) {
  const layer = layerOf(trace, state);
  const labels = labelsOf(trace);
  // E, ΔE and E′ share one colour scale (E + ΔE = E′ reads off directly); the MLP's much larger numbers get their own.
  const dom = maxAbs(layer.input, layer.delta, layer.updated);
  const parts = [legMaps(trace, state, ctx), turnTable(trace, state)];
  const strips = [
    heatStrips({ m: layer.input, labels, domain: dom, caption: 'input E', title: 'E entering the layer' }),
    heatStrips({ m: layer.delta, labels, domain: dom, caption: 'delta ΔE', title: 'ΔE from attention' }),
    heatStrips({ m: layer.updated, labels, domain: dom, caption: 'updated E + ΔE', title: 'E + ΔE' }),
  ];
  if (layer.mlp) {
    const mdom = maxAbs(layer.mlp.out, layer.output);
    strips.push(heatStrips({ m: layer.mlp.out, labels, domain: mdom, caption: 'mlp.out', title: 'MLP output, added to E + ΔE (its own colour scale)' }));
    strips.push(heatStrips({ m: layer.output, labels, domain: mdom, caption: 'output E′', title: 'Layer output E′ = E + ΔE + MLP(E + ΔE)' }));
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
  tables.push(table('map before', L === 0 ? trace.map.embeddings : trace.map.layers[L - 1], labels, ['x', 'y']), table('map after attention', trace.map.updated[L], labels, ['x', 'y']),
    table('map after', trace.map.layers[L], labels, ['x', 'y']), table('cos_updated', layer.cos_updated, labels, ['cos(E, E + ΔE)']), table('cos_output', layer.cos_output, labels, ['cos(E + ΔE, E′)']));
  return { tables };
}
