// The walkthrough page: hosts one full <attention-explorer> and keeps its state in the URL
// (#text=…&step=…&layer=…&head=…), so a view can be shared and back/forward walk through the steps.
import './attention-explorer.js';
import { load as loadModel, reset as resetModel } from './engine.js';

const explorer = document.getElementById('explorer');
const KEYS = ['text', 'step', 'layer', 'head'];

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const out = {};
  for (const k of KEYS) if (p.has(k)) out[k] = p.get(k);
  return out;
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
  const now = { text: e.detail.text, step: e.detail.step, layer: String(e.detail.layer), head: String(e.detail.head) };
  // Typing replaces the entry (no history entry per keystroke); moving to another step, layer or head adds one.
  const onlyText = last.step === now.step && last.layer === now.layer && last.head === now.head;
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
  if (!weights || !tokenizer) {
    ownStatus.textContent = `Choose both files first: the weights (.safetensors)${weights ? ' are chosen' : ' are missing'}, the tokenizer (tokenizer.json)${tokenizer ? ' is chosen' : ' is missing'}.`;
    return;
  }
  ownStatus.textContent = 'Loading…';
  try {
    await loadModel(new Uint8Array(await weights.arrayBuffer()), new Uint8Array(await tokenizer.arrayBuffer()));
    ownStatus.textContent = `Loaded ${weights.name} and ${tokenizer.name}.`;
  } catch (err) {
    ownStatus.textContent = `This model could not be loaded: ${err && err.message ? err.message : err}. The previous model is still in use.`;
  }
});
document.getElementById('own-reset').addEventListener('click', async () => {
  try {
    await resetModel();
    ownStatus.textContent = 'Back to the built-in model.';
  } catch (err) {
    ownStatus.textContent = `The built-in model could not be loaded: ${err && err.message ? err.message : err}.`;
  }
});
