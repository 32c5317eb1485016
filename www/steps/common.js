// What the step modules share: reading the focused layer/head out of a trace, the T×T attention views
// (grid or lines) and the tables their numbers export as. Every step module exports
//   id, title, math, scope ('model' | 'layer' | 'head'),
//   explain(trace, state) → paragraphs (strings), render(trace, state, ctx) → Element,
//   data(trace, state) → { tables: [{ name, rowLabels, colLabels, values: Float32Array, rows, cols }] },
// and optionally cellDetails(trace, state, q, k) → lines for the arithmetic panel, and tokenPairs = true
// for the T×T steps (their grid | lines and transpose controls). Numbers derived from the trace's matrices
// (row maxima and sums) come from engine-numbers.js, never from arithmetic here.

import { h, heatStrips, linesView, maxAbs, fmt, fmt4, at, rows, cols } from '../draw.js';
import { heatGrid } from '../heat-grid.js';
import { softmaxRow, weightsRowSums, scoreDivisor, rowMaxima } from './engine-numbers.js';

export const labelsOf = (trace) => trace.tokens.map((t) => t.text);
export const layerOf = (trace, state) => trace.layers[state.layer];
export const headOf = (trace, state) => trace.layers[state.layer].heads[state.head];
export const quote = (t) => `‘${t}’`;

/** "layer 1 of 2, head 3 of 4" in words, for titles and captions. */
export function where(trace, state, withHead = true) {
  const c = trace.config;
  const parts = [];
  if (c.n_layers > 1) parts.push(`layer ${state.layer + 1} of ${c.n_layers}`);
  if (withHead) parts.push(`head ${state.head + 1} of ${c.n_heads}`);
  return parts.join(', ');
}

/** A matrix as an exportable table. */
export function table(name, m, rowLabels, colLabels) {
  return { name, rows: rows(m), cols: cols(m), values: m.data, rowLabels, colLabels: colLabels ?? Array.from({ length: cols(m) }, (_, j) => `dim ${j}`) };
}

/** The T×T views (scores, scaled, masked, weights): a numbered heat grid, or the lines view. `relative`
 * colours each row by its distance below the row's max (printed beside the grid): softmax ignores what a
 * row adds to every entry, so only these differences matter. `rowSums` adds the Σ of the weights. */
export function attentionView(trace, state, name, { kind, domain, rowSums = false, relative = false, legendLabel }, ctx = {}) {
  const head = headOf(trace, state);
  const m = head[name];
  const labels = labelsOf(trace);
  const caption = `${name} (${where(trace, state)})`;
  if (state.view === 'lines') return linesView({ m, labels, caption, transpose: state.transpose, maskedBy: head.masked, kind, domain: domain ?? maxAbs(m) });
  const maxima = relative ? rowMaxima(head, name) : null;
  const side = rowSums ? { names: ['Σ row', 'Σ col'], values: weightsRowSums(head) } : maxima ? { names: ['row max', 'col max'], values: maxima } : null;
  return heatGrid({ m, labels, kind, caption, transpose: state.transpose, maskedBy: name === 'scores' || name === 'scaled' ? null : head.masked,
    domain: kind === 'seq' ? [0, 1] : [-(domain ?? maxAbs(m)), domain ?? maxAbs(m)], side, relative: maxima, legendLabel, colours: ctx.colours });
}

/** The legend of a row-relative grid, in the words of the axes as drawn. */
export const relativeLegend = (what, state) => `${what}: colour = how far below the largest in its ${state.transpose ? 'column' : 'row'} (that largest is printed at the ${state.transpose ? 'bottom' : 'right'})`;

/** The paragraph every row-relative grid shares: only differences within a row matter. */
export function withinRow(state) {
  const row = state.transpose ? 'column' : 'row';
  return `Only differences within a ${row} matter: softmax ignores anything a ${row} adds to every one of its entries (e^(x+c) / Σ e^(x+c) = e^x / Σ e^x). So each ${row} is coloured by how far every entry lies below the ${row}’s own largest, printed at the ${state.transpose ? 'bottom' : 'right'}: the brightest cell of a ${row} is the key that ${row}’s query will weigh most, even when all its numbers are negative.`;
}

/** q·k written out as the sum of its products (the real components of this head's q and k; the
 * rotated ones in a model with rotary positions, which are what the scores use). */
export function dotProductLines(trace, state, q, k) {
  const head = headOf(trace, state);
  const labels = labelsOf(trace);
  const [Q, K] = head.rotated_queries ? [head.rotated_queries, head.rotated_keys] : [head.queries, head.keys];
  const dh = cols(Q);
  const terms = [];
  for (let d = 0; d < dh; d++) terms.push(`${fmt(at(Q, q, d))}×${fmt(at(K, k, d))}`);
  return [
    h('p', {}, h('strong', { text: `score(query ${quote(labels[q])} #${q}, key ${quote(labels[k])} #${k})` }), ` = q·k${head.rotated_queries ? ' (both rotated)' : ''}, a sum of ${dh} products:`),
    h('p', { class: 'terms', text: terms.join(' + ') }),
    h('p', { text: `= ${fmt4(at(head.scores, q, k))}` }),
  ];
}

export function scaledLine(trace, state, q, k) {
  const head = headOf(trace, state);
  const dh = trace.config.d_head;
  if (!trace.options.scale) return h('p', { text: `Scaling is switched off: scaled = score = ${fmt4(at(head.scaled, q, k))}` });
  return h('p', { text: `÷ √d_head = ${fmt4(at(head.scores, q, k))} ÷ √${dh} (${fmt4(scoreDivisor(trace))}) = ${fmt4(at(head.scaled, q, k))}` });
}

export function maskLine(trace, state, q, k) {
  const head = headOf(trace, state);
  if (at(head.masked, q, k) === -Infinity) return h('p', { text: `Key #${k} comes after query #${q}: the causal mask sets it to −∞ (so its weight will be exactly 0).` });
  return h('p', { text: trace.options.causal ? `Key #${k} is not after query #${q}: the mask leaves it as it is (${fmt4(at(head.masked, q, k))}).` : `The causal mask is switched off: every key stays visible (${fmt4(at(head.masked, q, k))}).` });
}

/** The softmax of one entry, with its row's max and Σ exp (engine-numbers.js). */
export function softmaxLines(trace, state, q, k) {
  const head = headOf(trace, state);
  const { max, sumExp, exp } = softmaxRow(head, q);
  return [
    h('p', { text: `softmax over row #${q}: exp(x − max) with max = ${fmt4(max)}; masked entries give exp(−∞) = 0.` }),
    h('p', { text: `exp(${fmt4(at(head.masked, q, k))} − ${fmt4(max)}) = ${fmt4(exp(k))};  Σ over the row = ${fmt4(sumExp)}` }),
    h('p', {}, h('strong', { text: `weight = ${fmt4(exp(k))} ÷ ${fmt4(sumExp)} = ${fmt4(at(head.weights, q, k))}` })),
  ];
}

/** Paragraph explaining T×T shapes with the real sizes, in the words of the axes as drawn. */
export const gridShape = (trace, state = {}) => `Shape: ${trace.tokens.length} × ${trace.tokens.length} (${state.transpose
  ? 'drawn with one column per query token and one row per key token: queries as columns' : 'one row per query token, one column per key token'}).`;

/** The per-head vector steps (queries, keys, values): the normalised input and this head's matrix. */
export function vectorStep(name, letter, lead) {
  return {
    explain(trace) {
      const c = trace.config;
      return [
        `${lead} Each head has its own learned matrix W_${letter} (${c.d_model} × ${c.d_head}); the token vectors are first normalised (layer norm), then multiplied by it.`,
        `Shape per head: ${trace.tokens.length} × ${c.d_head} (one row per token, d_head = ${c.d_head} numbers). With ${c.n_heads} heads, each can look for a different kind of relation between tokens.`,
      ];
    },
    render(trace, state) {
      const labels = labelsOf(trace);
      return h('div', { class: 'figs' },
        heatStrips({ m: layerOf(trace, state).normed, labels, caption: 'normed = norm(E)', title: `Input: the normalised token vectors norm(E)${trace.config.n_layers > 1 ? ` entering ${where(trace, state, false)}` : ''}` }),
        heatStrips({ m: headOf(trace, state)[name], labels, caption: `${name} (${where(trace, state)})`, title: `${letter} = norm(E) · W_${letter}, ${where(trace, state)}` }));
    },
    data(trace, state) {
      const labels = labelsOf(trace);
      return { tables: [table('normed', layerOf(trace, state).normed, labels), table(name, headOf(trace, state)[name], labels)] };
    },
  };
}
