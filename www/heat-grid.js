// The T×T heat grid with numbers: drawn on a canvas on screen, as SVG for export. Row = query, column =
// key (or the transpose). Cells masked by the causal mask are hatched. Every exported cell carries
// data-cell="q,k"; the canvas reports the cell or token under the pointer with `ae-cell` / `ae-token` events.
// Like draw.js, it computes no model math: the numbers (and the Σ column's row sums) come from the trace.

import { h, s, at, rows, maxAbs, fmt, scale, ink, uid, legend, stackSvg, registerExport, registerHighlight, matrixTable, tokenLabel, textWidth, scrollBox }
  from './draw.js';

function gridLayout(o) {
  const { m, labels, kind, transpose = false, side = null, relative = null } = o;
  const T = rows(m);
  const [lo, hi] = relative ? [-relativeSpan(m, relative), 0] : o.domain ?? (kind === 'div' ? [-maxAbs(m), maxAbs(m)] : [0, 1]);
  const sc = scale(relative ? 'seq' : kind, lo, hi);
  const c = T > 40 ? 22 : T > 24 ? 28 : 34;
  const font = c >= 34 ? 10 : c >= 28 ? 9 : 7.5;
  const lab = labels.map((t) => tokenLabel(t));
  const longest = Math.max(...lab.map((l) => textWidth(l, 11)), 20);
  const lw = Math.min(110, longest) + 26;
  const top = Math.min(90, longest * 0.75) + 30;
  // the side numbers (Σ or max of each row): a column at the right, or a row below when queries are columns
  const extra = side && !transpose ? c + 18 : 0, below = side && transpose ? c + 6 : 0;
  return { T, sc, c, font, lab, lw, top, extra, below, W: lw + T * c + extra + 10, H: top + T * c + below + 10,
    rowTitle: transpose ? 'keys (looked at)' : 'queries (looking)', colTitle: transpose ? 'queries (looking)' : 'keys (looked at)' };
}

/** The largest distance below its row's max of any finite entry (the relative colour scale's span). */
function relativeSpan(m, rowMax) {
  const [R, C] = m.shape;
  let span = 0;
  for (let q = 0; q < R; q++) {
    for (let k = 0; k < C; k++) {
      const v = m.data[q * C + k];
      if (Number.isFinite(v) && rowMax[q] - v > span) span = rowMax[q] - v;
    }
  }
  return span || 1;
}

/** The value a cell is coloured by: itself, or (relative colouring) its distance below its row's max. */
const colourValue = (o, q, v) => (o.relative ? v - o.relative[q] : v);

/** Diagonal hatching for masked cells, as a repeating canvas pattern. */
function hatchPattern(g, colours) {
  const tile = document.createElement('canvas');
  tile.width = 6; tile.height = 6;
  const t = tile.getContext('2d');
  t.fillStyle = colours.maskBg; t.fillRect(0, 0, 6, 6);
  t.strokeStyle = colours.maskLine; t.lineWidth = 1.5;
  t.beginPath(); t.moveTo(-1, 7); t.lineTo(7, -1); t.moveTo(-1, 1); t.lineTo(1, -1); t.moveTo(5, 7); t.lineTo(7, 5); t.stroke();
  return g.createPattern(tile, 'repeat');
}

/** Is cell (q, k) masked? By the masked matrix when given, else by its own −∞. */
const isMaskedCell = (o, q, k) => (o.maskedBy ? at(o.maskedBy, q, k) === -Infinity : at(o.m, q, k) === -Infinity);

/** The SVG form of the grid (for export; the screen draws the same layout on a canvas). */
export function heatGridSvg(o) {
  const { m, labels, transpose = false, side = null } = o;
  const { T, sc, c, font, lab, lw, top, W, H, rowTitle, colTitle } = gridLayout(o);
  const hatch = uid('hatch');
  const svg = s('svg', { class: 'grid', width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  svg.append(s('defs', {}, s('pattern', { id: hatch, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
    s('rect', { width: 6, height: 6, class: 'mask-bg' }), s('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'mask-line', 'stroke-width': 2 }))));
  svg.append(s('text', { x: lw + (T * c) / 2, y: 12, 'text-anchor': 'middle', class: 'axis-title', text: `${colTitle} →` }));
  svg.append(s('text', { x: 12, y: top + (T * c) / 2, 'text-anchor': 'middle', class: 'axis-title', transform: `rotate(-90 12 ${top + (T * c) / 2})`, text: `${rowTitle} →` }));
  for (let a = 0; a < T; a++) {
    svg.append(s('text', { x: lw - 6, y: top + a * c + c / 2 + 4, 'text-anchor': 'end', class: 'label', text: lab[a] }, s('title', { text: labels[a] })));
    const x = lw + a * c + c / 2, y = top - 6;
    svg.append(s('text', { x, y, class: 'label', transform: `rotate(-50 ${x} ${y})`, text: lab[a] }, s('title', { text: labels[a] })));
  }
  for (let a = 0; a < T; a++) {
    for (let b = 0; b < T; b++) {
      const q = transpose ? b : a, k = transpose ? a : b;
      const v = at(m, q, k);
      const masked = isMaskedCell(o, q, k);
      const x = lw + b * c, y = top + a * c;
      const cv = colourValue(o, q, v), rgb = sc.rgb(cv);
      svg.append(s('rect', { x, y, width: c - 1, height: c - 1, 'data-cell': `${q},${k}`, class: masked ? 'cell masked' : 'cell', fill: masked ? `url(#${hatch})` : sc.css(cv) }));
      svg.append(s('text', { x: x + (c - 1) / 2, y: y + c / 2 + font / 3, 'text-anchor': 'middle', 'font-size': font, class: masked ? 'num masked' : 'num', fill: masked ? null : ink(rgb), text: fmt(v) }));
    }
  }
  if (side) {
    const name = side.names[transpose ? 1 : 0];
    for (let a = 0; a < T; a++) {
      const [x, y] = transpose ? [lw + a * c + c / 2, top + T * c + c / 2 + 4] : [lw + T * c + 10 + c / 2, top + a * c + c / 2 + font / 3];
      svg.append(s('text', { x, y, 'text-anchor': 'middle', 'font-size': font, class: 'num sum', text: fmt(side.values[a]) }));
    }
    svg.append(transpose ? s('text', { x: lw - 6, y: top + T * c + c / 2 + 4, 'text-anchor': 'end', class: 'label', text: name })
      : s('text', { x: lw + T * c + 10 + c / 2, y: top - 6, 'text-anchor': 'middle', class: 'label', text: name }));
  }
  return svg;
}

const DEFAULT_COLOURS = { fg: '#1d1d1f', muted: '#5d6168', accent: '#b4440f', focus: '#0b57d0', maskBg: '#e9eaee', maskLine: '#9aa0a8' };

/**
 * The T×T heat grid with numbers, drawn on a canvas (a 32×32 grid is 2 048 SVG nodes to lay out on every
 * keystroke; a canvas draws it in about a millisecond). Row = query, column = key (or the transpose);
 * masked cells are hatched; `side` ({ names: [as a column, as a row], values }: the Σ or the max of each
 * row, numbers of the trace)
 * adds a column of them (a row below, transposed); `relative` (each row's max) colours every cell by its
 * distance below its row's max instead of by its value, the only thing softmax sees. Pointer and
 * keyboard: the canvas reports cells with an `ae-cell` event and token labels with `ae-token`;
 * `__cursor(q, k)` and the registered highlighter redraw its overlays.
 */
export function heatGrid(o) {
  const { m, labels, caption, transpose = false } = o;
  const L = gridLayout(o);
  const { T, sc, lw, top, c, W, H, rowTitle, colTitle } = L;
  const dpr = Math.min(2, Math.max(1, globalThis.devicePixelRatio || 1));
  const canvas = h('canvas', { class: 'grid', width: Math.round(W * dpr), height: Math.round(H * dpr), tabindex: 0, role: 'img',
    'aria-label': `${caption}: a ${T} by ${T} grid, rows are ${rowTitle}, columns are ${colTitle}. Use the arrow keys to move between cells; the numbers are also in the table below.` });
  canvas.style.width = `${W}px`; // CSSOM (not a style attribute): allowed under a strict style-src
  canvas.style.height = `${H}px`;
  const cells = gridCells(o, L);
  const overlay = { hl: null, cur: null, mark: null };
  const draw = gridPainter(canvas, L, cells, { colours: o.colours ?? DEFAULT_COLOURS, dpr, transpose, overlay });
  canvas.addEventListener('pointermove', (e) => reportGridPointer(canvas, L, transpose, e));
  canvas.__cursor = (q, k) => { overlay.cur = q === null ? null : { q, k }; draw(); revealCell(canvas, L, transpose, q, k); };
  /** Marks cell (q, k) for good (the tour's answer, a `highlight` attribute); null clears it. */
  canvas.__mark = (q, k) => { overlay.mark = q === null ? null : { q, k }; canvas.__grid.mark = overlay.mark; draw(); revealCell(canvas, L, transpose, q, k); };
  canvas.__grid = { T, transpose, mark: null };
  /** Where cell (q, k) is, in CSS pixels from the canvas' top-left corner (for tests). */
  canvas.__cellCenter = (q, k) => { const a = transpose ? k : q, b = transpose ? q : k; return { x: lw + b * c + c / 2, y: top + a * c + c / 2 }; };
  draw();
  const fig = h('figure', { class: 'figure' }, scrollBox(canvas, caption, { focusable: false }),
    h('figcaption', {}, legend(sc, o.legendLabel ?? caption), cells.masks.includes(1) ? maskKey() : null),
    matrixTable(caption, m, labels, labels, { rowHead: transpose ? 'key \\ query' : 'query \\ key', transpose }));
  registerHighlight(fig, (i) => { overlay.hl = i ?? null; draw(); });
  return registerExport(fig, () => stackSvg([heatGridSvg(o), legend(sc, o.legendLabel ?? caption)]));
}

/** Each cell's colour, ink and printed number, and whether it is masked, computed once (hover only repaints). */
function gridCells(o, { T, sc }) {
  const fills = new Array(T * T), inks = new Array(T * T), texts = new Array(T * T), masks = new Uint8Array(T * T);
  for (let q = 0; q < T; q++) {
    for (let k = 0; k < T; k++) {
      const v = at(o.m, q, k), i = q * T + k;
      masks[i] = isMaskedCell(o, q, k) ? 1 : 0;
      const cv = colourValue(o, q, v);
      fills[i] = sc.css(cv); inks[i] = ink(sc.rgb(cv)); texts[i] = fmt(v);
    }
  }
  const side = o.side ? { names: o.side.names, texts: Array.from(o.side.values, (x) => fmt(x)) } : null;
  return { fills, inks, texts, masks, side };
}

/** The grid's draw(): axis titles, token labels, cells, the Σ column, then the highlight and cursor overlays. */
function gridPainter(canvas, L, cells, { colours, dpr, transpose, overlay }) {
  const { T, c, lab, lw, top, W, H, rowTitle, colTitle } = L;
  let hatch = null;
  return () => {
    const g = canvas.getContext('2d');
    if (!g) return;
    if (!hatch) hatch = hatchPattern(g, colours);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    g.textBaseline = 'middle';
    g.font = '600 11px system-ui, sans-serif';
    g.fillStyle = colours.muted;
    g.textAlign = 'center';
    g.fillText(`${colTitle} →`, lw + (T * c) / 2, 8);
    g.save(); g.translate(10, top + (T * c) / 2); g.rotate(-Math.PI / 2); g.fillText(`${rowTitle} →`, 0, 0); g.restore();
    for (let a = 0; a < T; a++) {
      const on = overlay.hl === a;
      g.fillStyle = on ? colours.accent : colours.fg;
      g.font = on ? '700 11px system-ui, sans-serif' : '11px system-ui, sans-serif';
      g.textAlign = 'right';
      g.fillText(lab[a], lw - 6, top + a * c + c / 2);
      g.save(); g.translate(lw + a * c + c / 2, top - 6); g.rotate((-50 * Math.PI) / 180); g.textAlign = 'left'; g.fillText(lab[a], 0, 0); g.restore();
    }
    paintCells(g, L, cells, colours, hatch, transpose);
    paintOverlays(g, L, colours, transpose, overlay);
  };
}

function paintCells(g, { T, c, font, lw, top }, { fills, inks, texts, masks, side }, colours, hatch, transpose) {
  g.font = `${font}px system-ui, sans-serif`;
  g.textAlign = 'center';
  for (let a = 0; a < T; a++) {
    for (let b = 0; b < T; b++) {
      const q = transpose ? b : a, k = transpose ? a : b, i = q * T + k;
      const x = lw + b * c, y = top + a * c;
      if (masks[i]) {
        g.fillStyle = hatch; g.fillRect(x, y, c - 1, c - 1);
        if (texts[i] !== '−∞') continue; // masked weights are exactly 0: the hatching says so
        g.fillStyle = colours.muted;
      } else {
        g.fillStyle = fills[i]; g.fillRect(x, y, c - 1, c - 1);
        g.fillStyle = inks[i];
      }
      g.fillText(texts[i], x + (c - 1) / 2, y + c / 2);
    }
  }
  if (side) {
    g.fillStyle = colours.muted;
    const name = side.names[transpose ? 1 : 0];
    if (transpose) {
      g.textAlign = 'right'; g.fillText(name, lw - 6, top + T * c + c / 2 + 2); g.textAlign = 'center';
    } else {
      g.fillText(name, lw + T * c + 10 + c / 2, top - 8);
    }
    for (let a = 0; a < T; a++) {
      if (transpose) g.fillText(side.texts[a], lw + a * c + (c - 1) / 2, top + T * c + c / 2 + 2);
      else g.fillText(side.texts[a], lw + T * c + 10 + c / 2, top + a * c + c / 2);
    }
  }
}

function paintOverlays(g, { T, c, lw, top }, colours, transpose, { hl, cur, mark }) {
  if (mark && mark.q < T && mark.k < T) {
    const a = transpose ? mark.k : mark.q, b = transpose ? mark.q : mark.k;
    g.strokeStyle = colours.accent; g.lineWidth = 1.5; g.setLineDash([4, 3]);
    g.strokeRect(lw - 1, top + a * c - 1, T * c, c + 1);
    g.setLineDash([]); g.lineWidth = 4;
    g.strokeRect(lw + b * c - 1, top + a * c - 1, c + 1, c + 1);
  }
  if (hl !== null && hl < T) {
    g.strokeStyle = colours.accent; g.lineWidth = 2.5;
    g.strokeRect(lw - 2, top + hl * c - 1, T * c + 2, c + 1);
    g.strokeRect(lw + hl * c - 1, top - 2, c + 1, T * c + 2);
  }
  if (cur) {
    const a = transpose ? cur.k : cur.q, b = transpose ? cur.q : cur.k;
    g.strokeStyle = colours.focus; g.lineWidth = 3;
    g.strokeRect(lw + b * c, top + a * c, c - 1, c - 1);
  }
}

/** Scrolls the grid's box so that cell (q, k) is in view (a wide grid scrolls inside its box). */
function revealCell(canvas, { c, lw }, transpose, q, k) {
  const box = canvas.closest('.scroll');
  if (q === null || !box || box.scrollWidth <= box.clientWidth) return;
  const x = lw + (transpose ? q : k) * c;
  if (x < box.scrollLeft + lw || x + c > box.scrollLeft + box.clientWidth) box.scrollLeft = Math.max(0, x - box.clientWidth / 2);
}

/** A pointer over the grid: `ae-cell` with {q, k} over a cell, `ae-token` with {tok} over a token label. */
function reportGridPointer(canvas, { T, c, lw, top, W, H }, transpose, e) {
  const r = canvas.getBoundingClientRect();
  const x = ((e.clientX - r.left) / r.width) * W, y = ((e.clientY - r.top) / r.height) * H;
  const a = Math.floor((y - top) / c), b = Math.floor((x - lw) / c);
  let event = null;
  if (a >= 0 && a < T && b >= 0 && b < T && x >= lw) event = ['ae-cell', { q: transpose ? b : a, k: transpose ? a : b }];
  else if (x < lw && a >= 0 && a < T) event = ['ae-token', { tok: a }];
  else if (y < top && b >= 0 && b < T) event = ['ae-token', { tok: b }];
  if (event) canvas.dispatchEvent(new CustomEvent(event[0], { bubbles: true, composed: true, detail: event[1] }));
}

function maskKey() {
  return h('span', { class: 'mask-key' }, h('span', { class: 'mask-swatch', 'aria-hidden': 'true' }), ' hatched: masked (a later token; the query may not look at it)');
}
