// Shared drawing helpers for the step views: DOM builders, colour scales with legends, heat strips, the
// lines view, the 2-D embedding map and bar charts (the T×T heat grid is in heat-grid.js). Nothing here computes
// model math: every number drawn comes from the engine's trace. Colours are set as SVG presentation
// attributes or canvas pixels (never inline style attributes), so a strict Content-Security-Policy holds
// and an exported SVG keeps its colours.

export const SVG_NS = 'http://www.w3.org/2000/svg';

// ---------------------------------------------------------------------------------------------------
// DOM builders. Strings become text nodes (user text is always rendered as text, never parsed).

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'props') Object.assign(el, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

/** An HTML element: h('p', {class: 'x'}, 'text', child…). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// ---------------------------------------------------------------------------------------------------
// Matrices as they come from the engine: { shape: [rows, cols], data: Float32Array } (row-major).

export const rows = (m) => m.shape[0];
export const cols = (m) => m.shape[1];
export const at = (m, i, j) => m.data[i * m.shape[1] + j];

/** The largest |finite value| of one or more matrices (the symmetric domain of a diverging scale). */
export function maxAbs(...ms) {
  let mx = 0;
  for (const m of ms) for (const v of m.data) if (Number.isFinite(v) && Math.abs(v) > mx) mx = Math.abs(v);
  return mx || 1;
}

/** A number as it is printed in cells: short, with a real minus sign, −∞ for masked entries. */
export function fmt(v, digits) {
  if (v === -Infinity) return '−∞';
  if (v === Infinity) return '∞';
  if (Number.isNaN(v)) return 'NaN';
  const a = Math.abs(v);
  const d = digits ?? (a >= 100 ? 0 : a >= 10 ? 1 : 2);
  const t = a.toFixed(d);
  return (v < 0 && Number(t) !== 0 ? '−' : '') + t;
}

/** A longer form for tooltips and the arithmetic panel. */
export function fmt4(v) {
  const a = Math.abs(v);
  if (a > 0 && a < 1e-4 && Number.isFinite(v)) return (v < 0 ? '−' : '') + a.toExponential(2).replace('e-', '·10^−');
  return fmt(v, a >= 1000 ? 1 : 4);
}

export const pct = (p) => (p >= 0.1 ? (p * 100).toFixed(1) : p >= 0.001 ? (p * 100).toFixed(2) : (p * 100).toExponential(1)) + '%';

// ---------------------------------------------------------------------------------------------------
// Colour scales. Sequential: viridis (perceptually uniform, colour-blind safe, monotone lightness so it
// prints in grey). Diverging: ColorBrewer RdBu (colour-blind safe), blue < 0 < red.

const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];
const RDBU = ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f'];

const hexRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const VIRIDIS_RGB = VIRIDIS.map(hexRgb);
const RDBU_RGB = RDBU.map(hexRgb);

function interp(stops, t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f));
}

export const css = ([r, g, b]) => `rgb(${r},${g},${b})`;

/** An opaque pixel for a Uint32Array view of ImageData (little-endian: ABGR). */
export const rgba32 = (r, g, b) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;

// Each scale is sampled once into 256 steps (finer than the eye can tell apart): a keystroke colours
// thousands of cells, and interpolating each one was a measurable part of the redraw.
const STEPS = 256;
function lut(stops) {
  const rgb = Array.from({ length: STEPS }, (_, i) => interp(stops, i / (STEPS - 1)));
  return { rgb, css: rgb.map(css), px: Uint32Array.from(rgb, ([r, g, b]) => rgba32(r, g, b)) };
}
const VIRIDIS_LUT = lut(VIRIDIS_RGB);
const RDBU_LUT = lut(RDBU_RGB);

/**
 * A colour scale: value → colour; kind 'seq' over [lo, hi], 'div' symmetric around 0 over ±max.
 * `rgb(v)` gives [r, g, b] (shared: do not modify), `css(v)` a CSS colour, `px(v)` a canvas pixel.
 */
export function scale(kind, lo, hi) {
  let table, at0, span;
  if (kind === 'div') {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    [table, at0, span, lo, hi] = [RDBU_LUT, -m, 2 * m, -m, m];
  } else {
    [table, at0, span] = [VIRIDIS_LUT, lo, hi - lo || 1];
  }
  const index = (v) => {
    const t = (v - at0) / span;
    return t > 0 ? (t < 1 ? Math.round(t * (STEPS - 1)) : STEPS - 1) : 0; // NaN and −∞ → the low end
  };
  return { kind, lo, hi, rgb: (v) => table.rgb[index(v)], css: (v) => table.css[index(v)], px: (v) => table.px[index(v)] };
}

/** Black or white text, whichever reads better on this fill. */
export function ink([r, g, b]) {
  const lum = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  return lum > 0.5 ? '#111' : '#fff';
}

let uidCounter = 0;
export const uid = (p = 'ae') => `${p}${++uidCounter}`;

/** A legend: the gradient with its end values and a label. */
export function legend(sc, label) {
  const id = uid('grad');
  const w = 180, bar = 10;
  const stops = sc.kind === 'div' ? RDBU : VIRIDIS;
  const svg = s('svg', { class: 'legend', width: w + 80, height: 38, viewBox: `0 0 ${w + 80} 38`, role: 'img', 'aria-label': `${label}: colour scale from ${fmt(sc.lo)} to ${fmt(sc.hi)}` },
    s('defs', {}, s('linearGradient', { id }, stops.map((c, i) => s('stop', { offset: i / (stops.length - 1), 'stop-color': c })))),
    s('rect', { x: 40, y: 4, width: w, height: bar, fill: `url(#${id})`, stroke: '#888', 'stroke-width': 0.5 }),
    s('text', { x: 36, y: 13, 'text-anchor': 'end', class: 'tick', text: fmt(sc.lo) }),
    s('text', { x: 44 + w, y: 13, class: 'tick', text: fmt(sc.hi) }),
    sc.kind === 'div' ? s('text', { x: 40 + w / 2, y: 26, 'text-anchor': 'middle', class: 'tick', text: '0' }) : null,
    s('text', { x: 40, y: 35, class: 'tick muted', text: label }));
  return svg;
}

// ---------------------------------------------------------------------------------------------------
// Exporters: each figure registers how to turn itself into a standalone SVG and which numbers it shows.

const exporters = new WeakMap();

/** Stacks SVGs vertically into one (an exported figure with its legend below). */
export function stackSvg(parts, gap = 8) {
  let y = 0, width = 0;
  const out = s('svg', {});
  for (const p of parts) {
    const w = Number(p.getAttribute('width')) || 0, hgt = Number(p.getAttribute('height')) || 0;
    p.setAttribute('x', 0); p.setAttribute('y', y);
    out.append(p);
    y += hgt + gap;
    width = Math.max(width, w);
  }
  out.setAttribute('width', width); out.setAttribute('height', y); out.setAttribute('viewBox', `0 0 ${width} ${y}`);
  return out;
}
export function registerExport(el, toSvg) { exporters.set(el, toSvg); return el; }
export function exportOf(el) { return exporters.get(el); }

// Canvases redraw themselves when a token is highlighted (SVG views use CSS classes instead).
const highlighters = new WeakMap();
export function registerHighlight(el, fn) { highlighters.set(el, fn); return el; }
export function highlighterOf(el) { return highlighters.get(el); }

/** The accessible alternative: a real table of the numbers, built when first opened. */
export function matrixTable(caption, m, rowLabels, colLabels, { rowHead = '', transpose = false } = {}) {
  const d = h('details', { class: 'numbers' }, h('summary', { text: `Table of the numbers: ${caption}` }));
  d.addEventListener('toggle', () => {
    if (!d.open || d.querySelector('table')) return;
    const R = transpose ? cols(m) : rows(m), C = transpose ? rows(m) : cols(m);
    const rl = transpose ? colLabels : rowLabels, cl = transpose ? rowLabels : colLabels;
    const body = [];
    for (let i = 0; i < R; i++) {
      const tds = [];
      for (let j = 0; j < C; j++) tds.push(h('td', { text: fmt4(transpose ? at(m, j, i) : at(m, i, j)) }));
      body.push(h('tr', {}, h('th', { scope: 'row', text: rl[i] }), tds));
    }
    // focusable, so keyboard users can scroll a table wider than the screen (axe: scrollable-region-focusable)
    d.append(h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': caption }, h('table', {},
      h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: rowHead }), cl.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, body))));
  });
  return d;
}

/**
 * A box that scrolls its content sideways when it is wider than the view, with a visible cue: the edge
 * that hides more content fades and says so (keyboard users can scroll it: it is focusable).
 */
export function scrollBox(content, label, { focusable = true } = {}) {
  // a box whose content is itself focusable (the grid's canvas) needs no tab stop of its own
  const box = focusable ? h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': `${label} (scrolls sideways when wider than the view)` }, content)
    : h('div', { class: 'scroll' }, content);
  const more = h('span', { class: 'scroll-cue', 'aria-hidden': 'true', text: 'scroll for more →' });
  const wrap = h('div', { class: 'scroll-wrap' }, box, more);
  const update = () => {
    const hidden = box.scrollWidth - box.clientWidth - box.scrollLeft > 2;
    wrap.classList.toggle('more-right', hidden);
    wrap.classList.toggle('more-left', box.scrollLeft > 2);
  };
  box.addEventListener('scroll', update, { passive: true });
  if (typeof ResizeObserver === 'function') new ResizeObserver(update).observe(box);
  return wrap;
}

/** Token labels as drawn on axes: visible spaces, trimmed to a readable length. */
export function tokenLabel(t, max = 12) {
  const shown = t.replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '⇥');
  return shown.length > max ? shown.slice(0, max - 1) + '…' : shown;
}

/** About how wide `str` is in a `px`-pixel system font (for laying out labels before drawing them). */
export const textWidth = (str, px) => [...str].length * px * 0.62;

// ---------------------------------------------------------------------------------------------------
// Heat strips: one row per token, one column per vector dimension, drawn on a canvas (a 64×128 matrix
// would be 8 192 SVG nodes). The SVG form is built only when exporting.

export function heatStrips(o) {
  const { m, labels, caption } = o;
  const T = rows(m), D = cols(m);
  const dom = o.domain ?? maxAbs(m);
  const sc = scale('div', -dom, dom);
  const cw = Math.max(3, Math.min(16, Math.floor(640 / D))), rh = 16;
  const canvas = h('canvas', { width: D * cw, height: T * rh, class: 'strip-canvas', role: 'img',
    'aria-label': `${caption}: ${T} rows (tokens) by ${D} columns (dimensions), colour = value; the numbers are in the table below` });
  let base = null;
  const draw = (hl) => {
    const g = canvas.getContext('2d');
    if (!g) return;
    if (!base) {
      const W = D * cw;
      base = g.createImageData(W, T * rh);
      const px = new Uint32Array(base.data.buffer);
      const gap = cw > 4 ? 1 : 0;
      for (let i = 0; i < T; i++) {
        const y0 = i * rh * W;
        for (let j = 0; j < D; j++) {
          px.fill(sc.px(at(m, i, j)), y0 + j * cw, y0 + (j + 1) * cw - gap);
        }
        for (let y = 1; y < rh - 2; y++) px.copyWithin(y0 + y * W, y0, y0 + W);
      }
    }
    g.putImageData(base, 0, 0);
    if (hl !== null && hl !== undefined && hl < T) {
      g.strokeStyle = '#e6550d'; g.lineWidth = 2;
      g.strokeRect(1, hl * rh + 0.5, D * cw - 2, rh - 2);
    }
  };
  draw(null);
  const labelCol = h('div', { class: 'strip-labels' }, labels.map((t, i) => h('div', { class: 'strip-label', 'data-tok': i, title: t, text: tokenLabel(t, 14) })));
  canvas.addEventListener('pointermove', (e) => {
    const r = canvas.getBoundingClientRect();
    const j = Math.floor(((e.clientX - r.left) / r.width) * D), i = Math.floor(((e.clientY - r.top) / r.height) * T);
    if (i >= 0 && i < T && j >= 0 && j < D) canvas.dispatchEvent(new CustomEvent('ae-value', { bubbles: true, composed: true, detail: { tok: i, text: o.detail ? o.detail(i, j) : `${caption} · ${labels[i]} · dimension ${j}: ${fmt4(at(m, i, j))}` } }));
  });
  const toSvg = () => {
    const lw = 110, W = lw + D * cw + 10, H = T * rh + 20;
    const svg = s('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}` }, s('text', { x: lw, y: 12, class: 'axis-title', text: `${caption} (dimensions →)` }));
    for (let i = 0; i < T; i++) {
      svg.append(s('text', { x: lw - 6, y: 20 + i * rh + rh / 2 + 3, 'text-anchor': 'end', class: 'label', text: tokenLabel(labels[i], 14) }));
      for (let j = 0; j < D; j++) svg.append(s('rect', { x: lw + j * cw, y: 20 + i * rh, width: cw - (cw > 4 ? 1 : 0), height: rh - 2, fill: sc.css(at(m, i, j)) }));
    }
    return stackSvg([svg, legend(sc, o.legendLabel ?? `${caption}: value per dimension (${D} dimensions)`)]);
  };
  const fig = h('figure', { class: 'figure strips' },
    o.title ? h('div', { class: 'fig-title', text: o.title }) : null,
    // focusable: at phone widths the strips scroll sideways, and keyboard users must be able to scroll them
    h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': caption }, h('div', { class: 'strip-grid' }, labelCol, canvas)),
    h('figcaption', {}, legend(sc, o.legendLabel ?? `${caption}: value per dimension (${D} dimensions)`)),
    matrixTable(caption, m, labels, Array.from({ length: D }, (_, j) => String(j)), { rowHead: 'token \\ dim' }));
  registerHighlight(fig, draw);
  return registerExport(fig, toSvg);
}

// ---------------------------------------------------------------------------------------------------
// The lines view: tokens on two sides, a line from each query to each key, its width and opacity the
// attention weight (3Blue1Brown / BertViz style).

export function linesView(o) {
  const { m, labels, caption, transpose = false, maskedBy = null, kind = 'seq' } = o;
  const T = rows(m);
  const dom = o.domain ?? maxAbs(m);
  const sc = scale('div', -dom, dom);
  const rh = 22, lw = 120, gap = 180, W = lw * 2 + gap, H = T * rh + 40;
  const leftTitle = transpose ? 'keys (looked at)' : 'queries (looking)';
  const rightTitle = transpose ? 'queries (looking)' : 'keys (looked at)';
  const svg = s('svg', { class: 'lines', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${caption} as lines: ${leftTitle} on the left, ${rightTitle} on the right; line width is the attention weight` },
    s('text', { x: lw - 6, y: 14, 'text-anchor': 'end', class: 'axis-title', text: leftTitle }),
    s('text', { x: lw + gap + 6, y: 14, class: 'axis-title', text: rightTitle }));
  const lines = s('g', {});
  for (let q = 0; q < T; q++) {
    for (let k = 0; k < T; k++) {
      const v = at(m, q, k);
      if (!Number.isFinite(v) || (maskedBy && at(maskedBy, q, k) === -Infinity)) continue;
      const w = kind === 'div' ? Math.abs(v) / dom : v;
      if (!(w > 0.01)) continue;
      const [a, b] = transpose ? [k, q] : [q, k];
      lines.append(s('line', { x1: lw, y1: 34 + a * rh, x2: lw + gap, y2: 34 + b * rh, class: 'att-line', 'data-q': q, 'data-k': k,
        stroke: kind === 'div' ? sc.css(v) : null, 'stroke-width': (0.5 + 5 * w).toFixed(2), 'stroke-opacity': (0.15 + 0.85 * w).toFixed(2) }));
    }
  }
  svg.append(lines);
  const leftAttr = transpose ? 'data-k' : 'data-q', rightAttr = transpose ? 'data-q' : 'data-k';
  for (let i = 0; i < T; i++) {
    svg.append(s('text', { x: lw - 6, y: 38 + i * rh, 'text-anchor': 'end', class: 'label', [leftAttr]: i, text: tokenLabel(labels[i], 16) }));
    svg.append(s('text', { x: lw + gap + 6, y: 38 + i * rh, class: 'label', [rightAttr]: i, text: tokenLabel(labels[i], 16) }));
  }
  const fig = h('figure', { class: 'figure' }, h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': caption }, svg),
    h('figcaption', { class: 'muted', text: kind === 'div' ? 'Line width and opacity: the size of the value; colour: its sign (blue < 0 < red); masked pairs have no line.' : 'Line width and opacity: the attention weight (lines under 0.01 are left out).' }),
    matrixTable(caption, m, labels, labels, { rowHead: 'query \\ key' }));
  return registerExport(fig, () => svg.cloneNode(true));
}

// ---------------------------------------------------------------------------------------------------
// The 2-D embedding map: background vocabulary points, the analysed tokens, optional arrows E → E′.

export function embeddingMap(o) {
  const { points, labels, arrowsTo = null, background = null, caption } = o;
  const W = 560, H = 380, pad = 28;
  const xs = [], ys = [];
  const add = (m) => { for (let i = 0; i < rows(m); i++) { xs.push(at(m, i, 0)); ys.push(at(m, i, 1)); } };
  add(points); if (arrowsTo) add(arrowsTo);
  if (background) add(background.coords);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (v) => pad + ((v - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const sy = (v) => H - pad - ((v - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
  const arrow = uid('arrow');
  const svg = s('svg', { class: 'map', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${caption}: the token vectors projected to two dimensions${arrowsTo ? ', with an arrow from each vector before the layer to after it' : ''}` },
    s('defs', {}, s('marker', { id: arrow, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }))),
    s('rect', { x: 0.5, y: 0.5, width: W - 1, height: H - 1, class: 'map-frame' }),
    s('text', { x: W - 8, y: H - 8, 'text-anchor': 'end', class: 'tick muted', text: 'principal component 1 →' }),
    s('text', { x: 14, y: 14, class: 'tick muted', text: '↑ principal component 2' }));
  if (background) {
    const bg = s('g', { class: 'vocab' });
    const n = rows(background.coords);
    for (let i = 0; i < n; i++) {
      const x = sx(at(background.coords, i, 0)), y = sy(at(background.coords, i, 1));
      bg.append(s('circle', { cx: x, cy: y, r: 1.6, class: 'vocab-dot' }));
      if (i < 40) bg.append(s('text', { x: x + 3, y: y - 2, class: 'vocab-label', text: tokenLabel(background.texts[i], 10) }));
    }
    svg.append(bg);
  }
  const T = rows(points);
  const g = s('g', {});
  for (let i = 0; i < T; i++) {
    const x = sx(at(points, i, 0)), y = sy(at(points, i, 1));
    if (arrowsTo) {
      const x2 = sx(at(arrowsTo, i, 0)), y2 = sy(at(arrowsTo, i, 1));
      g.append(s('line', { x1: x, y1: y, x2, y2, class: 'move', 'data-tok': i, 'marker-end': `url(#${arrow})` }));
      g.append(s('circle', { cx: x2, cy: y2, r: 4, class: 'after', 'data-tok': i }, s('title', { text: `${labels[i]} after` })));
    }
    g.append(s('circle', { cx: x, cy: y, r: 4, class: 'before', 'data-tok': i }, s('title', { text: `${labels[i]}${arrowsTo ? ' before' : ''}` })));
    const lx = arrowsTo ? sx(at(arrowsTo, i, 0)) : x, ly = arrowsTo ? sy(at(arrowsTo, i, 1)) : y;
    g.append(s('text', { x: lx + 6, y: ly - 5, class: 'point-label', 'data-tok': i, text: tokenLabel(labels[i], 14) }));
  }
  svg.append(g);
  const coords = { shape: [T, arrowsTo ? 4 : 2], data: new Float32Array(T * (arrowsTo ? 4 : 2)) };
  for (let i = 0; i < T; i++) {
    const r = arrowsTo ? [at(points, i, 0), at(points, i, 1), at(arrowsTo, i, 0), at(arrowsTo, i, 1)] : [at(points, i, 0), at(points, i, 1)];
    coords.data.set(r, i * r.length);
  }
  const fig = h('figure', { class: 'figure' }, h('div', { class: 'scroll' }, svg),
    h('figcaption', { class: 'muted', text: o.note ?? 'A fixed 2-D projection of the model’s embedding space (its two leading principal components). Grey dots: common vocabulary tokens.' }),
    matrixTable(`${caption}: map coordinates`, coords, labels, arrowsTo ? ['x before', 'y before', 'x after', 'y after'] : ['x', 'y'], { rowHead: 'token' }));
  return registerExport(fig, () => svg.cloneNode(true));
}

// ---------------------------------------------------------------------------------------------------
// Horizontal bar chart of next-token probabilities, with optional ghost bars (the unablated model).

export function barChart(o) {
  const { items, caption, ghost = null } = o;
  const rh = 26, lw = 130, bw = 300, W = lw + bw + 80, H = items.length * rh + 24;
  const mx = Math.max(...items.map((d) => d.prob), ...(ghost ? ghost.map((d) => d.prob) : []), 1e-9);
  const svg = s('svg', { class: 'bars', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': caption });
  items.forEach((d, i) => {
    const y = 12 + i * rh;
    svg.append(s('text', { x: lw - 8, y: y + rh / 2 + 2, 'text-anchor': 'end', class: 'label', text: tokenLabel(d.text, 16) }, s('title', { text: d.text })));
    svg.append(s('rect', { x: lw, y: y + 3, width: Math.max(1, (d.prob / mx) * bw), height: rh - 8, class: 'bar', fill: '#31688e' }));
    const g = ghost && ghost.find((x) => x.id === d.id);
    if (ghost) svg.append(s('rect', { x: lw, y: y + 1, width: Math.max(1, ((g ? g.prob : 0) / mx) * bw), height: rh - 4, class: 'ghost' }));
    svg.append(s('text', { x: lw + (d.prob / mx) * bw + 6, y: y + rh / 2 + 2, class: 'num-out', text: pct(d.prob) }));
  });
  const table = h('details', { class: 'numbers' }, h('summary', { text: `Table of the numbers: ${caption}` }),
    h('table', {}, h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, ['rank', 'token', 'id', 'logit', 'probability'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, items.map((d, i) => h('tr', {}, h('td', { text: i + 1 }), h('th', { scope: 'row', text: d.text }), h('td', { text: d.id }), h('td', { text: fmt4(d.logit) }), h('td', { text: pct(d.prob) }))))));
  const fig = h('figure', { class: 'figure' }, h('div', { class: 'scroll' }, svg),
    ghost ? h('figcaption', { class: 'muted', text: 'Outlined bars: the same tokens without the ablations.' }) : null, table);
  return registerExport(fig, () => svg.cloneNode(true));
}
