// The head gallery: every head of the large model (30 layers × 9 heads for SmolLM2-135M) as a small
// map of its weights on the current text (the summary's thumbnails: the weights themselves up to 24
// tokens, max-pooled beyond), each labelled with the name its numbers give it on this text
// (llm/names.js). Clicking a head opens it in the walkthrough.

import { h, scale, fmt } from '../draw.js';
import { nameOf } from './names.js';

const SEQ = scale('seq', 0, 1);
const CELL = 48; // CSS pixels per thumbnail side

/** Heads drawn per task: the gallery is redrawn in slices so that no task keeps the page busy for long
 * (all 270 at once took ~50 ms of script and as much of layout in Chromium). */
const SLICE = 30;

/** Draws a thumbnail ({ shape: [s, s], data }) into a canvas of s×s pixels (CSS scales it up). */
function paint(canvas, m) {
  const s = m.shape[0];
  if (canvas.width !== s) { canvas.width = s; canvas.height = s; }
  const g = canvas.getContext('2d');
  if (!g) return;
  const img = g.createImageData(s, s);
  const px = new Uint32Array(img.data.buffer);
  for (let i = 0; i < s * s; i++) px[i] = SEQ.px(m.data[i]);
  g.putImageData(img, 0, 0);
}

/** `onOpen(layer, head)` runs when a head is clicked. */
export function buildGallery(onOpen) {
  const grid = h('div', { class: 'llm-gallery', role: 'list', 'aria-label': 'Every head of the model' });
  const root = h('section', { class: 'llm-gallery-wrap', 'aria-labelledby': 'llm-gallery-title' },
    h('h3', { id: 'llm-gallery-title', text: 'The head gallery' }),
    h('p', { class: 'llm-gallery-note' }),
    grid);
  let cells = [];
  let selected = null;
  let drawing = 0; // the redraw in progress (a newer one stops it)
  const set = (node, key, value) => { if (node[key] !== value) node[key] = value; };

  const build = (summary) => {
    cells = summary.heads.map((x) => {
      const canvas = h('canvas', { class: 'llm-thumb', width: 1, height: 1, 'aria-hidden': 'true' });
      canvas.style.width = `${CELL}px`;
      canvas.style.height = `${CELL}px`;
      const label = h('span', { class: 'llm-head-id' });
      const name = h('span', { class: 'llm-head-name' });
      const pressed = String(selected !== null && selected.layer === x.layer && selected.head === x.head);
      const b = h('button', { type: 'button', class: 'llm-head', role: 'listitem', 'data-layer': x.layer, 'data-head': x.head, 'aria-pressed': pressed }, canvas, label, name);
      b.addEventListener('click', () => onOpen(x.layer, x.head));
      return { b, canvas, label, name };
    });
    grid.replaceChildren(...cells.map((c) => c.b));
  };

  return {
    root,
    /** Redraws every head for a new summary (of analysis `gen`), SLICE heads per task; when all are
     * drawn the grid's data-gen says which analysis it shows. */
    update(summary, info, gen) {
      const c = info.config;
      if (cells.length !== summary.heads.length) build(summary);
      grid.style.setProperty('--llm-cols', String(c.n_heads));
      const counts = new Map();
      for (const x of summary.heads) { const n = nameOf(x).name; counts.set(n, (counts.get(n) ?? 0) + 1); }
      const mine = ++drawing;
      const slice = (from) => {
        if (mine !== drawing) return;
        for (let i = from; i < Math.min(from + SLICE, summary.heads.length); i++) {
          const x = summary.heads[i], cell = cells[i], n = nameOf(x);
          paint(cell.canvas, x.thumbnail);
          set(cell.label, 'textContent', `L${x.layer + 1} H${x.head + 1}`);
          set(cell.name, 'textContent', n.value === null ? n.name : `${n.name} ${fmt(n.value, 2)}`);
          if (cell.b.dataset.name !== n.name) cell.b.dataset.name = n.name;
          const label = `layer ${x.layer + 1}, head ${x.head + 1} (key/value head ${x.kv_head + 1}): ${n.name}${n.value === null ? '' : ` (${n.key} ${fmt(n.value, 2)})`}. Open it in the walkthrough.`;
          if (cell.b.getAttribute('aria-label') !== label) cell.b.setAttribute('aria-label', label);
        }
        if (from + SLICE < summary.heads.length) setTimeout(() => slice(from + SLICE), 0);
        else grid.dataset.gen = String(gen);
      };
      delete grid.dataset.gen;
      slice(0);
      const T = summary.tokens.length, s = summary.heads[0] ? summary.heads[0].thumbnail.shape[0] : 0;
      const tally = [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} ${k}`).join(', ');
      root.querySelector('.llm-gallery-note').textContent = `All ${summary.heads.length} heads (${c.n_layers} layers × ${c.n_heads} heads, one row per layer), each drawn as its attention weights on this text of ${T} tokens` +
        `${s < T ? ` (max-pooled to ${s}×${s})` : ''}. The names are measured live on this text, not on held-out text, by the rules below the gallery: ${tally}. ` +
        'Try the repeated example to light up the induction heads. Click a head to open it.';
    },
    /** Marks the head the walkthrough shows. */
    select(layer, head) {
      selected = { layer, head };
      for (const cell of cells) {
        const pressed = String(Number(cell.b.dataset.layer) === layer && Number(cell.b.dataset.head) === head);
        if (cell.b.getAttribute('aria-pressed') !== pressed) cell.b.setAttribute('aria-pressed', pressed);
      }
    },
  };
}
