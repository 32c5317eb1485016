// The <attention-explorer> class: its state (attributes mirrored by properties, and options, view and
// showAll, which have none), its lifecycle, the analysis and the rendering of a step. Importing this
// module registers nothing: define.js does (see there), and ../attention-explorer.js is the one include.
// The controls around the view are built in controls.js, hover, focus and keys are handled in
// interaction.js, and the exports made in export.js.
//
// Attributes (mirrored by properties): text, step, steps, layer, head, controls (full | minimal | none),
// transpose, theme (light | dark | auto), height, and the lesson's: mode (explore | tour | compare), stop (the
// tour stop, from 1), highlight (a cell "forest→verdant" or a token "bank" to mark), caption (a note shown
// above the figure) and compare (the second sentence), and model (tiny | smollm2-135m | the URL of a .gguf
// file: a large model, shown by llm/panel.js and run in a Web Worker; the `model` property stays the
// built-in engine's info). Every change of state fires one bubbling, composed
// `attention-explorer:change` event whose detail is the new state (see `state`). The modes live in modes.js.

import { h } from '../draw.js';
import { loadEngine } from '../engine.js';
import { mathOf, stepById, stepIdsFor } from '../steps/index.js';
import { CSS } from '../element-css.js';
import { buildFrame, updateControls } from './controls.js';
import { exportView, viewSvg } from './export.js';
import { MODES, TOUR_LENGTH, analyzeOther, comparing, decorateView, enterStop, lessonOf } from './modes.js';
import { compareView } from './compare.js';
import { withTerms } from './glossary.js';
import { isLarge, renderLarge, loadFile, closeFile } from '../llm/panel.js';

export const DEFAULT_TEXT = 'a fluffy blue creature roamed the verdant forest';
export const EVENT = 'attention-explorer:change';
const ATTRIBUTES = ['text', 'step', 'steps', 'layer', 'head', 'controls', 'transpose', 'theme', 'height', 'mode', 'stop', 'highlight', 'caption', 'compare', 'model'];
/** Everything a page may set before the element is defined (taken over when it connects). */
const PROPERTIES = [...ATTRIBUTES, 'options', 'view', 'showAll'];
const CONTROLS = ['full', 'minimal', 'none'];
const THEMES = ['light', 'dark', 'auto'];

const registered = new WeakMap();

/** A copy of an options object that cannot throw, whatever a page put in it (arrays copied, pairs too). */
const copyOptions = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, copyArrays(v)]));
const copyArrays = (v) => (Array.isArray(v) ? v.map(copyArrays) : v);

// One constructed stylesheet per document: a sheet can only be adopted in the document whose window
// constructed it, so an element moved into another document (adoptNode, an iframe) gets that document's.
const sheets = new WeakMap();
function sheetFor(doc) {
  let sheet = sheets.get(doc);
  if (!sheet) {
    sheet = new doc.defaultView.CSSStyleSheet();
    sheet.replaceSync(CSS);
    sheets.set(doc, sheet);
  }
  return sheet;
}

const intAttr = (v) => {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) && n >= 0 ? n : 0;
};

/** A height attribute as a CSS length: a positive number (px) or a positive length in px, em, rem, vh or %. */
export function heightLength(v) {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(px|em|rem|vh|%)?$/.exec(v ?? '');
  return m && Number(m[1]) > 0 ? `${m[1]}${m[2] ?? 'px'}` : null;
}

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
    this._adoptStyles();
    this._options = { scale: true, causal: true, disabled_heads: [], temperature: 1, predict_position: null };
    this._view = 'grid';
    this._showAll = false;
    this._engine = null;
    this._trace = null;
    this._baseline = null;
    this._error = null;
    this._hl = null;
    this._cell = null;
    this._other = null;
    this._pair = null;
    this._comparison = null;
    this._lesson = null;
    this._tour = { applied: null, revealed: false, guess: null, savedOptions: null, userText: null };
    this._scheduled = false;
    this._pendingEvent = false;
    this._live = false;
    this._built = null;
    this._release = [];
    this._readyResolve = null;
    this.ready = new Promise((resolve) => { this._readyResolve = resolve; });
    this._root.append(h('div', { class: 'status', role: 'status', text: 'Loading the attention explorer…' }));
  }

  // ----- attributes ↔ properties ------------------------------------------------------------------

  get text() { return this.getAttribute('text') ?? DEFAULT_TEXT; }
  set text(v) { this.setAttribute('text', String(v ?? '')); }

  /** The step ids offered (attribute `steps`, space- or comma-separated; all by default). */
  get steps() {
    const all = stepIdsFor(this.model);
    const want = (this.getAttribute('steps') ?? '').split(/[\s,]+/).filter((x) => all.includes(x));
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
  set height(v) { this._optional('height', v); }

  /** explore | tour | compare (a `compare` sentence alone means compare). */
  get mode() {
    const v = this.getAttribute('mode');
    return MODES.includes(v) ? v : this.getAttribute('compare') ? 'compare' : 'explore';
  }
  set mode(v) { this.setAttribute('mode', String(v)); }

  /** The tour stop, 1 to the tour's length. */
  get stop() { return Math.min(TOUR_LENGTH, Math.max(1, intAttr(this.getAttribute('stop')) || 1)); }
  set stop(v) { this.setAttribute('stop', String(Math.max(1, intAttr(String(v))))); }

  get highlight() { return this.getAttribute('highlight'); }
  set highlight(v) { this._optional('highlight', v); }
  get caption() { return this.getAttribute('caption'); }
  set caption(v) { this._optional('caption', v); }
  get compare() { return this.getAttribute('compare'); }
  set compare(v) { this._optional('compare', v); }

  _optional(name, v) {
    if (v === null || v === undefined || v === '') this.removeAttribute(name);
    else this.setAttribute(name, String(v));
  }

  // ----- state that has no attribute ----------------------------------------------------------------

  /** Ablations and prediction settings passed to the engine (a copy). They are passed as they are: the
   * engine's validator (src/options.rs) checks them, and the view shows its message for any it refuses. */
  get options() { return copyOptions(this._options); }
  set options(v) {
    this._options = { ...this._options, ...v };
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
    return { text: this.text, step: this.step, steps: this.steps, layer: this.layer, head: this.head, controls: this.controls,
      transpose: this.transpose, theme: this.theme, height: this.height, view: this._view, showAll: this._showAll, options: this.options,
      mode: this.mode, stop: this.stop, highlight: this.highlight, caption: this.caption, compare: this.compare };
  }

  /** The large model's state ({ status, error, busy, info, summary, view, layer, head, step, gen }), or null. */
  get large() {
    const L = isLarge(this) ? this._large : null;
    if (!L) return null;
    const { status, error, busy, info, summary, view, layer, head, step, gen, loadMs, analyseMs, memory } = L;
    return { model: L.choice.label, status, error, busy, info, summary, view, layer, head, step, gen, loadMs, analyseMs, memory };
  }

  /** Shows a large model from a .gguf File (run in a Web Worker of its own). Resolves to its info; on
   * error rejects with a readable Error and the model shown before stays. `onProgress(loaded, total)`. */
  async loadModelFile(file, onProgress) {
    const info = await loadFile(this, file, onProgress);
    this._changed();
    return info;
  }

  /** Forgets a file given with loadModelFile: back to the `model` attribute's model (tiny by default). */
  closeModelFile() {
    closeFile(this);
    this._changed();
  }

  next() { this._move(1); }
  previous() { this._move(-1); }

  /** Downloads the current view: 'svg' or 'png' (the figures) or 'csv' or 'json' (their numbers). Resolves to
   * true when the file was handed to the browser, false when not (the detail panel says why). */
  exportView(kind) { return exportView(this, kind); }

  /** The current step's figures stacked into one standalone SVG (light colours, its own styles). */
  viewSvg() { return viewSvg(this); }

  /** The tour stop's lesson on the live trace (question, choices, answer, caption, mark), or null outside the tour. */
  get lesson() { return this._lesson; }
  /** Whether the tour stop's answer is shown. */
  get revealed() { return this.mode === 'tour' && (this.controls === 'none' || this._tour.revealed); }

  _move(by) {
    if (this.mode === 'tour') {
      const n = this.stop + by;
      if (n >= 1 && n <= TOUR_LENGTH) this.stop = n;
      return;
    }
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
    this._takeOverProperties();
    if (!this.hasAttribute('role')) this.setAttribute('role', 'region');
    if (!this.hasAttribute('aria-label')) this.setAttribute('aria-label', 'Attention explorer');
    this._applyHeight();
    this._watchScheme();
    loadEngine().then((engine) => {
      this._engine = engine;
      // Another model was loaded (engine.load/reset): rebuild for its sizes and re-analyse. Switched-off
      // heads and the predicting token were chosen among the previous model's heads and tokens: reset them.
      if (this.isConnected && !this._unwatchModel) {
        this._unwatchModel = engine.onModelChange(() => {
          this._options = { ...this._options, disabled_heads: [], predict_position: null };
          this._built = null;
          this._changed(false);
        });
      }
      this._changed(false);
    }, (err) => this._fail(err));
  }

  /** Releases what connectedCallback subscribed, so a removed widget can be collected. */
  disconnectedCallback() {
    for (const release of this._release.splice(0)) release();
    if (this._unwatchModel) this._unwatchModel();
    this._unwatchModel = null;
  }

  /** Moved into another document (adoptNode): the styles of the old one cannot be adopted there. */
  adoptedCallback() {
    this._colourCache = null;
    this._adoptStyles();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === 'height') this._applyHeight();
    if (name === 'controls' || name === 'steps') this._built = null;
    if (name === 'model') closeFile(this);
    this._changed();
  }

  /** A property set on the element before its class was defined shadows the accessor: re-set it through it. */
  _takeOverProperties() {
    for (const name of PROPERTIES) {
      if (!Object.prototype.hasOwnProperty.call(this, name)) continue;
      const value = this[name];
      delete this[name];
      this[name] = value;
    }
  }

  /** theme="auto" follows the system: canvases must be redrawn in the new colours. */
  _watchScheme() {
    const win = this.ownerDocument.defaultView;
    if (!win || typeof win.matchMedia !== 'function') return;
    this._scheme = win.matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => { if (this.theme === 'auto') this._changed(false); };
    const scheme = this._scheme;
    scheme.addEventListener('change', onChange);
    this._release.push(() => scheme.removeEventListener('change', onChange));
  }

  _adoptStyles() {
    const doc = this.ownerDocument;
    // A document without a window (document.implementation.createHTMLDocument) renders nothing and cannot
    // construct sheets; the styles come back with the next adoption.
    if (!doc.defaultView) return;
    this._local = new doc.defaultView.CSSStyleSheet();
    this._root.adoptedStyleSheets = [sheetFor(doc), this._local];
    this._applyHeight();
  }

  _applyHeight() {
    const len = heightLength(this.getAttribute('height'));
    if (this._local) this._local.replaceSync(len ? `:host { --ae-height: ${len}; }` : '');
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

  /** The options the engine gets: the element's as they are, with the views' own top_k and neighbours. A
   * predicting position past this text's tokens means the last token (the trace's options then say null). */
  _engineOptions() {
    return { ...this._options, top_k: 10, neighbours: this._showAll || this.step === 'update' || comparing(this) };
  }

  _analyze() {
    const engine = this._engine;
    const text = this.text;
    const options = this._engineOptions();
    try {
      this._trace = engine.analyze(text, options);
      const o = this._trace.options; // the engine's canonical reading of them
      const ablated = !o.scale || !o.causal || o.disabled_heads.length > 0;
      this._baseline = ablated ? engine.analyze(text, { ...options, scale: true, causal: true, disabled_heads: [] }) : null;
      this._error = null;
      analyzeOther(this, options);
    } catch (e) {
      this._trace = null;
      this._baseline = null;
      this._error = e && e.message ? e.message : String(e);
    }
  }

  // ----- rendering ----------------------------------------------------------------------------------

  _render() {
    if (isLarge(this)) {
      this._built = null; // the tiny model's frame is rebuilt when the element goes back to it
      renderLarge(this);
      this._markLive();
      return;
    }
    enterStop(this);
    this._analyze();
    this._lesson = lessonOf(this);
    if (!this._built) {
      this._built = buildFrame(this);
      this._root.replaceChildren(this._built.root);
      this._thumbs = null;
    }
    updateControls(this);
    this._renderView();
    this._markLive();
  }

  _markLive() {
    if (!this._live) {
      this._live = true;
      if (typeof performance !== 'undefined' && performance.mark) performance.mark('attention-explorer:first-render');
      this._readyResolve(true);
    }
  }

  _renderView() {
    const b = this._built;
    this._hl = null;
    this._cell = null;
    if (!this._trace) {
      b.view.replaceChildren(h('div', { class: 'error', role: 'alert' }, h('p', { text: `Nothing to show: ${this._error}.` })));
      return;
    }
    const ids = this._showAll && this.mode === 'explore' ? this.steps : [this.step];
    this._terms = new Set(); // each glossary word is explained at its first use in the view
    b.view.replaceChildren(...(comparing(this) ? [compareView(this)] : ids.map((id) => this._section(id))));
    decorateView(this);
  }

  /** The theme's colours, for what is drawn on canvases (CSS cannot reach canvas pixels). */
  _colours() {
    const key = `${this.theme}:${this._scheme && this._scheme.matches}`;
    if (this._colourCache && this._colourCache.key === key) return this._colourCache.value;
    const cs = getComputedStyle(this);
    const v = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
    const value = { fg: v('--ae-fg', '#1d1d1f'), muted: v('--ae-muted', '#5d6168'), accent: v('--ae-accent', '#b4440f'),
      focus: v('--ae-focus', '#0b57d0'), maskBg: v('--ae-mask-bg', '#e9eaee'), maskLine: v('--ae-mask-line', '#9aa0a8') };
    this._colourCache = { key, value };
    return value;
  }

  _stepState() {
    return { layer: this.layer, head: this.head, transpose: this.transpose, view: this._view };
  }

  /** One step: its heading (numbered within the steps offered), its math, its prose and its figures. */
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
    const n = this.steps.indexOf(id) + 1;
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
      h('div', { class: 'explain' }, m.explain(t, st).map((p) => h('p', {}, withTerms(p, this._terms)))),
      body);
  }

  _where(t, st, head) {
    const c = t.config;
    const parts = [];
    if (c.n_layers > 1) parts.push(`layer ${st.layer + 1} of ${c.n_layers}`);
    if (head) {
      const off = t.options.disabled_heads.some(([l, hd]) => l === st.layer && hd === st.head);
      parts.push(`head ${st.head + 1} of ${c.n_heads}${off ? ' (switched off)' : ''}`);
    }
    return parts.join(', ');
  }
}
