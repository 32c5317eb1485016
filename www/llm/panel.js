// The widget's view of a large model (model="smollm2-135m", a .gguf URL, or a file from "Load your own
// model"): the loading progress, the text box, the next-token prediction, the tokens, the walkthrough
// of one step of one head (llm/walk.js), grouped-query attention in one sentence and the head gallery
// (llm/gallery.js). The model runs in a Web Worker (llm/client.js), so typing never waits for it: each
// keystroke sets the element's text, and a newer text supersedes the analysis in flight.
//
// State lives in el._large: { choice, client, info, summary, view, layer, head, step, status, busy, error }.

import { h, pct } from '../draw.js';
import { resolveChoice, clientFor, clientForFile } from './models.js';
import { buildGallery } from './gallery.js';
import { renderView, STEP_TITLES } from './walk.js';
import { RULES } from './names.js';
import { LLM_CSS } from './css.js';

export const LARGE_EXAMPLES = [
  { label: 'capital of France', text: 'The capital of France is' },
  { label: 'repeated random words (induction)', text: 'piano lemon ostrich velvet canyon fossil tulip hammock piano lemon ostrich velvet canyon fossil tulip hammock' },
  { label: 'a story', text: 'Once upon a time, a little fox found a shiny key in the snow. She picked it up and' },
];

const MB = (n) => `${(n / 1e6).toFixed(1)} MB`;

const sheets = new WeakMap();
function adoptSheet(el) {
  const doc = el.ownerDocument;
  if (!doc.defaultView) return;
  let sheet = sheets.get(doc);
  if (!sheet) { sheet = new doc.defaultView.CSSStyleSheet(); sheet.replaceSync(LLM_CSS); sheets.set(doc, sheet); }
  if (!el._root.adoptedStyleSheets.includes(sheet)) el._root.adoptedStyleSheets = [...el._root.adoptedStyleSheets, sheet];
}

/** Whether the element shows a large model (its `model` attribute, or a file it was given). */
export function isLarge(el) {
  return Boolean(el._largeFile) || resolveChoice(el.getAttribute('model'), el.ownerDocument.baseURI).kind === 'large';
}

/** Renders the large-model view into the element's shadow root (building it when the model changed). */
export function renderLarge(el) {
  const choice = el._largeFile ? el._largeFile.choice : resolveChoice(el.getAttribute('model'), el.ownerDocument.baseURI);
  let L = el._large;
  if (!L || L.choice.key !== choice.key) {
    L = el._large = build(el, choice);
    if (el._largeFile) connect(el, L, Promise.resolve(el._largeFile));
    else if (choice.url) connect(el, L, clientFor(choice.url, (loaded, total, stage) => progress(L, loaded, total, stage)));
    else fail(L, choice.error);
  }
  adoptSheet(el);
  if (el._root.firstElementChild !== L.root) el._root.replaceChildren(L.root);
  if (L.parts.box.value !== el.text) L.parts.box.value = el.text;
  if (L.info) analyze(el, L);
}

/** Loads a .gguf File into a worker of its own; on success the element shows it (the previous large
 * model's worker, if it was a file's, is stopped); on error nothing changes and the Error says why. */
export async function loadFile(el, file, onProgress) {
  const loaded = await clientForFile(file, onProgress);
  const old = el._largeFile;
  el._largeFile = { ...loaded, choice: { kind: 'large', key: `file:${file.name}:${Date.now()}`, url: null, label: file.name } };
  if (old) old.client.terminate();
  return loaded.info;
}

/** Forgets a file given with loadFile (the element goes back to its `model` attribute). */
export function closeFile(el) {
  if (!el._largeFile) return;
  el._largeFile.client.terminate();
  el._largeFile = null;
}

function build(el, choice) {
  const parts = {};
  parts.status = h('p', { class: 'llm-status', role: 'status', 'aria-live': 'polite', text: `Loading ${choice.label}…` });
  parts.bar = h('progress', { class: 'llm-progress', max: 1, 'aria-label': `loading ${choice.label}` });
  parts.box = h('textarea', { class: 'llm-text', rows: 3, maxlength: 4000, 'aria-label': `Text for ${choice.label}`, spellcheck: 'false' });
  parts.box.addEventListener('input', () => { el.text = parts.box.value; });
  const examples = h('div', { class: 'llm-examples', role: 'group', 'aria-label': 'examples' },
    LARGE_EXAMPLES.map((x) => h('button', { type: 'button', class: 'example', text: x.label, title: x.text, on: { click: () => { el.text = x.text; } } })));
  parts.notice = h('p', { class: 'llm-notice' });
  parts.predict = h('div', { class: 'llm-predict' });
  parts.tokens = h('ol', { class: 'chips llm-tokens', 'aria-label': 'tokens' });
  parts.layer = h('select', { class: 'llm-layer', 'aria-label': 'layer' });
  parts.head = h('select', { class: 'llm-head-pick', 'aria-label': 'head' });
  parts.step = h('select', { class: 'llm-step-pick', 'aria-label': 'step' });
  parts.walk = h('div', { class: 'llm-walk' });
  parts.gqa = h('p', { class: 'llm-gqa' });
  parts.rules = h('ul', { class: 'llm-rules' }, RULES.map(([name, , , words]) => h('li', {}, h('strong', { text: name }), `: ${words}`)),
    h('li', {}, h('strong', { text: 'broad' }), ': none of the above'));
  parts.credit = h('p', { class: 'credit llm-credit' });
  const L = { choice, parts, client: null, info: null, summary: null, view: null, layer: 0, head: 0, step: 'weights', status: 'loading', busy: false, error: null, sentText: null, gen: 0 };
  L.gallery = buildGallery((layer, head) => { L.layer = layer; L.head = head; L.step = 'weights'; syncPickers(L); fetchView(el, L); parts.walk.scrollIntoView({ block: 'nearest' }); });
  for (const [sel, key] of [[parts.layer, 'layer'], [parts.head, 'head']]) sel.addEventListener('change', () => { L[key] = Number(sel.value); fetchView(el, L); });
  parts.step.addEventListener('change', () => { L.step = parts.step.value; fetchView(el, L); });
  L.root = h('div', { class: 'ae ae-llm', part: 'llm' },
    h('div', { class: 'llm-load' }, parts.status, parts.bar),
    h('div', { class: 'llm-input' }, parts.box, examples, parts.notice),
    parts.predict, parts.tokens,
    h('section', { class: 'llm-walkthrough', 'aria-label': 'walkthrough of one head' },
      h('div', { class: 'llm-pickers' }, h('label', {}, 'Layer ', parts.layer), h('label', {}, 'Head ', parts.head), h('label', {}, 'Step ', parts.step)),
      parts.gqa, parts.walk),
    L.gallery.root, h('details', { class: 'llm-rules-box' }, h('summary', { text: 'How the heads are named (the same rules as the tiny model’s profile)' }), parts.rules),
    parts.credit);
  return L;
}

function progress(L, loaded, total, stage) {
  if (L.info) return;
  L.parts.bar.max = total || 1;
  L.parts.bar.value = loaded;
  L.parts.status.textContent = stage ? `Loading ${L.choice.label}: ${stage} (${MB(loaded)})…` : `Loading ${L.choice.label}: ${MB(loaded)}${total ? ` of ${MB(total)} (${Math.round((100 * loaded) / total)} %)` : ''}…`;
}

function fail(L, message) {
  L.status = 'error';
  L.error = message;
  L.parts.bar.hidden = true;
  L.parts.status.setAttribute('role', 'alert');
  L.parts.status.classList.add('error');
  L.parts.status.textContent = `${L.choice.label} could not be loaded: ${message}. The tiny built-in model is still there: choose “tiny” (or remove the model attribute) to use it.`;
}

function connect(el, L, promise) {
  promise.then(({ client, info }) => {
    if (el._large !== L) return;
    L.client = client;
    L.info = info;
    L.status = 'ready';
    L.parts.bar.hidden = true;
    L.loadMs = client.loadMs;
    L.memory = client.memory;
    setupPickers(L);
    const c = info.config;
    L.parts.credit.replaceChildren(`${info.name} · ${c.n_layers} layers × ${c.n_heads} heads (${c.n_kv_heads} key/value heads), d_model ${c.d_model}, ` +
      `${c.vocab_size.toLocaleString('en')} tokens, ${MB(info.file_bytes)} · runs in a Web Worker in this page (wasm memory ${MB(client.memory)}) · up to ${info.max_tokens} tokens per analysis`,
    L.choice.licence ? [' · ', h('a', { href: L.choice.licence, text: 'licence (Apache-2.0)' }), ' · ', h('a', { href: L.choice.card, text: 'data card' })] : null);
    el._changed(false);
  }, (err) => { if (el._large === L) fail(L, err.message); });
}

function setupPickers(L) {
  const c = L.info.config;
  L.parts.layer.replaceChildren(...Array.from({ length: c.n_layers }, (_, i) => h('option', { value: i, text: String(i + 1) })));
  L.parts.head.replaceChildren(...Array.from({ length: c.n_heads }, (_, i) => h('option', { value: i, text: `${i + 1} (key/value head ${Math.floor(i / (c.n_heads / c.n_kv_heads)) + 1})` })));
  L.parts.step.replaceChildren(...L.info.steps.map((s) => h('option', { value: s, text: STEP_TITLES[s] ?? s })));
  syncPickers(L);
  const g = c.n_heads / c.n_kv_heads;
  const groups = Array.from({ length: c.n_kv_heads }, (_, k) => `query heads ${k * g + 1}–${k * g + g} share key/value head ${k + 1}`);
  L.parts.gqa.textContent = `Grouped-query attention: each layer has ${c.n_heads} query heads but only ${c.n_kv_heads} key/value heads; ${groups.join(', ')}. ` +
    `So every token gets ${c.n_heads} queries but only ${c.n_kv_heads} keys and ${c.n_kv_heads} values per layer, and the keys, values and rotated keys of heads in one group are the same numbers (a third of the memory for keys and values).`;
}

function syncPickers(L) {
  L.parts.layer.value = String(L.layer);
  L.parts.head.value = String(L.head);
  L.parts.step.value = L.step;
  L.gallery.select(L.layer, L.head);
}

/** Sends the element's text for analysis unless it is the one shown or in flight. */
function analyze(el, L) {
  const text = el.text;
  if (text === L.sentText) return;
  L.sentText = text;
  L.busy = true;
  L.parts.status.classList.remove('error');
  L.parts.status.setAttribute('role', 'status');
  L.client.analyze(text, {}, { layer: L.layer, head: L.head, step: L.step }, (gen) => {
    L.parts.status.textContent = 'Analysing in the worker (the page stays responsive; a newer text replaces this one)…';
    L.parts.status.dataset.gen = String(gen);
    L.parts.bar.removeAttribute('value'); // indeterminate: one wasm call, no steps to count
    L.parts.bar.hidden = false;
  }).then((r) => {
    if (!r || el._large !== L) return; // superseded by a newer text
    L.busy = false;
    L.parts.bar.hidden = true;
    L.gen = r.gen;
    L.summary = r.summary;
    L.view = r.view;
    L.error = null;
    const sameView = r.view.layer === L.layer && r.view.head === L.head && r.view.step === L.step;
    L.parts.status.textContent = `Analysed ${r.summary.tokens.length} tokens in ${Math.round(r.ms)} ms: every intermediate of all ${L.info.config.n_layers} layers, kept in the worker.` +
      (L.loadMs ? ` (The model took ${Math.round(L.loadMs.read)} ms to fetch and ${Math.round(L.loadMs.load)} ms to load.)` : '');
    L.analyseMs = r.ms;
    L.memory = r.memory;
    show(el, L);
    if (!sameView) fetchView(el, L);
  }, (err) => {
    if (el._large !== L) return;
    L.busy = false;
    L.parts.bar.hidden = true;
    L.error = err.message;
    L.parts.status.classList.add('error');
    L.parts.status.setAttribute('role', 'alert');
    L.parts.status.textContent = `This text could not be analysed: ${err.message}.`;
  });
}

function fetchView(el, L) {
  syncPickers(L);
  if (!L.summary || L.busy) return; // the analysis in flight answers with a view; then it is checked again
  L.client.view(L.layer, L.head, L.step).then((a) => {
    if (el._large !== L || a.gen !== L.gen) return;
    L.view = a.view;
    L.parts.walk.replaceChildren(renderView(L.view, L.summary, L.info, el._colours()));
  }, (err) => {
    if (el._large === L) L.parts.walk.replaceChildren(h('p', { class: 'error', role: 'alert', text: `This view could not be shown: ${err.message}.` }));
  });
}

function show(el, L) {
  const s = L.summary;
  L.parts.notice.textContent = s.notice ?? '';
  const p = s.predict;
  const at = s.tokens[p.position];
  L.parts.predict.replaceChildren(h('p', {}, h('strong', { text: 'Next token' }), ` after ${at ? JSON.stringify(at.text) : 'the text'}: `),
    h('ol', { class: 'llm-top' }, p.top.slice(0, 5).map((c) => h('li', {}, h('code', { class: 'llm-top-text', text: JSON.stringify(c.text) }), ` ${pct(c.prob)}`))));
  L.parts.tokens.replaceChildren(...s.tokens.map((t, i) => h('li', { class: 'chip', title: `token ${i}: id ${t.id}` }, h('span', { class: 'chip-text', text: t.text }), h('span', { class: 'chip-id', text: `#${t.id}` }))));
  L.parts.walk.replaceChildren(renderView(L.view, s, L.info, el._colours()));
  L.gallery.select(L.layer, L.head);
  L.gallery.update(s, L.info, L.gen);
}
