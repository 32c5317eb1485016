// Compare mode: one token in two sentences side by side ("bank" in "river bank" and in "bank account"): its
// attention row in each (the focused layer and head), its vector on the one shared projection after every
// sub-step, its nearest vocabulary tokens, and the cosine between the two contexts after each sub-step (the
// engine's comparison). Drawing only: every number is from the two traces or the comparison.

import { h, s, fmt } from '../draw.js';
import { pathsMap } from '../map-paths.js';
import { quote } from '../steps/common.js';
import { word, wordAt, visibleKeys, cell, isStart } from '../tour/facts.js';
import { headName } from '../heads.js';
import { secondText } from './modes.js';
import { withTerms } from './glossary.js';

const sentenceOf = (trace) => trace.tokens.filter((t, i) => !isStart(trace, i)).map((t) => t.text).join('').trim();

/** The compare view for the element's two traces (el._trace, el._other) and their comparison. */
export function compareView(el) {
  const a = el._trace, b = el._other, pair = el._pair, cmp = el._comparison;
  const heading = h('h2', { id: 'ae-h-compare' }, pair ? `Compare: ${word(a, pair[0])} in two sentences` : 'Compare two sentences');
  const section = h('section', { class: 'step compare', 'data-step': el.step, 'aria-labelledby': 'ae-h-compare' }, heading);
  if (!b || !pair || !cmp) {
    const why = !b ? `the second sentence cannot be analysed${el._otherError ? `: ${el._otherError}` : ''}` : 'the two sentences share no token: give the second sentence a word of the first';
    section.append(h('div', { class: 'error', role: 'alert' }, h('p', { text: `Nothing to compare: ${why}.` })));
    return section;
  }
  const [i, j] = pair;
  const L = el.layer, H = el.head, name = headName(el._engine.info, L, H);
  const where = `${a.config.n_layers > 1 ? `layer ${L + 1}, ` : ''}head ${H + 1}${name ? ` (‘${name}’)` : ''}`;
  section.append(
    h('p', { class: 'math', text: 'cos(x₁, x₂) = x₁·x₂ / (|x₁| |x₂|), after each sub-step' }),
    h('div', { class: 'explain' },
      h('p', {}, withTerms(`The same token starts from the same row of the lookup table in both sentences. Each layer’s attention mixes in what its own sentence says, so the two vectors can drift apart (their cosine similarity falls from 1); the MLP then moves both again. The map shows both on the one fixed projection (two principal components); the table says how alike they are after each sub-step.`, new Set())),
      h('p', { text: `Attention rows: ${where}, the weights ${word(a, i)} gives the tokens it can see (the five largest). Pick another layer or head above, or another shared token.` })),
    h('div', { class: 'compare-body' },
      h('div', { class: 'compare-cols' }, column(a, i, L, H, 'sentence 1', 'path-a'), column(b, j, L, H, 'sentence 2', 'path-b')),
      h('div', { class: 'figs' }, sharedMap(el, a, b, i, j), cosineTable(a, cmp)),
      neighbourTable(a, b, i, j)));
  return section;
}

/** One sentence: its tokens (the compared one marked) and the compared token's five largest weights. */
function column(trace, i, L, H, label, cls) {
  const hd = trace.layers[L].heads[H];
  const keys = visibleKeys(hd, i).sort((x, y) => cell(hd.weights, i, y) - cell(hd.weights, i, x)).slice(0, 5);
  const rh = 22, lw = 120, bw = 150, W = lw + bw + 50;
  const svg = s('svg', { class: 'bars row-bars', width: W, height: keys.length * rh + 6, viewBox: `0 0 ${W} ${keys.length * rh + 6}`, role: 'img',
    'aria-label': `${label}: the five largest attention weights of ${word(trace, i)}: ${keys.map((k) => `${word(trace, k)} ${fmt(cell(hd.weights, i, k))}`).join(', ')}` });
  keys.forEach((k, r) => {
    const v = cell(hd.weights, i, k), y = 3 + r * rh;
    svg.append(s('text', { x: lw - 8, y: y + rh / 2 + 3, 'text-anchor': 'end', class: 'label', text: wordAt(trace, k) }),
      s('rect', { x: lw, y: y + 3, width: Math.max(1, v * bw), height: rh - 8, class: `bar ${cls}` }),
      s('text', { x: lw + v * bw + 6, y: y + rh / 2 + 3, class: 'num-out', text: fmt(v) }));
  });
  const words = trace.tokens.map((t, n) => h('span', { class: n === i ? 'ctok marked' : 'ctok', text: t.text }));
  return h('figure', { class: `figure compare-col ${cls}` },
    h('div', { class: 'fig-title', text: `${label}: “${sentenceOf(trace)}”` }),
    h('p', { class: 'compare-sentence' }, words),
    h('div', { class: 'scroll' }, svg));
}

/** Both tokens' paths on the fixed projection: E, then each layer's E + ΔE and E′. */
function sharedMap(el, a, b, i, j) {
  const stages = ['E'];
  const pts = (t, k) => {
    const out = [[t.map.embeddings.data[2 * k], t.map.embeddings.data[2 * k + 1]]];
    t.layers.forEach((_, l) => out.push([t.map.updated[l].data[2 * k], t.map.updated[l].data[2 * k + 1]], [t.map.layers[l].data[2 * k], t.map.layers[l].data[2 * k + 1]]));
    return out;
  };
  const legs = [];
  a.layers.forEach((_, l) => {
    stages.push(`layer ${l + 1} E + ΔE`, `layer ${l + 1} E′`);
    legs.push({ name: `layer ${l + 1} attention`, cls: 'leg-attn' }, { name: `layer ${l + 1} MLP`, cls: 'leg-mlp' });
  });
  return pathsMap({ paths: [{ label: `${word(a, i)} 1`, tok: i, cls: 'path-a', points: pts(a, i) }, { label: `${word(b, j)} 2`, tok: j, cls: 'path-b', points: pts(b, j) }],
    legs, stages, caption: `${word(a, i)} in both sentences`, keys: [{ name: `sentence 1: “${sentenceOf(a)}”`, cls: 'path-a' }, { name: `sentence 2: “${sentenceOf(b)}”`, cls: 'path-b' }],
    note: 'Solid: attention’s move; dashed: the MLP’s. Each axis fitted to these points.', background: el._engine.vocabMap(300) });
}

/** The cosine between the two contexts after each sub-step, with a bar. */
function cosineTable(a, cmp) {
  const stageName = (st) => (st.name === 'embeddings' ? 'E (the lookup row' + (a.position_embeddings ? ' + position' : '') + ')'
    : st.name === 'updated' ? `layer ${st.layer + 1}: after attention (E + ΔE)` : `layer ${st.layer + 1}: after the MLP (E′)`);
  const bar = (v) => s('svg', { width: 104, height: 12, 'aria-hidden': 'true', class: 'cos-bar' }, s('rect', { x: 2, y: 2, width: 100, height: 8, class: 'cos-track' }),
    s('rect', { x: 2, y: 2, width: Math.max(0, Math.min(1, v)) * 100, height: 8, class: 'cos-fill' }));
  return h('figure', { class: 'figure' },
    h('div', { class: 'fig-title', text: `How alike the two ${word(a, cmp.positions[0])}s are: the cosine of their vectors after each sub-step` }),
    h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'cosine between the two contexts after each sub-step' }, h('table', { class: 'cosines' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'after' }), h('th', { scope: 'col', text: 'cosine' }), h('th', { scope: 'col', text: '' }))),
      h('tbody', {}, cmp.stages.map((st) => h('tr', { 'data-stage': `${st.name}${st.layer ?? ''}` }, h('th', { scope: 'row', text: stageName(st) }), h('td', { text: fmt(st.cosine, 3) }), h('td', {}, bar(st.cosine))))))));
}

/** The compared token's nearest vocabulary tokens, before the layers and after the last, in each sentence. */
function neighbourTable(a, b, i, j) {
  if (!a.neighbours || !b.neighbours) return null;
  const list = (ns) => ns.slice(0, 6).map((n) => `${quote(n.text)} ${fmt(n.similarity)}`).join(', ');
  return h('figure', { class: 'figure' },
    h('div', { class: 'fig-title', text: 'Nearest vocabulary tokens (cosine with their embedding rows, from the mean embedding)' }),
    h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'nearest vocabulary tokens in each sentence' }, h('table', { class: 'neighbours' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '' }), h('th', { scope: 'col', text: 'sentence 1' }), h('th', { scope: 'col', text: 'sentence 2' }))),
      h('tbody', {},
        h('tr', {}, h('th', { scope: 'row', text: 'nearest to E' }), h('td', { text: list(a.neighbours.before[i]) }), h('td', { text: list(b.neighbours.before[j]) })),
        h('tr', {}, h('th', { scope: 'row', text: 'nearest to the final E′' }), h('td', { text: list(a.neighbours.after[i]) }), h('td', { text: list(b.neighbours.after[j]) }))))));
}

/** The second sentence's box and the token picker (full controls), shown while comparing. */
export function buildCompareBox(el, b) {
  b.compareText = h('input', { type: 'text', id: 'ae-compare', class: 'compare-text', maxlength: 4000, spellcheck: 'false', on: { input: (e) => { el.compare = e.target.value; } } });
  b.compareToken = h('select', { class: 'compare-token', 'aria-label': 'the token to compare', on: { change: (e) => { el.highlight = `#${e.target.value}`; } } });
  b.compareBox = h('div', { class: 'compare-box' }, h('label', { for: 'ae-compare', text: 'Second sentence' }), b.compareText,
    h('label', { class: 'toggle' }, 'compare ', b.compareToken));
  return b.compareBox;
}

/** Keeps the second sentence's box and the token picker in line with the element. */
export function updateCompareBox(el, shown) {
  const b = el._built;
  if (!b.compareBox) return;
  b.compareBox.hidden = !shown;
  if (!shown) return;
  const text = secondText(el);
  if (b.compareText.value !== text) b.compareText.value = text;
  const a = el._trace, other = el._other;
  const shared = a && other ? a.tokens.map((t, n) => n).filter((n) => !isStart(a, n) && other.tokens.some((u) => u.id === a.tokens[n].id)) : [];
  const key = shared.map((n) => `${n}:${a.tokens[n].id}`).join(' ');
  if (b.compareToken.dataset.key !== key) {
    b.compareToken.replaceChildren(...shared.map((n) => h('option', { value: n, text: `${wordAt(a, n)}` })));
    b.compareToken.dataset.key = key;
  }
  if (el._pair) b.compareToken.value = String(el._pair[0]);
}
