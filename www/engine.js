// The engine, loaded once per page: the wasm module and the built-in model are shared by every
// <attention-explorer> on the page. The files are found relative to this module's own URL (not the
// page's), so www/ can be copied anywhere.
//
// A build that inlines the wasm (the single-file build) replaces the loader with setEngineLoader(fn),
// where fn resolves to the wasm-bindgen module namespace after its init has run.

let loader = async () => {
  const mod = await import('./pkg/attention_explorer.js');
  await mod.default({ module_or_path: new URL('./pkg/attention_explorer_bg.wasm', import.meta.url) });
  return mod;
};

let shared = null;

/** Replaces how the wasm module is obtained (call before the first element connects). */
export function setEngineLoader(fn) {
  loader = fn;
  shared = null;
}

/** The page's one engine: resolves to an Engine, or rejects with a readable Error. */
export function loadEngine() {
  if (!shared) {
    shared = (async () => {
      if (typeof WebAssembly !== 'object') throw new Error('this browser cannot run WebAssembly, which the explorer needs');
      let mod;
      try {
        mod = await loader();
      } catch (e) {
        throw new Error(`the model could not be loaded (${e && e.message ? e.message : e})`);
      }
      mark('attention-explorer:wasm-ready');
      const engine = new Engine(new mod.Explorer(), mod.Explorer);
      mark('attention-explorer:model-ready');
      return engine;
    })();
  }
  return shared;
}

/** Replaces the shared model with one from a weights file (safetensors), a tokenizer.json and
 * optionally its head profile (heads.json), all as bytes; every widget re-analyses. Throws the
 * engine's readable Error and keeps the previous model. */
export async function load(weightsBytes, tokenizerBytes, headsBytes) {
  (await loadEngine()).load(weightsBytes, tokenizerBytes, headsBytes);
}

/** Goes back to the built-in model; every widget re-analyses. */
export async function reset() {
  (await loadEngine()).reset();
}

const mark = (name) => { if (typeof performance !== 'undefined' && performance.mark) performance.mark(name); };

const CACHE = 12;

/** One loaded model plus a small cache of traces (many widgets often show the same sentence). */
export class Engine {
  constructor(explorer, Explorer) {
    this.explorer = explorer;
    this.Explorer = Explorer;
    this.info = explorer.info();
    this.cache = new Map();
    this.vocab = null;
    this.listeners = new Set();
  }

  /** Calls fn() after every change of model (load or reset); returns the function that stops it. */
  onModelChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Another model from its files' bytes (the head profile optional); on error the current model
   * stays (the Error says why). `info.heads` is the profile, or null. */
  load(weightsBytes, tokenizerBytes, headsBytes) {
    this.explorer.load(weightsBytes, tokenizerBytes, headsBytes);
    this.replaced();
  }

  /** The built-in model again. */
  reset() {
    const builtIn = new this.Explorer();
    this.explorer.free();
    this.explorer = builtIn;
    this.replaced();
  }

  replaced() {
    this.info = this.explorer.info();
    this.cache.clear();
    this.vocab = null;
    for (const fn of this.listeners) fn();
  }

  /** The Trace for `text` (see src/trace.rs); throws Error with the engine's message. */
  analyze(text, options) {
    const key = JSON.stringify([text, options]);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const trace = this.explorer.analyze(text, options);
    this.cache.set(key, trace);
    if (this.cache.size > CACHE) this.cache.delete(this.cache.keys().next().value);
    return trace;
  }

  /** One token in two contexts: the cosine between its vectors after each sub-step (see Explorer.compare). */
  compare(textA, textB, positionA, positionB, options) {
    return this.explorer.compare(textA, textB, positionA, positionB, options);
  }

  countTokens(text) {
    return this.explorer.countTokens(text);
  }

  /** Background points for the embedding map (computed once). */
  vocabMap(n = 300) {
    if (!this.vocab) this.vocab = this.explorer.vocabMap(n);
    return this.vocab;
  }
}
