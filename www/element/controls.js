// The controls around an <attention-explorer>'s view: the text box and examples, the step list, the layer
// and head pickers (with each head's real attention pattern as a thumbnail), the prediction's settings,
// the ablations, the view switches, the detail panel and the footer with the credit line and export.
// buildFrame(el) builds them once per controls/steps setting; updateControls(el) updates them in place.

import { h, rows, scale, rgba32 } from '../draw.js';
import { isTokenPairs, mathOf, stepById } from '../steps/index.js';
import { LONG } from '../tour/stops-more.js';
import { wireView } from './interaction.js';
import { buildTourPanel, updateTourPanel } from './tour-panel.js';
import { buildCompareBox, updateCompareBox } from './compare.js';
import { comparing, MODES } from './modes.js';
import { headName, auxNote } from '../heads.js';
import { glossaryList } from './glossary.js';
import { embedButton, updateEmbed } from './embed-snippet.js';

export const EXAMPLES = [
  { label: 'fluffy creature', text: 'a fluffy blue creature roamed the verdant forest' },
  { label: 'river bank', text: 'we sat on the river bank and watched the water' },
  { label: 'bank account', text: 'she paid the money into her bank account' },
  { label: 'repeated name (induction)', text: 'Mr Dursley said hello. Mr Dursley said' },
  { label: 'a name far back', text: LONG },
];
/** Characters the text box holds (UTF-16 code units, as maxlength counts them). */
export const MAX_TEXT = 4000;
/** Characters of a model's name shown in the credit line and an exported title (a file may carry any name). */
export const MAX_NAME = 80;

/** The frame: `{ root, view, detail, credit, … }`, the controls `el.controls` asks for. */
export function buildFrame(el) {
  const full = el.controls === 'full', minimal = el.controls === 'minimal';
  const b = {};
  const parts = [];
  if (full) parts.push(textBox(el, b, modeSwitch(el, b)));
  else if (minimal) parts.push(modeSwitch(el, b));
  if (full || minimal) {
    b.tour = buildTourPanel(el, b);
    parts.push(navigation(el, b, full), b.tour, tools(el, b, full));
  }
  b.view = h('div', { class: 'ae-view', tabindex: -1 });
  parts.push(b.view);
  b.detail = h('div', { class: 'ae-detail', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'muted', text: 'Hover or focus a token, a cell or a vector to see its numbers.' }));
  if (el.controls !== 'none') parts.push(b.detail);
  b.credit = h('span', { class: 'credit' });
  const foot = [b.credit];
  if (full) {
    const ex = (label) => h('button', { type: 'button', class: `export-${label.toLowerCase()}`, text: label,
      on: { click: () => el.exportView(label.toLowerCase()) } });
    foot.push(h('span', { class: 'export' }, h('span', { text: 'Export this view:' }), ex('SVG'), ex('PNG'), ex('CSV'), ex('JSON')));
    foot.push(embedButton(el, b), glossaryList());
  }
  parts.push(h('div', { class: 'ae-foot' }, foot));
  if (full) parts.push(b.embed);
  b.root = h('div', { class: 'ae', part: 'root' }, parts);
  wireView(el, b.root, b.view);
  return b;
}

/** The text box, the examples, the token count and the message saying a paste was cut. */
function textBox(el, b, modes) {
  // The box holds at most MAX_TEXT characters, and maxlength cuts what is typed or pasted silently (an
  // insertion that does not fit at all, such as an emoji at MAX_TEXT − 1, is dropped with no input event):
  // beforeinput sees what is being inserted and says so at once; the input that follows clears the message
  // when nothing was cut.
  let cut = false;
  const cutMessage = () => `Your text was cut to ${MAX_TEXT.toLocaleString('en')} characters; `
    + `the model reads only its last ${el._engine.info.config.context} tokens anyway.`;
  b.textarea = h('textarea', { id: 'ae-text', rows: 2, maxlength: MAX_TEXT, spellcheck: 'false',
    on: {
      beforeinput: (e) => {
        const t = e.target;
        const added = (e.data ?? (e.dataTransfer ? e.dataTransfer.getData('text/plain') : '') ?? '').replace(/\r\n?/g, '\n');
        cut = t.value.length - (t.selectionEnd - t.selectionStart) + added.length > MAX_TEXT;
        if (cut) b.cut.textContent = cutMessage();
      },
      input: (e) => {
        if (!cut) b.cut.textContent = '';
        cut = false;
        el.text = e.target.value;
      },
    } });
  b.count = h('span', { class: 'count', role: 'status' });
  b.cut = h('span', { class: 'count over cut', role: 'status', 'aria-live': 'polite' });
  b.textLabel = h('label', { for: 'ae-text', text: 'Your sentence' });
  return h('div', { class: 'ae-input' },
    h('div', { class: 'ae-top' }, b.textLabel, modes), b.textarea,
    h('div', { class: 'examples' }, h('span', { class: 'muted', text: 'Examples:' }),
      EXAMPLES.map((x) => h('button', { type: 'button', class: 'example', text: x.label, title: x.text, on: { click: () => { el.text = x.text; } } })),
      b.count, b.cut),
    buildCompareBox(el, b));
}

/** Explore the steps, take the tour, or compare two sentences. */
function modeSwitch(el, b) {
  const words = { explore: ['Explore', 'explore the steps freely'], tour: ['Tour', 'take the guided tour'], compare: ['Compare', 'compare one token in two sentences'] };
  b.modes = new Map(MODES.map((m) => [m, h('button', { type: 'button', class: `mode-${m}`, 'data-mode': m, text: words[m][0], title: words[m][1], 'aria-label': words[m][1], on: { click: () => { el.mode = m; } } })]));
  return h('div', { class: 'ae-modes', role: 'group', 'aria-label': 'mode' }, [...b.modes.values()]);
}

/** Previous / next, "show all steps" and the numbered list of the steps offered. */
function navigation(el, b, full) {
  b.prev = h('button', { type: 'button', class: 'prev', 'aria-label': 'previous step', title: 'previous step (←)', text: '←', on: { click: () => el.previous() } });
  b.next = h('button', { type: 'button', class: 'next', 'aria-label': 'next step', title: 'next step (→)', text: '→', on: { click: () => el.next() } });
  b.stepButtons = new Map();
  const list = h('ol', { class: 'steplist', 'aria-label': 'steps' }, el.steps.map((id, i) => {
    const m = stepById(id);
    const btn = h('button', { type: 'button', 'data-step': id, title: mathOf(m, el.model), on: { click: () => { el.step = id; } } },
      h('span', { class: 'n', text: `${i + 1}` }), m.title);
    b.stepButtons.set(id, btn);
    return h('li', {}, btn);
  }));
  b.showAll = full ? h('input', { type: 'checkbox', class: 'show-all', on: { change: (e) => { el.showAll = e.target.checked; } } }) : null;
  b.nav = h('nav', { class: 'ae-nav', 'aria-label': 'attention steps' }, b.prev, list, b.next);
  return b.nav;
}

/** Layer, heads, the prediction's settings and (full controls) the ablations and the view switches. */
function tools(el, b, full) {
  b.layers = h('div', { class: 'group layers', role: 'group', 'aria-label': 'layer' });
  b.heads = h('div', { class: 'heads', role: 'group', 'aria-label': 'attention heads: click to focus' });
  b.headGroup = h('div', { class: 'group' }, h('span', { class: 'group-title', text: 'Heads' }), b.heads);
  // The prediction's settings live here, not in the view, so a slider being dragged is never replaced.
  b.tempOut = h('output', { class: 'temperature-value' });
  b.temperature = h('input', { type: 'range', min: 0.1, max: 3, step: 0.05, value: 1, class: 'temperature', 'aria-label': 'temperature τ',
    on: { input: (e) => { el.options = { temperature: Number(e.target.value) }; } } });
  b.position = h('select', { class: 'position', 'aria-label': 'which token predicts the next one',
    on: { change: (e) => { el.options = { predict_position: e.target.value === 'last' ? null : Number(e.target.value) }; } } });
  b.predictGroup = h('div', { class: 'group' }, h('span', { class: 'group-title', text: 'Prediction' }),
    h('label', { class: 'toggle' }, 'temperature ', b.temperature, b.tempOut), h('label', { class: 'toggle' }, 'after ', b.position));
  const groups = [b.layers, b.headGroup, b.predictGroup];
  if (full) {
    const check = (cls, on) => h('input', { type: 'checkbox', class: cls, on: { change: (e) => on(e.target.checked) } });
    b.scale = check('opt-scale', (v) => { el.options = { scale: v }; });
    b.causal = check('opt-causal', (v) => { el.options = { causal: v }; });
    b.transpose = check('opt-transpose', (v) => { el.transpose = v; });
    b.viewGrid = h('button', { type: 'button', class: 'view-grid', text: 'grid', on: { click: () => { el.view = 'grid'; } } });
    b.viewLines = h('button', { type: 'button', class: 'view-lines', text: 'lines', on: { click: () => { el.view = 'lines'; } } });
    b.ablation = h('p', { class: 'ablation-summary', role: 'status' });
    b.viewGroup = h('div', { class: 'group' }, h('span', { class: 'group-title', text: 'View' }), b.viewGrid, b.viewLines,
      h('label', { class: 'toggle' }, b.transpose, 'queries as columns'));
    b.showAllGroup = h('div', { class: 'group extra' }, h('label', { class: 'toggle' }, b.showAll, 'show all steps'));
    b.viewGroup.classList.add('extra');
    // on a narrow screen the ablations and view switches fold away behind this button, so the figure is on screen
    b.more = h('button', { type: 'button', class: 'more-tools', 'aria-expanded': 'false', text: 'More controls',
      on: { click: () => { const open = !b.tools.classList.contains('open'); b.tools.classList.toggle('open', open); b.more.setAttribute('aria-expanded', String(open)); } } });
    groups.push(h('div', { class: 'group extra', title: 'Switch off the scaling, the mask or a head to see what changes' }, h('span', { class: 'group-title', text: 'Ablations' }),
      h('label', { class: 'toggle' }, b.scale, '÷ √d_head'), h('label', { class: 'toggle' }, b.causal, 'causal mask')), b.viewGroup, b.showAllGroup, b.more, b.ablation);
  }
  b.tools = h('div', { class: 'ae-tools' }, groups);
  return b.tools;
}

/** Brings every control in line with the element's state and trace. */
export function updateControls(el) {
  const b = el._built;
  const info = el._engine.info;
  const c = info.config;
  const t = el._trace;
  if (b.textarea && b.textarea.value !== el.text) b.textarea.value = el.text;
  if (b.count) {
    const over = t && t.dropped_tokens > 0;
    b.count.textContent = !t ? '' : over ? `${t.total_tokens} tokens: longer than the model’s context of ${c.context}; the first ${t.dropped_tokens} are left out`
      : `${t.total_tokens} / ${c.context} tokens`;
    b.count.classList.toggle('over', Boolean(over));
  }
  if (b.modes) for (const [m, btn] of b.modes) btn.setAttribute('aria-pressed', String(m === el.mode));
  if (b.textLabel) b.textLabel.textContent = comparing(el) ? 'First sentence' : 'Your sentence';
  updateCompareBox(el, comparing(el));
  if (b.tour) updateTourPanel(el);
  if (b.embed) updateEmbed(el);
  if (b.stepButtons) { b.nav.hidden = el.mode !== 'explore'; updateNavigation(el); }
  if (b.tools) updateTools(el, c);
  const layers = `${c.n_layers} layer${c.n_layers > 1 ? 's' : ''}`;
  b.credit.textContent = `Model: ${shortName(info.name)} (${layers}, ${c.n_heads} heads, d_model ${c.d_model}, vocabulary ${c.vocab_size}); `
    + 'every number is computed in your browser.';
}

/** A model's name cut to MAX_NAME characters (never inside a surrogate pair), with … when cut. */
export function shortName(name) {
  if (name.length <= MAX_NAME) return name;
  const end = /[\uD800-\uDBFF]/.test(name[MAX_NAME - 1]) ? MAX_NAME - 1 : MAX_NAME;
  return `${name.slice(0, end)}…`;
}

function updateNavigation(el) {
  const b = el._built;
  const step = el.step, all = el.showAll;
  for (const [id, btn] of b.stepButtons) {
    if (id === step && !all) btn.setAttribute('aria-current', 'step'); else btn.removeAttribute('aria-current');
  }
  const offered = el.steps, i = offered.indexOf(step);
  b.prev.disabled = all || i <= 0;
  b.next.disabled = all || i >= offered.length - 1;
  if (b.showAll) b.showAll.checked = all;
}

function updateTools(el, c) {
  const b = el._built;
  const step = el.step, all = el.showAll;
  const scope = stepById(step).scope;
  b.layers.hidden = !(all || scope !== 'model') || c.n_layers < 2;
  b.headGroup.hidden = !(all || scope === 'head' || comparing(el));
  if (comparing(el)) b.layers.hidden = c.n_layers < 2;
  b.predictGroup.hidden = !(all || step === 'predict');
  updatePrediction(el);
  if (b.viewGroup) b.viewGroup.hidden = !(all || isTokenPairs(step));
  if (b.showAllGroup) b.showAllGroup.hidden = el.mode !== 'explore';
  if (b.layers.childElementCount !== c.n_layers + 1) {
    b.layers.replaceChildren(h('span', { class: 'group-title', text: 'Layer' }), ...Array.from({ length: c.n_layers }, (_, l) =>
      h('button', { type: 'button', 'data-layer': l, text: `${l + 1}`, 'aria-label': `layer ${l + 1} of ${c.n_layers}`, on: { click: () => { el.layer = l; } } })));
  }
  for (const btn of b.layers.querySelectorAll('button')) btn.setAttribute('aria-pressed', String(Number(btn.dataset.layer) === el.layer));
  updateThumbs(el, c);
  if (b.scale) {
    const o = el._options; // as the page set them: the engine may have refused them (then the view says why)
    b.scale.checked = o.scale !== false;
    b.causal.checked = o.causal !== false;
    b.transpose.checked = el.transpose;
    b.viewGrid.setAttribute('aria-pressed', String(el.view === 'grid'));
    b.viewLines.setAttribute('aria-pressed', String(el.view === 'lines'));
    b.ablation.replaceChildren(...ablationSummary(el._trace, el._baseline));
  }
}

function updatePrediction(el) {
  const b = el._built, t = el._trace;
  const tau = el._options.temperature;
  if (typeof tau === 'number' && Number(b.temperature.value) !== tau) b.temperature.value = String(tau);
  // the temperature the engine used (none when it refused the options: the view says why)
  b.tempOut.textContent = t ? `τ = ${t.predict.temperature.toFixed(2)}` : '';
  if (!t) return;
  const n = t.tokens.length;
  const stale = (o, i) => o.value === String(i - 1) && o.textContent !== `#${i - 1} ${t.tokens[i - 1].text}`;
  if (b.position.options.length !== n + 1 || [...b.position.options].some(stale)) {
    b.position.replaceChildren(h('option', { value: 'last', text: 'the last token' }), ...t.tokens.map((tok, i) => h('option', { value: i, text: `#${i} ${tok.text}` })));
  }
  b.position.value = t.options.predict_position === null ? 'last' : String(t.options.predict_position);
}

/** One thumbnail per head of the focused layer: its real attention pattern; click to focus. */
function updateThumbs(el, c) {
  if (!el._thumbs || el._thumbs.length !== c.n_heads) {
    el._thumbs = Array.from({ length: c.n_heads }, (_, hd) => headThumb(el, hd));
    el._built.heads.replaceChildren(...el._thumbs.map((x) => x.wrap));
  }
  const layer = el.layer;
  const t = el._trace;
  const seq = scale('seq', 0, 1);
  const grey = rgba32(200, 200, 204);
  const off = disabledHeads(el);
  el._thumbs.forEach((x, hd) => {
    const on = !off.some(([l, hh]) => l === layer && hh === hd);
    const name = headName(el._engine.info, layer, hd), aux = auxNote(el._engine.info, layer, hd);
    x.button.setAttribute('aria-pressed', String(hd === el.head));
    // the visible words ("head 1", its name) are the button's name, the rest is read but not shown
    x.name.textContent = name ? ` ${name}` : '';
    x.where.textContent = ` of layer ${layer + 1}${on ? '' : ' (switched off)'}`;
    if (aux) x.button.title = aux; else x.button.removeAttribute('title');
    x.wrap.classList.toggle('off', !on);
    if (x.toggle) x.toggle.checked = on;
    if (!t) { x.canvas.width = 1; x.canvas.height = 1; return; } // no trace: no stale pattern either
    const w = t.layers[layer].heads[hd].weights, m = t.layers[layer].heads[hd].masked;
    const T = rows(w);
    if (x.canvas.width !== T) { x.canvas.width = T; x.canvas.height = T; }
    const g = x.canvas.getContext('2d');
    if (!g) return;
    const img = g.createImageData(T, T);
    const px = new Uint32Array(img.data.buffer);
    for (let i = 0; i < T * T; i++) px[i] = m.data[i] === -Infinity ? grey : seq.px(w.data[i]);
    g.putImageData(img, 0, 0);
  });
}

function headThumb(el, hd) {
  const full = el.controls === 'full';
  const canvas = h('canvas', { width: 1, height: 1, 'aria-hidden': 'true' });
  const name = h('span', { class: 'head-name' });
  const where = h('span', { class: 'sr-only' });
  const button = h('button', { type: 'button', class: 'head-button', 'data-head': hd, on: { click: () => { el.head = hd; } } },
    canvas, h('span', { text: `head ${hd + 1}` }), name, where);
  const toggle = full ? h('input', { type: 'checkbox', 'data-head': hd, 'aria-label': `head ${hd + 1} switched on`,
    on: { change: (e) => setHead(el, hd, e.target.checked) } }) : null;
  const wrap = h('div', { class: 'head' }, button, full ? h('label', {}, toggle, 'on') : null);
  return { wrap, canvas, button, toggle, name, where };
}

/** The heads switched off, as the engine read them ([layer, head] pairs; none while it refuses the options). */
const disabledHeads = (el) => (el._trace ? el._trace.options.disabled_heads : []);

function setHead(el, hd, on) {
  const l = el.layer;
  const rest = disabledHeads(el).filter(([a, b]) => !(a === l && b === hd));
  el.options = { disabled_heads: on ? rest : [...rest, [l, hd]] };
}

/** What the ablations did to the prediction, in words. */
function ablationSummary(t, base) {
  if (!t || !base) return [];
  const a = t.predict.top[0], b0 = base.predict.top[0];
  const off = [];
  if (!t.options.scale) off.push('no ÷√d_head');
  if (!t.options.causal) off.push('no causal mask');
  for (const [l, hd] of t.options.disabled_heads) off.push(`head ${hd + 1}${t.config.n_layers > 1 ? ` of layer ${l + 1}` : ''} off`);
  return [h('strong', { text: `Ablated (${off.join(', ')}): ` }),
    `top prediction ‘${a.text}’ ${(a.prob * 100).toFixed(1)}%, without ablations ‘${b0.text}’ ${(b0.prob * 100).toFixed(1)}%.`];
}
