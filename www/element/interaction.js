// Hover, focus and keys in an <attention-explorer>'s view, and the detail panel they fill: a token lights
// up everywhere it is drawn, a cell of a T×T grid shows its arithmetic (the step's cellDetails), ←/→ move
// between steps and the arrow keys move the cursor over a focused grid. Each function takes the element.

import { h, highlighterOf } from '../draw.js';
import { stepById } from '../steps/index.js';

/** The delegated listeners on the element's frame (`root`, built by controls.js) and its view. */
export function wireView(el, root, view) {
  root.addEventListener('pointerover', (e) => onPointer(el, e));
  root.addEventListener('focusin', (e) => onPointer(el, e));
  root.addEventListener('keydown', (e) => onKey(el, e));
  root.addEventListener('ae-value', (e) => { highlight(el, e.detail.tok); showDetail(el, [h('p', { text: e.detail.text })]); });
  root.addEventListener('ae-token', (e) => highlight(el, e.detail.tok));
  root.addEventListener('ae-cell', (e) => {
    const origin = e.composedPath()[0];
    if (origin.closest('.baseline')) { highlight(el, e.detail.q); return; } // the comparison grid has no arithmetic panel
    const section = origin.closest('section');
    const c = el._cell;
    if (!c || c.section !== section || c.q !== e.detail.q || c.k !== e.detail.k) focusCell(el, section, e.detail.q, e.detail.k);
  });
  view.addEventListener('pointerleave', () => highlight(el, null));
}

/** Replaces the detail panel's content (there is no panel with controls="none"). */
export function showDetail(el, nodes) {
  if (el._built && el.controls !== 'none') el._built.detail.replaceChildren(...nodes);
}

function onPointer(el, e) {
  const target = e.composedPath()[0];
  if (!(target instanceof Element)) return;
  const cell = target.closest('[data-cell]');
  if (cell) {
    const [q, k] = cell.getAttribute('data-cell').split(',').map(Number);
    focusCell(el, cell.closest('section'), q, k);
    return;
  }
  const tokEl = target.closest('[data-tok],[data-q],[data-k]');
  if (tokEl) highlight(el, Number(tokEl.getAttribute('data-tok') ?? tokEl.getAttribute('data-q') ?? tokEl.getAttribute('data-k')));
}

function focusCell(el, section, q, k) {
  if (!section) return;
  const m = stepById(section.dataset.step);
  el._cell = { section, q, k };
  const grid = section.querySelector('.grid:not(.baseline .grid)');
  if (grid && grid.__cursor) grid.__cursor(q, k);
  highlight(el, q);
  if (m.cellDetails) showDetail(el, m.cellDetails(el._trace, el._stepState(), q, k));
}

/** Lights token i (or nothing) in every view: labels, rows, columns, strips, arrows, chips. */
function highlight(el, i) {
  if (el._hl === i) return;
  el._hl = i;
  const view = el._built.view;
  for (const x of view.querySelectorAll('.hl')) x.classList.remove('hl');
  if (i !== null && Number.isFinite(i)) for (const x of view.querySelectorAll(`[data-tok="${i}"],[data-q="${i}"],[data-k="${i}"]`)) x.classList.add('hl');
  for (const fig of view.querySelectorAll('figure')) {
    const f = highlighterOf(fig);
    if (f) f(i);
  }
}

const MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], Home: [0, -Infinity], End: [0, Infinity] };

function onKey(el, e) {
  const target = e.composedPath()[0];
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  if (target instanceof Element && target.matches('canvas.grid')) {
    moveCursor(el, e, target);
    return;
  }
  if (target instanceof Element && target.matches('input, textarea, select')) return;
  if (e.key === 'ArrowRight') { e.preventDefault(); el.next(); }
  else if (e.key === 'ArrowLeft') { e.preventDefault(); el.previous(); }
}

/** The arrow keys on a focused grid: the first press selects cell (0, 0), later ones move (rows and columns as drawn). */
function moveCursor(el, e, canvas) {
  const move = MOVES[e.key];
  if (!move) return;
  e.preventDefault();
  const { T, transpose } = canvas.__grid;
  const section = canvas.closest('section');
  const here = el._cell && el._cell.section === section;
  let { q, k } = here ? el._cell : { q: 0, k: 0 };
  let [a, b] = transpose ? [k, q] : [q, k];
  if (here) {
    a = Math.max(0, Math.min(T - 1, a + move[0]));
    b = Math.max(0, Math.min(T - 1, b + move[1]));
  }
  [q, k] = transpose ? [b, a] : [a, b];
  focusCell(el, section, q, k);
}
