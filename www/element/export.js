// Exporting an <attention-explorer>'s current view: its figures as one standalone SVG or a PNG, or their
// numbers (the step's data tables) as CSV or JSON, with the model, text, step and options they belong to.

import { h, s, exportOf } from '../draw.js';
import { mathOf, stepById } from '../steps/index.js';
import { showDetail } from './interaction.js';
import { shortName } from './controls.js';

export const KINDS = ['svg', 'png', 'csv', 'json'];

/** Downloads the current view as `kind`; resolves to true when the file was handed to the browser. */
export async function exportView(el, kind) {
  const fail = (why) => { showDetail(el, [h('p', { class: 'error', role: 'alert', text: `Export failed: ${why}` })]); return false; };
  if (!KINDS.includes(kind)) return fail(`expected one of ${KINDS.map((k) => `'${k}'`).join(', ')}, found ${describe(kind)}.`);
  if (!el._trace) return fail('there is no view to export (the text could not be analysed).');
  const permission = downloads(el.ownerDocument.defaultView);
  if (permission.blocked) return fail(permission.blocked);
  const id = el.step, scope = stepById(id).scope;
  const base = `attention-${id}${scope !== 'model' ? `-layer${el.layer + 1}` : ''}${scope === 'head' ? `-head${el.head + 1}` : ''}`;
  try {
    if (kind === 'json' || kind === 'csv') {
      const { tables } = stepById(id).data(el._trace, el._stepState());
      if (kind === 'json') download(el, permission, `${base}.json`, 'application/json', toJson(el, tables));
      else download(el, permission, `${base}.csv`, 'text/csv', toCsv(tables));
      return true;
    }
    const svg = viewSvg(el);
    const text = new XMLSerializer().serializeToString(svg);
    if (kind === 'svg') download(el, permission, `${base}.svg`, 'image/svg+xml', text);
    else download(el, permission, `${base}.png`, 'image/png', await svgToPng(text, Number(svg.getAttribute('width')), Number(svg.getAttribute('height'))));
    return true;
  } catch (e) {
    return fail(e.message);
  }
}

const describe = (v) => (typeof v === 'string' ? `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'` : v === null ? 'null' : typeof v);

/**
 * Whether the browser may save a download from this document: `{ blocked }` with the reason when it will
 * not, `{ known }` when it may. A sandboxed frame without `allow-downloads` drops downloads silently; the
 * sandbox can be read only when the frame is same-origin with its host (frameElement), so in a cross-origin
 * frame it is unknown, and the message after a download says what to check instead.
 */
function downloads(win) {
  if (win.parent === win) return { known: true };
  let frame;
  try {
    frame = win.frameElement;
  } catch {
    frame = null;
  }
  if (!frame) return { known: false }; // a cross-origin host: its frame element cannot be read
  const sandbox = frame.getAttribute('sandbox');
  if (sandbox === null || sandbox.split(/\s+/).includes('allow-downloads')) return { known: true };
  return { blocked: 'this page is in a sandboxed frame without allow-downloads, so the browser does not save files from it. '
    + 'The page that embeds it must add allow-downloads to the frame’s sandbox attribute.' };
}

/** The current step's figures stacked into one standalone SVG (light colours, its own styles). */
export function viewSvg(el) {
  const section = el._built.view.querySelector(`section[data-step="${el.step}"]`);
  const figs = section ? [...section.querySelectorAll('figure')].map((f) => exportOf(f)).filter(Boolean).map((f) => f()) : [];
  const m = stepById(el.step);
  let y = 30, width = 400;
  const out = s('svg', { xmlns: 'http://www.w3.org/2000/svg' });
  out.append(s('style', { text: EXPORT_CSS }));
  out.append(s('text', { x: 10, y: 20, class: 'title', text: `${m.title}: ${mathOf(m, el.model)} · “${el.text}” · ${shortName(el._engine.info.name)}` }));
  for (const f of figs) {
    const w = Number(f.getAttribute('width')) || 400, hgt = Number(f.getAttribute('height')) || 200;
    f.setAttribute('x', 10); f.setAttribute('y', y);
    out.append(f);
    y += hgt + 20;
    width = Math.max(width, w + 20);
  }
  out.setAttribute('width', width); out.setAttribute('height', y);
  out.setAttribute('viewBox', `0 0 ${width} ${y}`);
  out.prepend(s('rect', { width, height: y, fill: '#ffffff' }));
  return out;
}

/** Hands a file to the browser; the message claims it was saved only where nothing can block it unseen. */
function download(el, permission, name, type, content) {
  const blob = content instanceof Blob ? content : new Blob([content], { type });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  el._root.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  showDetail(el, [h('p', { text: permission.known ? `Saved ${name}.`
    : `Offered ${name} as a download. If nothing was saved, the page embedding this frame blocks downloads (its sandbox needs allow-downloads).` })]);
}

const jsonNumber = (v) => (Number.isFinite(v) ? v : v === -Infinity ? '-Infinity' : String(v));

function toJson(el, tables) {
  const t = el._trace;
  const meta = { model: t.model, text: el.text, step: el.step, layer: el.layer, head: el.head, options: t.options, tokens: t.tokens.map((x) => x.text) };
  const out = tables.map((tb) => ({ name: tb.name, shape: [tb.rows, tb.cols], row_labels: tb.rowLabels, col_labels: tb.colLabels,
    data: Array.from({ length: tb.rows }, (_, i) => Array.from(tb.values.subarray(i * tb.cols, (i + 1) * tb.cols), jsonNumber)) }));
  return JSON.stringify({ ...meta, tables: out }, null, 1);
}

function csvCell(v) {
  const str = String(v);
  return /[",\n\r]/.test(str) ? `"${str.replace(/"/g, '""')}"` : str;
}

function toCsv(tables) {
  const out = [];
  const num = (v) => (v === -Infinity ? '-inf' : String(v));
  for (const tb of tables) {
    out.push(csvCell(tb.name));
    out.push(['token', ...tb.colLabels].map(csvCell).join(','));
    for (let i = 0; i < tb.rows; i++) out.push([csvCell(tb.rowLabels[i]), ...Array.from(tb.values.subarray(i * tb.cols, (i + 1) * tb.cols), num)].join(','));
    out.push('');
  }
  return out.join('\r\n');
}

/** Rasterises an SVG string (needs the page to allow blob: images; strict-CSP pages should use SVG). */
function svgToPng(text, width, height) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
    const img = new Image();
    img.onload = () => {
      const k = 2;
      const canvas = document.createElement('canvas');
      canvas.width = width * k; canvas.height = height * k;
      const g = canvas.getContext('2d');
      g.scale(k, k);
      g.drawImage(img, 0, 0);
      URL.revokeObjectURL(url);
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode the PNG'))), 'image/png');
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error('the browser (or this page’s security policy) would not draw the SVG into an image; use the SVG export'));
    };
    img.src = url;
  });
}

const EXPORT_CSS = `text{font-family:system-ui,sans-serif}text:not([fill]){fill:#1d1d1f}.title{font-size:13px;font-weight:600}.label,.point-label,.num-out{font-size:11px}
.axis-title{font-size:11px;font-weight:600;fill:#5d6168}.tick{font-size:10px}.muted,.vocab-label{fill:#5d6168}.vocab-label{font-size:9px}
.num.masked,.num.sum{fill:#5d6168}.mask-bg{fill:#e9eaee}.mask-line{stroke:#9aa0a8}.band,.cursor{display:none}.att-line{stroke:#0b57d0}
.map-frame{fill:none;stroke:#d0d4da}.vocab-dot{fill:#5d6168;opacity:.45}.before{fill:#fff;stroke:#1d1d1f;stroke-width:1.5}.after,.arrow-head{fill:#0b57d0}
.move{stroke:#0b57d0;stroke-width:1.5}.move-mlp,.path-b{stroke:#7a3fb0;stroke-width:1.5}.arrow-head.move-mlp,.arrow-head.path-b{fill:#7a3fb0}.path-a{stroke:#0b57d0}.ghost{fill:none;stroke:#1d1d1f;stroke-dasharray:3 2}`;
