// Paths on the embedding map: each token's vector at a few stages (E, E + ΔE, E′, …) on the model's fixed
// 2-D projection, joined by arrows, one colour per leg. Unlike the whole-vocabulary map, the view is fitted
// to the points drawn (each axis on its own), so a small move (attention's) is not lost beside a large one
// (the MLP's) or the vocabulary's spread; vocabulary dots that fall inside are drawn for orientation. Draws only: every
// coordinate is one of the trace's (trace.map).

import { h, s, at, uid, registerExport, matrixTable } from './draw.js';

const W = 520, H = 340, PAD = 34;

/** The view box around every point of `paths` (with a margin), as scale functions. Each axis is fitted on
 * its own, so a move stays readable even when the points spread along one direction only. */
function fitted(paths) {
  const xs = paths.flatMap((p) => p.points.map((q) => q[0])), ys = paths.flatMap((p) => p.points.map((q) => q[1]));
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const kx = (W - 2 * PAD) / (x1 - x0 || 1e-6), ky = (H - 2 * PAD) / (y1 - y0 || 1e-6);
  const [lx, hx, ly, hy] = [x0 - PAD / kx, x1 + PAD / kx, y0 - PAD / ky, y1 + PAD / ky];
  return { sx: (v) => PAD + (v - x0) * kx, sy: (v) => H - PAD - (v - y0) * ky, inside: (x, y) => x >= lx && x <= hx && y >= ly && y <= hy };
}

/**
 * `paths`: [{ label, tok, cls, points: [[x, y], …] }], `legs`: the name of each leg (stage i → i + 1) and
 * its CSS class, `stages`: the name of each point. `background` is the vocabulary map ({ texts, coords }).
 */
export function pathsMap({ paths, legs, stages, caption, note, keys = null, background = null }) {
  const { sx, sy, inside } = fitted(paths);
  const svg = s('svg', { class: 'map paths', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${caption}: ${paths.length} token${paths.length === 1 ? '' : 's'} on the fixed 2-D projection, with arrows for ${legs.map((l) => l.name).join(', then ')}` });
  // one arrowhead per leg and path colour (a marker cannot take its line's colour everywhere yet)
  const defs = s('defs', {}), marks = new Map();
  const marker = (cls) => {
    if (!marks.has(cls)) {
      const id = uid('leg');
      defs.append(s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow-head ${cls}` })));
      marks.set(cls, id);
    }
    return marks.get(cls);
  };
  svg.append(defs);
  svg.append(s('rect', { x: 0.5, y: 0.5, width: W - 1, height: H - 1, class: 'map-frame' }),
    s('text', { x: W - 8, y: H - 8, 'text-anchor': 'end', class: 'tick muted', text: 'principal component 1 →' }),
    s('text', { x: 14, y: 14, class: 'tick muted', text: '↑ principal component 2' }));
  if (background) {
    const bg = s('g', { class: 'vocab' });
    for (let i = 0; i < background.coords.shape[0]; i++) {
      const [x, y] = [at(background.coords, i, 0), at(background.coords, i, 1)];
      if (!inside(x, y)) continue;
      bg.append(s('circle', { cx: sx(x), cy: sy(y), r: 1.6, class: 'vocab-dot' }, s('title', { text: background.texts[i] })));
    }
    svg.append(bg);
  }
  const g = s('g', {});
  for (const p of paths) {
    const cls = p.cls ? ` ${p.cls}` : '';
    p.points.forEach((pt, i) => {
      if (i > 0) {
        const [a, b] = [p.points[i - 1], pt];
        const lc = `${legs[i - 1].cls}${cls}`;
        g.append(s('line', { x1: sx(a[0]), y1: sy(a[1]), x2: sx(b[0]), y2: sy(b[1]), class: lc, 'data-tok': p.tok, 'marker-end': `url(#${marker(lc)})` }));
      }
    });
    p.points.forEach((pt, i) => g.append(s('circle', { cx: sx(pt[0]), cy: sy(pt[1]), r: i === 0 ? 4 : 3.2, class: `${i === 0 ? 'before' : 'after'}${cls}`, 'data-tok': p.tok },
      s('title', { text: `${p.label}: ${stages[i]}` }))));
    const end = p.points[p.points.length - 1];
    const right = sx(end[0]) > W - 70; // near the right edge: the label goes to the left of its point
    g.append(s('text', { x: sx(end[0]) + (right ? -6 : 6), y: sy(end[1]) - 5, 'text-anchor': right ? 'end' : null, class: `point-label${cls}`, 'data-tok': p.tok, text: p.label.length > 24 ? `${p.label.slice(0, 23)}…` : p.label }));
  }
  svg.append(g);
  const n = stages.length;
  const coords = { shape: [paths.length, 2 * n], data: Float32Array.from(paths.flatMap((p) => p.points.flat())) };
  const fig = h('figure', { class: 'figure' }, h('div', { class: 'scroll' }, svg),
    h('figcaption', { class: 'muted' }, (keys ?? legs).map((l) => h('span', { class: `leg-key ${l.cls}`, text: l.name })), note ? h('span', { text: note }) : null),
    matrixTable(`${caption}: map coordinates`, coords, paths.map((p) => p.label), stages.flatMap((st) => [`x ${st}`, `y ${st}`]), { rowHead: 'token' }));
  return registerExport(fig, () => svg.cloneNode(true));
}
