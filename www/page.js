// The walkthrough page: hosts one full <attention-explorer> and keeps its state in the URL
// (#text=…&step=…&layer=…&head=…, plus tour=N on a tour stop, or mode=compare&compare=… when comparing), so
// a view can be shared and back/forward walk through the steps and stops.
import './attention-explorer.js';
import { load as loadModel, reset as resetModel, onEngineStatus } from './engine.js';
import { headList, auxTrained } from './heads.js';

const explorer = document.getElementById('explorer');
const KEYS = ['text', 'step', 'layer', 'head'];
/** The mode's keys: tour=N (a tour stop), or mode=compare with compare=<the second sentence>. */
const MODE_KEYS = ['tour', 'mode', 'compare'];

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const out = {};
  for (const k of [...KEYS, ...MODE_KEYS]) if (p.has(k)) out[k] = p.get(k);
  return out;
}

/** The hash's mode onto the element: a tour stop, compare mode, or (neither) the free explorer. */
function applyMode(want) {
  const set = (k, v) => { if (explorer.getAttribute(k) !== v) explorer.setAttribute(k, v); };
  if ('tour' in want) {
    set('mode', 'tour');
    set('stop', want.tour);
  } else if (want.mode === 'compare' || 'compare' in want) {
    set('mode', 'compare');
    if ('compare' in want) set('compare', want.compare); else explorer.removeAttribute('compare');
  } else {
    for (const k of ['mode', 'stop', 'compare']) explorer.removeAttribute(k);
  }
}

function isAnchor(hash) {
  let id;
  try { id = decodeURIComponent(hash.slice(1)); } catch { return false; }
  return id !== '' && document.getElementById(id) !== null;
}

function applyHash() {
  const want = readHash();
  // A hash naming an element of this page (#how) is an in-page link, not a view: leave the view alone.
  if (Object.keys(want).length === 0 && isAnchor(location.hash)) return;
  for (const k of KEYS) {
    if (k in want) { if (explorer.getAttribute(k) !== want[k]) explorer.setAttribute(k, want[k]); }
    else if (k !== 'text') explorer.removeAttribute(k);
  }
  if (!('text' in want)) explorer.removeAttribute('text');
  applyMode(want);
}

// Only a text of at most this many characters goes into the URL: encoding and storing a long one blocks the
// page (1 MB of text took ~5.5 s). A longer text is left out of the hash, so a shared link or a history
// entry shows the default sentence with the same step, layer and head (as a hash without text= always has).
const MAX_HASH_TEXT = 2000;

function hashOf(state) {
  const p = new URLSearchParams();
  if (state.text.length <= MAX_HASH_TEXT) p.set('text', state.text);
  p.set('step', state.step);
  p.set('layer', String(state.layer));
  p.set('head', String(state.head));
  if (state.mode === 'tour') p.set('tour', String(state.stop));
  else if (state.mode === 'compare') {
    p.set('mode', 'compare');
    if (state.compare && state.compare.length <= MAX_HASH_TEXT) p.set('compare', state.compare);
  }
  return '#' + p.toString().replace(/\+/g, '%20');
}

let last = readHash();
// While a history entry is being restored, the element's answer (which may normalise the URL's values,
// e.g. a layer the model does not have) replaces that entry instead of adding one.
let restoring = false;
// Typing rewrites the URL once the typing pauses: history.replaceState costs Chromium ~10 ms, most of a
// frame, and a keystroke must redraw within one.
const TYPING_PAUSE_MS = 250;
let pending = null;
function flushText() {
  if (pending === null) return;
  clearTimeout(pending.timer);
  if (pending.hash !== location.hash) history.replaceState(null, '', pending.hash);
  pending = null;
}
explorer.addEventListener('attention-explorer:change', (e) => {
  const next = hashOf(e.detail);
  const tour = e.detail.mode === 'tour' ? String(e.detail.stop) : undefined;
  const now = { text: e.detail.text, step: e.detail.step, layer: String(e.detail.layer), head: String(e.detail.head), tour, mode: e.detail.mode === 'compare' ? 'compare' : undefined };
  // Typing replaces the entry (no history entry per keystroke); moving to another step, layer, head, stop or mode adds one.
  const onlyText = last.step === now.step && last.layer === now.layer && last.head === now.head && last.tour === now.tour && last.mode === now.mode;
  if (onlyText && !restoring) {
    if (pending) clearTimeout(pending.timer);
    pending = { hash: next, timer: setTimeout(flushText, TYPING_PAUSE_MS) };
  } else {
    flushText();
    // A hash being restored with a text too long to write back keeps its URL: rewriting it without text=
    // would make the hashchange that follows (after popstate) restore the default sentence.
    const keep = restoring && e.detail.text.length > MAX_HASH_TEXT;
    if (!keep && next !== location.hash) {
      if (restoring) history.replaceState(null, '', next); else history.pushState(null, '', next);
    }
  }
  last = now;
  restoring = false;
});
window.addEventListener('pagehide', flushText);

function restore() {
  if (pending) { clearTimeout(pending.timer); pending = null; } // the entry being left keeps its URL
  last = readHash();
  restoring = true;
  applyHash();
  setTimeout(() => { restoring = false; }, 0); // the element answers in a microtask, before this runs
}
window.addEventListener('popstate', restore);
window.addEventListener('hashchange', restore);

// ←/→ move between steps when nothing else on the page has the focus.
document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
  if (document.activeElement && document.activeElement !== document.body) return;
  if (e.key === 'ArrowRight') { explorer.next(); e.preventDefault(); }
  if (e.key === 'ArrowLeft') { explorer.previous(); e.preventDefault(); }
});

restore();

// "Load your own model": replaces the model of every widget on the page; on error the previous one stays.
const ownStatus = document.getElementById('own-status');
document.getElementById('own-model').addEventListener('submit', async (e) => {
  e.preventDefault();
  const weights = document.getElementById('own-weights').files[0];
  const tokenizer = document.getElementById('own-tokenizer').files[0];
  if (weights && /\.gguf$/i.test(weights.name)) { loadGguf(weights); return; }
  if (!weights || !tokenizer) {
    ownStatus.textContent = `Choose both files first: the weights (.safetensors)${weights ? ' are chosen' : ' are missing'}, the tokenizer (tokenizer.json)${tokenizer ? ' is chosen' : ' is missing'}.`;
    return;
  }
  ownStatus.textContent = 'Loading…';
  try {
    await loadModel(new Uint8Array(await weights.arrayBuffer()), new Uint8Array(await tokenizer.arrayBuffer()));
    ownStatus.textContent = `Loaded ${weights.name} and ${tokenizer.name}.`;
  } catch (err) {
    // a crash restarts the engine, and its message says which model it restarted with
    const inUse = err && err.crashed ? '' : ' The previous model is still in use.';
    ownStatus.textContent = `This model could not be loaded: ${err && err.message ? err.message : err}.${inUse}`;
  }
});
document.getElementById('own-reset').addEventListener('click', async () => {
  explorer.closeModelFile();
  chooseModel('tiny');
  try {
    await resetModel();
    ownStatus.textContent = 'Back to the built-in model.';
  } catch (err) {
    const message = err && err.message ? err.message : String(err);
    // after a crash the engine restarted, and its message says with which model
    ownStatus.textContent = err && err.crashed ? `${message[0].toUpperCase()}${message.slice(1)}.` : `The built-in model could not be loaded: ${message}.`;
  }
});

// "Things to try": the model's named heads, from its measured profile (never written here by hand), each
// with a link that opens it on a sentence where it shows.
const INDUCTION_TEXT = 'Mr Dursley said hello. Mr Dursley said';
function describeHeads() {
  const item = document.getElementById('try-heads');
  if (!item || !explorer.model) return;
  const info = explorer.model, heads = headList(info), aux = auxTrained(info);
  const c = info.config;
  const at = (x) => `head ${x.head + 1}${c.n_layers > 1 ? ` of layer ${x.layer + 1}` : ''}`;
  const link = (x) => {
    const a = document.createElement('a');
    a.href = `#text=${encodeURIComponent(INDUCTION_TEXT)}&step=weights&layer=${x.layer}&head=${x.head}`;
    a.textContent = `${at(x)}: ${x.name}`;
    return a;
  };
  const parts = [Object.assign(document.createElement('strong'), { textContent: 'Named heads. ' })];
  if (!heads.length) {
    parts.push('This model ships no head profile, so its heads have no names; look at their patterns in the head picker.');
  } else {
    parts.push('Each head was measured on held-out text and named by fixed rules: ');
    heads.forEach((x, i) => { parts.push(link(x)); if (i < heads.length - 1) parts.push(', '); });
    parts.push('.');
    if (aux) parts.push(` One of them was helped: ${at(aux)} was also trained by an auxiliary loss to look at the ${aux.target}.`);
  }
  item.replaceChildren(...parts);
}
explorer.ready.then(describeHeads);
explorer.addEventListener('attention-explorer:change', describeHeads);

// a crash while analysing restarts the engine: say so where the model is chosen
onEngineStatus((message) => { ownStatus.textContent = message; }).catch(() => {});

// The model choice: tiny (built in) or SmolLM2-135M (served beside the page, run in a Web Worker by the
// element's large-model view, llm/panel.js); a .gguf file from "Load your own model" runs the same way.
const modelChoice = document.getElementById('model-choice');
function chooseModel(value) {
  modelChoice.value = value;
  if (value === 'tiny') explorer.removeAttribute('model'); else explorer.setAttribute('model', value);
}
document.getElementById('model-form').addEventListener('submit', (e) => e.preventDefault());
modelChoice.addEventListener('change', () => { explorer.closeModelFile(); chooseModel(modelChoice.value); });
if (explorer.getAttribute('model')) modelChoice.value = explorer.getAttribute('model');

async function loadGguf(file) {
  ownStatus.textContent = `Loading ${file.name}…`;
  try {
    const info = await explorer.loadModelFile(file, (loaded, total) => {
      ownStatus.textContent = `Loading ${file.name}: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB…`;
    });
    ownStatus.textContent = `Loaded ${file.name} (${info.name}: ${info.config.n_layers} layers × ${info.config.n_heads} heads); it runs in a worker.`;
  } catch (err) {
    ownStatus.textContent = `This model could not be loaded: ${err && err.message ? err.message : err}. The previous model is still in use.`;
  }
}
