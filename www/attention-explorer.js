// <attention-explorer>: every step of attention, drawn from the real trace of the sentence shown.
//
// One include is enough: `<script type="module" src=".../attention-explorer.js">` defines the element
// under its default tag (unless that tag is already taken). `define.js` registers it under another tag.
// The wasm module and the model are found relative to this file (see engine.js) and shared by every
// instance on the page.
//
// Attributes (mirrored by properties): text, step, steps, layer, head, controls (full | minimal | none),
// transpose, theme (light | dark | auto), height. Every change of state fires one bubbling, composed
// `attention-explorer:change` event whose detail is the new state (see `state`).

import { h, s, exportOf, highlighterOf, rows, scale, rgba32 } from './draw.js';
import { loadEngine } from './engine.js';
import { mathOf, stepById, stepIdsFor } from './steps/index.js';
import { CSS } from './element-css.js';

export const DEFAULT_TEXT = 'a fluffy blue creature roamed the verdant forest';
export const EXAMPLES = [
  { label: 'fluffy creature', text: 'a fluffy blue creature roamed the verdant forest' },
  { label: 'river bank', text: 'we sat on the river bank and watched the water' },
  { label: 'bank account', text: 'she paid the money into her bank account' },
  { label: 'repeated name (induction)', text: 'Mr Dursley said hello. Mr Dursley said' },
];
const MAX_TEXT = 4000; // characters the text box holds
const ATTRIBUTES = ['text', 'step', 'steps', 'layer', 'head', 'controls', 'transpose', 'theme', 'height'];
const CONTROLS = ['full', 'minimal', 'none'];
const THEMES = ['light', 'dark', 'auto'];
export const EVENT = 'attention-explorer:change';

const registered = new WeakMap();
let sharedSheet = null;
function stylesheet() {
  if (!sharedSheet) {
    sharedSheet = new CSSStyleSheet();
    sharedSheet.replaceSync(CSS);
  }
  return sharedSheet;
}

const intAttr = (v) => {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) && n >= 0 ? n : 0;
};

export class AttentionExplorer extends HTMLElement {
  static observedAttributes = ATTRIBUTES;

  /** Registers the element (a subclass if this class is already registered under another tag). */
  static define(tag = 'attention-explorer', registry = customElements) {
    const existing = registry.get(tag);
    if (existing) return existing;
    // A constructor can be registered once per registry: a second tag gets a subclass.
    const used = registered.get(registry) ?? new WeakSet();
    registered.set(registry, used);
    const cls = used.has(this) ? class extends this {} : this;
    used.add(this);
    registry.define(tag, cls);
    return cls;
  }

  constructor() {
    super();
    this._root = this.attachShadow({ mode: 'open' });
    this._local = new CSSStyleSheet();
    this._root.adoptedStyleSheets = [stylesheet(), this._local];
    this._options = { scale: true, causal: true, disabled_heads: [], temperature: 1, predict_position: null };
    this._view = 'grid';
    this._showAll = false;
    this._engine = null;
    this._trace = null;
    this._baseline = null;
    this._error = null;
    this._hl = null;
    this._cell = null;
    this._scheduled = false;
    this._pendingEvent = false;
    this._live = false;
    this._built = null;
    this._readyResolve = null;
    this.ready = new Promise((resolve) => { this._readyResolve = resolve; });
    this._root.append(h('div', { class: 'status', role: 'status', text: 'Loading the attention explorer…' }));
  }

  // ----- attributes ↔ properties ------------------------------------------------------------------

  get text() { return this.getAttribute('text') ?? DEFAULT_TEXT; }
  set text(v) { this.setAttribute('text', String(v ?? '')); }

  /** The step ids offered (attribute `steps`, space- or comma-separated; all by default). */
  get steps() {
    const all = stepIdsFor(this.model), want = (this.getAttribute('steps') ?? '').split(/[\s,]+/).filter((x) => all.includes(x));
    return want.length ? all.filter((x) => want.includes(x)) : all;
  }
  set steps(v) {
    if (v === null || v === undefined) this.removeAttribute('steps');
    else this.setAttribute('steps', Array.isArray(v) ? v.join(' ') : String(v));
  }

  get step() {
    const v = this.getAttribute('step');
    const offered = this.steps;
    return offered.includes(v) ? v : offered[0];
  }
  set step(v) { this.setAttribute('step', String(v)); }

  get layer() { return this._clamp(intAttr(this.getAttribute('layer')), 'n_layers'); }
  set layer(v) { this.setAttribute('layer', String(intAttr(String(v)))); }

  get head() { return this._clamp(intAttr(this.getAttribute('head')), 'n_heads'); }
  set head(v) { this.setAttribute('head', String(intAttr(String(v)))); }

  get controls() {
    const v = this.getAttribute('controls');
    return CONTROLS.includes(v) ? v : 'full';
  }
  set controls(v) { this.setAttribute('controls', String(v)); }

  get transpose() {
    const v = this.getAttribute('transpose');
    return v !== null && v !== 'false';
  }
  set transpose(v) { if (v) this.setAttribute('transpose', ''); else this.removeAttribute('transpose'); }

  get theme() {
    const v = this.getAttribute('theme');
    return THEMES.includes(v) ? v : 'auto';
  }
  set theme(v) { this.setAttribute('theme', String(v)); }

  get height() { return this.getAttribute('height'); }
  set height(v) { if (v === null || v === undefined || v === '') this.removeAttribute('height'); else this.setAttribute('height', String(v)); }

  // ----- state that has no attribute ----------------------------------------------------------------

  /** Ablations and prediction settings passed to the engine (a copy). */
  get options() { return structuredClone(this._options); }
  set options(v) {
    const o = { ...this._options, ...v };
    this._options = { scale: o.scale !== false, causal: o.causal !== false, disabled_heads: (o.disabled_heads ?? []).map(([l, hd]) => [intAttr(String(l)), intAttr(String(hd))]),
      temperature: Number(o.temperature) > 0 ? Number(o.temperature) : 1, predict_position: o.predict_position ?? null };
    this._changed();
  }

  /** 'grid' or 'lines' for the T×T steps. */
  get view() { return this._view; }
  set view(v) { this._view = v === 'lines' ? 'lines' : 'grid'; this._changed(); }

  /** The long-scroll reading mode: every offered step, one after another. */
  get showAll() { return this._showAll; }
  set showAll(v) { this._showAll = Boolean(v); this._changed(); }

  /** The current trace (null before the model has loaded or when the text cannot be analysed). */
  get trace() { return this._trace; }
  /** `{ name, config }` of the loaded model, or null. */
  get model() { return this._engine ? this._engine.info : null; }

  /** Everything that defines the view, as carried by the change event. */
  get state() {
    return { text: this.text, step: this.step, steps: this.steps, layer: this.layer, head: this.head, controls: this.controls, transpose: this.transpose,
      theme: this.theme, height: this.height, view: this._view, showAll: this._showAll, options: this.options };
  }

  next() { this._move(1); }
  previous() { this._move(-1); }

  _move(by) {
    const offered = this.steps;
    const i = offered.indexOf(this.step) + by;
    if (i >= 0 && i < offered.length) this.step = offered[i];
  }

  _clamp(v, key) {
    const c = this._engine && this._engine.info.config;
    return c ? Math.min(v, c[key] - 1) : v;
  }

  // ----- lifecycle ------------------------------------------------------------------------------------

  connectedCallback() {
    if (!this.hasAttribute('role')) this.setAttribute('role', 'region');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', 'Attention explorer');
    this._applyHeight();
    if (!this._scheme && typeof matchMedia === 'function') {
      // theme="auto" follows the system: canvases must be redrawn in the new colours.
      this._scheme = matchMedia('(prefers-color-scheme: dark)');
      this._scheme.addEventListener('change', () => { if (this.theme === 'auto') this._changed(false); });
    }
    loadEngine().then((engine) => {
      this._engine = engine;
      if (!this._watching) {
        this._watching = true;
        // Another model was loaded (engine.load/reset): rebuild for its sizes and re-analyse. Held through a
        // WeakRef so a removed widget can still be collected.
        const self = new WeakRef(this);
        engine.onModelChange(() => { const el = self.deref(); if (el) { el._built = null; el._changed(false); } });
      }
      this._changed(false);
    }, (err) => this._fail(err));
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === 'height') this._applyHeight();
    if (name === 'controls' || name === 'steps') this._built = null;
    this._changed();
  }

  _applyHeight() {
    const v = this.getAttribute('height');
    const len = v && /^\d+(\.\d+)?$/.test(v) ? `${v}px` : v && /^[\d.]+(px|em|rem|vh|%)$/.test(v) ? v : null;
    this._local.replaceSync(len ? `:host { --ae-height: ${len}; }` : '');
  }

  /** Schedules one render and (unless this is the first) one change event, coalesced per task. */
  _changed(emit = true) {
    if (emit && this._live) this._pendingEvent = true;
    if (this._scheduled) return;
    this._scheduled = true;
    queueMicrotask(() => {
      this._scheduled = false;
      if (this._engine) this._render();
      if (this._pendingEvent) {
        this._pendingEvent = false;
        this.dispatchEvent(new CustomEvent(EVENT, { bubbles: true, composed: true, detail: this.state }));
      }
    });
  }

  _fail(err) {
    this._root.replaceChildren(h('div', { class: 'status error', role: 'alert' },
      h('p', { text: `The attention explorer could not start: ${err && err.message ? err.message : err}.` }),
      h('slot', {})));
    this._readyResolve(false);
  }

  // ----- analysis -----------------------------------------------------------------------------------

  _analyze() {
    const engine = this._engine;
    const text = this.text;
    const c = engine.info.config;
    const opts = this._options;
    const all = this._showAll;
    const step = this.step;
    let position = opts.predict_position;
    if (position !== null) {
      const T = Math.min(engine.countTokens(text), c.context);
      if (position >= T) position = null;
    }
    const options = {
      scale: opts.scale, causal: opts.causal,
      disabled_heads: opts.disabled_heads.filter(([l, hd]) => l < c.n_layers && hd < c.n_heads),
      temperature: opts.temperature, predict_position: position, top_k: 10,
      neighbours: all || step === 'update',
    };
    const ablated = !options.scale || !options.causal || options.disabled_heads.length > 0;
    try {
      this._trace = engine.analyze(text, options);
      this._baseline = ablated ? engine.analyze(text, { ...options, scale: true, causal: true, disabled_heads: [] }) : null;
      this._error = null;
    } catch (e) {
      this._trace = null;
      this._baseline = null;
      this._error = e && e.message ? e.message : String(e);
    }
  }

  // ----- rendering ----------------------------------------------------------------------------------

  _render() {
    this._analyze();
    if (!this._built) this._build();
    this._updateControls();
    this._renderView();
    if (!this._live) {
      this._live = true;
      if (typeof performance !== 'undefined' && performance.mark) performance.mark('attention-explorer:first-render');
      this._readyResolve(true);
    }
  }

  /** The frame: built once per controls/steps setting; updated in place afterwards. */
  _build() {
    const full = this.controls === 'full', minimal = this.controls === 'minimal';
    const b = {};
    const parts = [];
    if (full) {
      // The box holds at most MAX_TEXT characters (maxlength cuts pastes silently): beforeinput sees what
      // is being inserted, and the input that follows says so when the result was cut.
      let cut = false;
      b.textarea = h('textarea', { id: 'ae-text', rows: 2, maxlength: MAX_TEXT, spellcheck: 'false',
        on: {
          beforeinput: (e) => {
            const t = e.target;
            const added = (e.data ?? (e.dataTransfer ? e.dataTransfer.getData('text/plain') : '') ?? '').replace(/\r\n?/g, '\n');
            cut = t.value.length - (t.selectionEnd - t.selectionStart) + added.length > MAX_TEXT;
          },
          input: (e) => {
            b.cut.textContent = cut ? `Your text was cut to ${MAX_TEXT.toLocaleString('en')} characters; the model reads only its last ${this._engine.info.config.context} tokens anyway.` : '';
            cut = false;
            this.text = e.target.value;
          },
        } });
      b.count = h('span', { class: 'count', role: 'status' });
      b.cut = h('span', { class: 'count over cut', role: 'status', 'aria-live': 'polite' });
      parts.push(h('div', { class: 'ae-input' },
        h('label', { for: 'ae-text', text: 'Your sentence' }), b.textarea,
        h('div', { class: 'examples' }, h('span', { class: 'muted', text: 'Examples:' }),
          EXAMPLES.map((x) => h('button', { type: 'button', class: 'example', text: x.label, title: x.text, on: { click: () => { this.text = x.text; } } })),
          b.count, b.cut)));
    }
    if (full || minimal) {
      b.prev = h('button', { type: 'button', class: 'prev', 'aria-label': 'previous step', text: '← Previous', on: { click: () => this.previous() } });
      b.next = h('button', { type: 'button', class: 'next', 'aria-label': 'next step', text: 'Next →', on: { click: () => this.next() } });
      b.stepButtons = new Map();
      const list = h('ol', { class: 'steplist', 'aria-label': 'steps' }, this.steps.map((id, i) => {
        const m = stepById(id);
        const btn = h('button', { type: 'button', 'data-step': id, title: mathOf(m, this.model), on: { click: () => { this.step = id; } } }, h('span', { class: 'n', text: `${i + 1}` }), m.title);
        b.stepButtons.set(id, btn);
        return h('li', {}, btn);
      }));
      b.showAll = full ? h('input', { type: 'checkbox', class: 'show-all', on: { change: (e) => { this.showAll = e.target.checked; } } }) : null;
      parts.push(h('nav', { class: 'ae-nav', 'aria-label': 'attention steps' }, b.prev, b.next,
        full ? h('label', { class: 'toggle' }, b.showAll, 'show all steps') : null, list));
      b.layers = h('div', { class: 'group layers', role: 'group', 'aria-label': 'layer' });
      b.heads = h('div', { class: 'heads', role: 'group', 'aria-label': 'attention heads: click to focus' });
      b.headGroup = h('div', { class: 'group' }, h('span', { class: 'group-title', text: 'Heads' }), b.heads);
      // The prediction's settings live here, not in the view, so a slider being dragged is never replaced.
      b.tempOut = h('output', { class: 'temperature-value' });
      b.temperature = h('input', { type: 'range', min: 0.1, max: 3, step: 0.05, value: 1, class: 'temperature', 'aria-label': 'temperature τ',
        on: { input: (e) => { this.options = { temperature: Number(e.target.value) }; } } });
      b.position = h('select', { class: 'position', 'aria-label': 'which token predicts the next one',
        on: { change: (e) => { this.options = { predict_position: e.target.value === 'last' ? null : Number(e.target.value) }; } } });
      b.predictGroup = h('div', { class: 'group' }, h('span', { class: 'group-title', text: 'Prediction' }),
        h('label', { class: 'toggle' }, 'temperature ', b.temperature, b.tempOut), h('label', { class: 'toggle' }, 'after ', b.position));
      const tools = [b.layers, b.headGroup, b.predictGroup];
      if (full) {
        b.scale = h('input', { type: 'checkbox', class: 'opt-scale', on: { change: (e) => { this.options = { scale: e.target.checked }; } } });
        b.causal = h('input', { type: 'checkbox', class: 'opt-causal', on: { change: (e) => { this.options = { causal: e.target.checked }; } } });
        b.transpose = h('input', { type: 'checkbox', class: 'opt-transpose', on: { change: (e) => { this.transpose = e.target.checked; } } });
        b.viewGrid = h('button', { type: 'button', class: 'view-grid', text: 'grid', on: { click: () => { this.view = 'grid'; } } });
        b.viewLines = h('button', { type: 'button', class: 'view-lines', text: 'lines', on: { click: () => { this.view = 'lines'; } } });
        b.ablation = h('p', { class: 'ablation-summary', role: 'status' });
        tools.push(
          h('div', { class: 'group' }, h('span', { class: 'group-title', text: 'Ablations' }),
            h('label', { class: 'toggle' }, b.scale, '÷ √d_head'), h('label', { class: 'toggle' }, b.causal, 'causal mask')),
          b.viewGroup = h('div', { class: 'group' }, h('span', { class: 'group-title', text: 'View' }), b.viewGrid, b.viewLines,
            h('label', { class: 'toggle' }, b.transpose, 'queries as columns')),
          b.ablation);
      }
      b.tools = h('div', { class: 'ae-tools' }, tools);
      parts.push(b.tools);
    }
    b.view = h('div', { class: 'ae-view', tabindex: -1 });
    parts.push(b.view);
    b.detail = h('div', { class: 'ae-detail', role: 'status', 'aria-live': 'polite' }, h('span', { class: 'muted', text: 'Hover or focus a token, a cell or a vector to see its numbers.' }));
    if (this.controls !== 'none') parts.push(b.detail);
    b.credit = h('span', { class: 'credit' });
    const foot = [b.credit];
    if (full) {
      const ex = (fmtName) => h('button', { type: 'button', class: `export-${fmtName.toLowerCase()}`, text: fmtName, on: { click: () => this.exportView(fmtName.toLowerCase()) } });
      foot.push(h('span', { class: 'export' }, h('span', { text: 'Export this view:' }), ex('SVG'), ex('PNG'), ex('CSV'), ex('JSON')));
    }
    parts.push(h('div', { class: 'ae-foot' }, foot));
    const root = h('div', { class: 'ae', part: 'root' }, parts);
    root.addEventListener('pointerover', (e) => this._onPointer(e));
    root.addEventListener('focusin', (e) => this._onPointer(e));
    root.addEventListener('keydown', (e) => this._onKey(e));
    root.addEventListener('ae-value', (e) => { this._highlight(e.detail.tok); this._showDetail([h('p', { text: e.detail.text })]); });
    root.addEventListener('ae-token', (e) => this._highlight(e.detail.tok));
    root.addEventListener('ae-cell', (e) => {
      const origin = e.composedPath()[0];
      if (origin.closest('.baseline')) { this._highlight(e.detail.q); return; } // the comparison grid has no arithmetic panel
      const section = origin.closest('section');
      if (!this._cell || this._cell.section !== section || this._cell.q !== e.detail.q || this._cell.k !== e.detail.k) this._focusCell(section, e.detail.q, e.detail.k);
    });
    b.view.addEventListener('pointerleave', () => this._highlight(null));
    this._root.replaceChildren(root);
    this._built = b;
    this._thumbs = null;
  }

  _updateControls() {
    const b = this._built;
    const engine = this._engine;
    const c = engine.info.config;
    const step = this.step;
    const scope = stepById(step).scope;
    const t = this._trace;
    if (b.textarea && b.textarea.value !== this.text) b.textarea.value = this.text;
    if (b.count) {
      if (t) {
        const over = t.dropped_tokens > 0;
        b.count.textContent = over ? `${t.total_tokens} tokens: longer than the model’s context of ${c.context}; the first ${t.dropped_tokens} are left out` : `${t.total_tokens} / ${c.context} tokens`;
        b.count.classList.toggle('over', over);
      } else b.count.textContent = '';
    }
    if (b.stepButtons) {
      for (const [id, btn] of b.stepButtons) {
        if (id === step && !this._showAll) btn.setAttribute('aria-current', 'step'); else btn.removeAttribute('aria-current');
      }
      const offered = this.steps, i = offered.indexOf(step);
      b.prev.disabled = this._showAll || i <= 0;
      b.next.disabled = this._showAll || i >= offered.length - 1;
      if (b.showAll) b.showAll.checked = this._showAll;
    }
    if (b.tools) {
      const perLayer = this._showAll || scope !== 'model';
      b.layers.hidden = !perLayer || c.n_layers < 2;
      b.headGroup.hidden = !(this._showAll || scope === 'head');
      b.predictGroup.hidden = !(this._showAll || step === 'predict');
      this._updatePrediction();
      if (b.viewGroup) b.viewGroup.hidden = !(this._showAll || ['scores', 'scaled', 'masked', 'weights'].includes(step));
      if (b.layers.childElementCount !== c.n_layers + 1) {
        b.layers.replaceChildren(h('span', { class: 'group-title', text: 'Layer' }), ...Array.from({ length: c.n_layers }, (_, l) =>
          h('button', { type: 'button', 'data-layer': l, text: `${l + 1}`, 'aria-label': `layer ${l + 1} of ${c.n_layers}`, on: { click: () => { this.layer = l; } } })));
      }
      for (const btn of b.layers.querySelectorAll('button')) btn.setAttribute('aria-pressed', String(Number(btn.dataset.layer) === this.layer));
      this._updateThumbs(c);
      if (b.scale) {
        b.scale.checked = this._options.scale;
        b.causal.checked = this._options.causal;
        b.transpose.checked = this.transpose;
        b.viewGrid.setAttribute('aria-pressed', String(this._view === 'grid'));
        b.viewLines.setAttribute('aria-pressed', String(this._view === 'lines'));
        b.ablation.replaceChildren(...this._ablationSummary());
      }
    }
    b.credit.textContent = `Model: ${engine.info.name} (${c.n_layers} layer${c.n_layers > 1 ? 's' : ''}, ${c.n_heads} heads, d_model ${c.d_model}, vocabulary ${c.vocab_size}); every number is computed in your browser.`;
  }

  _updatePrediction() {
    const b = this._built, t = this._trace;
    const tau = this._options.temperature;
    if (Number(b.temperature.value) !== tau) b.temperature.value = String(tau);
    b.tempOut.textContent = `τ = ${tau.toFixed(2)}`;
    if (!t) return;
    const labels = ['last', ...t.tokens.map((_, i) => String(i))];
    if (b.position.options.length !== labels.length || [...b.position.options].some((o, i) => o.value === String(i - 1) && o.textContent !== `#${i - 1} ${t.tokens[i - 1].text}`)) {
      b.position.replaceChildren(h('option', { value: 'last', text: 'the last token' }), ...t.tokens.map((tok, i) => h('option', { value: i, text: `#${i} ${tok.text}` })));
    }
    b.position.value = t.options.predict_position === null ? 'last' : String(t.options.predict_position);
  }

  /** One thumbnail per head of the focused layer: its real attention pattern; click to focus. */
  _updateThumbs(c) {
    const b = this._built;
    const full = this.controls === 'full';
    if (!this._thumbs || this._thumbs.length !== c.n_heads) {
      this._thumbs = Array.from({ length: c.n_heads }, (_, hd) => {
        const canvas = h('canvas', { width: 1, height: 1, 'aria-hidden': 'true' });
        const button = h('button', { type: 'button', class: 'head-button', 'data-head': hd, on: { click: () => { this.head = hd; } } }, canvas, h('span', { text: `head ${hd + 1}` }));
        const toggle = full ? h('input', { type: 'checkbox', 'data-head': hd, 'aria-label': `head ${hd + 1} switched on`,
          on: { change: (e) => this._setHead(hd, e.target.checked) } }) : null;
        const wrap = h('div', { class: 'head' }, button, full ? h('label', {}, toggle, 'on') : null);
        return { wrap, canvas, button, toggle };
      });
      b.heads.replaceChildren(...this._thumbs.map((x) => x.wrap));
    }
    const layer = this.layer;
    const t = this._trace;
    const seq = scale('seq', 0, 1);
    this._thumbs.forEach((x, hd) => {
      const on = !this._options.disabled_heads.some(([l, hh]) => l === layer && hh === hd);
      x.button.setAttribute('aria-pressed', String(hd === this.head));
      x.button.setAttribute('aria-label', `head ${hd + 1} of layer ${layer + 1}${on ? '' : ' (switched off)'}`);
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
      const grey = rgba32(200, 200, 204);
      for (let i = 0; i < T * T; i++) px[i] = m.data[i] === -Infinity ? grey : seq.px(w.data[i]);
      g.putImageData(img, 0, 0);
    });
  }

  _setHead(hd, on) {
    const l = this.layer;
    const rest = this._options.disabled_heads.filter(([a, b]) => !(a === l && b === hd));
    this.options = { disabled_heads: on ? rest : [...rest, [l, hd]] };
  }

  /** What the ablations did to the prediction, in words. */
  _ablationSummary() {
    const t = this._trace, base = this._baseline;
    if (!t || !base) return [h('span', { class: 'muted', text: 'Switch off the scaling, the mask or a head to see what changes.' })];
    const a = t.predict.top[0], b0 = base.predict.top[0];
    const off = [];
    if (!t.options.scale) off.push('no ÷√d_head');
    if (!t.options.causal) off.push('no causal mask');
    for (const [l, hd] of t.options.disabled_heads) off.push(`head ${hd + 1}${t.config.n_layers > 1 ? ` of layer ${l + 1}` : ''} off`);
    return [h('strong', { text: `Ablated (${off.join(', ')}): ` }),
      `top prediction ‘${a.text}’ ${(a.prob * 100).toFixed(1)}%, without ablations ‘${b0.text}’ ${(b0.prob * 100).toFixed(1)}%.`];
  }

  _renderView() {
    const b = this._built;
    this._hl = null;
    this._cell = null;
    if (!this._trace) {
      b.view.replaceChildren(h('div', { class: 'error', role: 'alert' }, h('p', { text: `Nothing to show: ${this._error}.` })));
      return;
    }
    const ids = this._showAll ? this.steps : [this.step];
    b.view.replaceChildren(...ids.map((id) => this._section(id)));
  }

  /** The theme's colours, for what is drawn on canvases (CSS cannot reach canvas pixels). */
  _colours() {
    const key = `${this.theme}:${this._scheme && this._scheme.matches}`;
    if (this._colourCache && this._colourCache.key === key) return this._colourCache.value;
    const cs = getComputedStyle(this);
    const v = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
    const value = { fg: v('--ae-fg', '#1d1d1f'), muted: v('--ae-muted', '#5d6168'), accent: v('--ae-accent', '#b4440f'), focus: v('--ae-focus', '#0b57d0'),
      maskBg: v('--ae-mask-bg', '#e9eaee'), maskLine: v('--ae-mask-line', '#9aa0a8') };
    this._colourCache = { key, value };
    return value;
  }

  _stepState() {
    return { layer: this.layer, head: this.head, transpose: this.transpose, view: this._view };
  }

  _section(id) {
    const m = stepById(id);
    const t = this._trace;
    const st = this._stepState();
    const ctx = {
      text: this.text,
      controls: this.controls,
      baseline: this._baseline,
      vocab: () => this._engine.vocabMap(300),
      colours: this._colours(),
      setOption: (k, v) => { this.options = { [k]: v }; },
    };
    const n = this.steps.indexOf(id) + 1; // numbered within the steps offered, as in the step list
    const scopeNote = m.scope === 'head' ? this._where(t, st, true) : m.scope === 'layer' && t.config.n_layers > 1 ? this._where(t, st, false) : '';
    let body;
    try {
      body = m.render(t, st, ctx);
    } catch (e) {
      body = h('div', { class: 'error', role: 'alert', text: `This view could not be drawn: ${e.message}` });
    }
    return h('section', { class: `step ${id}`, 'data-step': id, 'aria-labelledby': `ae-h-${id}` },
      h('h2', { id: `ae-h-${id}` }, `${n}. ${m.title}`, scopeNote ? h('span', { class: 'where', text: ` · ${scopeNote}` }) : null),
      h('p', { class: 'math', text: mathOf(m, this.model) }),
      h('div', { class: 'explain' }, m.explain(t, st).map((p) => h('p', { text: p }))),
      body);
  }

  _where(t, st, head) {
    const c = t.config;
    const parts = [];
    if (c.n_layers > 1) parts.push(`layer ${st.layer + 1} of ${c.n_layers}`);
    if (head) parts.push(`head ${st.head + 1} of ${c.n_heads}${this._options.disabled_heads.some(([l, hd]) => l === st.layer && hd === st.head) ? ' (switched off)' : ''}`);
    return parts.join(', ');
  }

  // ----- hover, focus, keys ---------------------------------------------------------------------------

  _onPointer(e) {
    const target = e.composedPath()[0];
    if (!(target instanceof Element)) return;
    const cell = target.closest('[data-cell]');
    if (cell) {
      const [q, k] = cell.getAttribute('data-cell').split(',').map(Number);
      this._focusCell(cell.closest('section'), q, k);
      return;
    }
    const tokEl = target.closest('[data-tok],[data-q],[data-k]');
    if (tokEl) this._highlight(Number(tokEl.getAttribute('data-tok') ?? tokEl.getAttribute('data-q') ?? tokEl.getAttribute('data-k')));
  }

  _focusCell(section, q, k) {
    if (!section) return;
    const m = stepById(section.dataset.step);
    this._cell = { section, q, k };
    const grid = section.querySelector('.grid:not(.baseline .grid)');
    if (grid && grid.__cursor) grid.__cursor(q, k);
    this._highlight(q);
    if (m.cellDetails) this._showDetail(m.cellDetails(this._trace, this._stepState(), q, k));
  }

  _showDetail(nodes) {
    if (this._built && this.controls !== 'none') this._built.detail.replaceChildren(...nodes);
  }

  /** Lights token i (or nothing) in every view: labels, rows, columns, strips, arrows, chips. */
  _highlight(i) {
    if (this._hl === i) return;
    this._hl = i;
    const view = this._built.view;
    for (const el of view.querySelectorAll('.hl')) el.classList.remove('hl');
    if (i !== null && Number.isFinite(i)) for (const el of view.querySelectorAll(`[data-tok="${i}"],[data-q="${i}"],[data-k="${i}"]`)) el.classList.add('hl');
    for (const fig of view.querySelectorAll('figure')) {
      const f = highlighterOf(fig);
      if (f) f(i);
    }
  }

  _onKey(e) {
    const target = e.composedPath()[0];
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (target instanceof Element && target.matches('canvas.grid')) {
      const { T, transpose } = target.__grid;
      const section = target.closest('section');
      let { q, k } = this._cell && this._cell.section === section ? this._cell : { q: 0, k: 0 };
      let [a, b] = transpose ? [k, q] : [q, k];
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1], Home: [0, -T], End: [0, T] };
      if (!moves[e.key]) return;
      e.preventDefault();
      if (this._cell && this._cell.section === section) {
        a = Math.max(0, Math.min(T - 1, a + moves[e.key][0]));
        b = Math.max(0, Math.min(T - 1, b + moves[e.key][1]));
      }
      [q, k] = transpose ? [b, a] : [a, b];
      this._focusCell(section, q, k);
      return;
    }
    if (target instanceof Element && target.matches('input, textarea, select')) return;
    if (e.key === 'ArrowRight') { e.preventDefault(); this.next(); }
    else if (e.key === 'ArrowLeft') { e.preventDefault(); this.previous(); }
  }

  // ----- export -------------------------------------------------------------------------------------

  /** Downloads the current view: 'svg' or 'png' (the figures) or 'csv' or 'json' (their numbers). */
  async exportView(kind) {
    if (!this._trace) return;
    const id = this.step;
    const base = `attention-${id}${stepById(id).scope !== 'model' ? `-layer${this.layer + 1}` : ''}${stepById(id).scope === 'head' ? `-head${this.head + 1}` : ''}`;
    try {
      if (kind === 'json' || kind === 'csv') {
        const d = stepById(id).data(this._trace, this._stepState());
        const meta = { model: this._trace.model, text: this.text, step: id, layer: this.layer, head: this.head, options: this._trace.options, tokens: this._trace.tokens.map((t) => t.text) };
        if (kind === 'json') {
          const tables = d.tables.map((tb) => ({ name: tb.name, shape: [tb.rows, tb.cols], row_labels: tb.rowLabels, col_labels: tb.colLabels,
            data: Array.from({ length: tb.rows }, (_, i) => Array.from(tb.values.subarray(i * tb.cols, (i + 1) * tb.cols), jsonNumber)) }));
          this._download(`${base}.json`, 'application/json', JSON.stringify({ ...meta, tables }, null, 1));
        } else {
          this._download(`${base}.csv`, 'text/csv', toCsv(d.tables));
        }
        return;
      }
      const svg = this.viewSvg();
      const text = new XMLSerializer().serializeToString(svg);
      if (kind === 'svg') { this._download(`${base}.svg`, 'image/svg+xml', text); return; }
      const png = await svgToPng(text, Number(svg.getAttribute('width')), Number(svg.getAttribute('height')));
      this._download(`${base}.png`, 'image/png', png);
    } catch (e) {
      this._showDetail([h('p', { class: 'error', role: 'alert', text: `Export failed: ${e.message}` })]);
    }
  }

  /** The current step's figures stacked into one standalone SVG (light colours, its own styles). */
  viewSvg() {
    const section = this._built.view.querySelector(`section[data-step="${this.step}"]`);
    const figs = section ? [...section.querySelectorAll('figure')].map((f) => exportOf(f)).filter(Boolean).map((f) => f()) : [];
    const m = stepById(this.step);
    let y = 30, width = 400;
    const out = s('svg', { xmlns: 'http://www.w3.org/2000/svg' });
    out.append(s('style', { text: EXPORT_CSS }));
    out.append(s('text', { x: 10, y: 20, class: 'title', text: `${m.title}: ${mathOf(m, this.model)} · “${this.text}” · ${this._engine.info.name}` }));
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

  _download(name, type, content) {
    const blob = content instanceof Blob ? content : new Blob([content], { type });
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, hidden: true });
    this._root.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    this._showDetail([h('p', { text: `Saved ${name}.` })]);
  }
}

const jsonNumber = (v) => (Number.isFinite(v) ? v : v === -Infinity ? '-Infinity' : String(v));

const EXPORT_CSS = `text{font-family:system-ui,sans-serif}text:not([fill]){fill:#1d1d1f}.title{font-size:13px;font-weight:600}.label,.point-label,.num-out{font-size:11px}
.axis-title{font-size:11px;font-weight:600;fill:#5d6168}.tick{font-size:10px}.muted,.vocab-label{fill:#5d6168}.vocab-label{font-size:9px}
.num.masked,.num.sum{fill:#5d6168}.mask-bg{fill:#e9eaee}.mask-line{stroke:#9aa0a8}.band,.cursor{display:none}.att-line{stroke:#0b57d0}
.map-frame{fill:none;stroke:#d0d4da}.vocab-dot{fill:#5d6168;opacity:.45}.before{fill:#fff;stroke:#1d1d1f;stroke-width:1.5}.after,.arrow-head{fill:#0b57d0}
.move{stroke:#0b57d0;stroke-width:1.5}.ghost{fill:none;stroke:#1d1d1f;stroke-dasharray:3 2}`;

function csvCell(v) {
  const str = String(v);
  return /[",\n\r]/.test(str) ? `"${str.replace(/"/g, '""')}"` : str;
}

function toCsv(tables) {
  const out = [];
  for (const tb of tables) {
    out.push(csvCell(tb.name));
    out.push(['token', ...tb.colLabels].map(csvCell).join(','));
    for (let i = 0; i < tb.rows; i++) out.push([csvCell(tb.rowLabels[i]), ...Array.from(tb.values.subarray(i * tb.cols, (i + 1) * tb.cols), (v) => (v === -Infinity ? '-inf' : String(v)))].join(','));
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

export function define(tag = 'attention-explorer', registry = customElements) {
  return AttentionExplorer.define(tag, registry);
}

// One include is enough: define the default tag unless the page (or define.js) already did.
if (typeof customElements !== 'undefined' && !customElements.get('attention-explorer')) define();
