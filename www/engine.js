// The engine, loaded once per page: the wasm module and the model are shared by every
// <attention-explorer> on the page. The files are found relative to this module's own URL (not the
// page's), so www/ can be copied anywhere.
//
// A trapped instance is never reused. After any wasm trap (a RuntimeError such as "unreachable" or
// "memory access out of bounds", a JavaScript exception that unwound through wasm, or wasm-bindgen's
// "recursive use of an object" once an object was left borrowed) the instance's memory cannot be
// trusted: the engine asks the loader for a fresh instance, loads the last model that loaded well (or
// the built-in one) into it, tells every widget to re-analyse and says what happened (onEngineStatus).
// The text and options that trapped are remembered and not run again. Each restart keeps the old
// instance's memory alive (an ES module is never unloaded), so after MAX_RESTARTS the engine stops and
// asks for a reload.
//
// The loader: loader(attempt) resolves to an initialised wasm-bindgen module namespace; attempt 0 is
// the first load, and attempt n > 0 must give a NEW instance (a fresh copy of the glue module, whose
// state is module-scoped). A build that inlines the wasm (the single-file build) replaces it with
// setEngineLoader(fn).

const GLUE = './pkg/attention_explorer.js';
const WASM = './pkg/attention_explorer_bg.wasm';

let loader = async (attempt) => {
  // the literal import for the first load (the single-file build links it); a query string makes a new
  // module record, and so a new instance, for a restart
  const mod = attempt === 0 ? await import('./pkg/attention_explorer.js') : await import(`${new URL(GLUE, import.meta.url).href}?instance=${attempt}`);
  await mod.default({ module_or_path: new URL(WASM, import.meta.url) });
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
        mod = await loader(0);
      } catch (e) {
        throw new Error(`the model could not be loaded (${messageOf(e)})`);
      }
      mark('attention-explorer:wasm-ready');
      const engine = new Engine(mod, (attempt) => loader(attempt));
      mark('attention-explorer:model-ready');
      return engine;
    })();
  }
  return shared;
}

/** Replaces the shared model with one from a weights file (safetensors), a tokenizer.json and
 * optionally its head profile (heads.json), all as bytes; every widget re-analyses. Throws the engine's
 * readable Error; the model in use afterwards is the previous one unless the Error says otherwise
 * (`crashed`: the engine was restarted). */
export async function load(weightsBytes, tokenizerBytes, headsBytes) {
  const engine = await loadEngine();
  try {
    engine.load(weightsBytes, tokenizerBytes, headsBytes);
  } catch (e) {
    throw await engine.settled(e);
  }
}

/** Goes back to the built-in model; every widget re-analyses. */
export async function reset() {
  const engine = await loadEngine();
  try {
    engine.reset();
  } catch (e) {
    throw await engine.settled(e);
  }
}

/** Calls fn(message) whenever the engine had to be restarted (saying what with) or stopped; resolves to
 * the function that stops it. */
export async function onEngineStatus(fn) {
  const engine = await loadEngine();
  engine.statusListeners.add(fn);
  return () => engine.statusListeners.delete(fn);
}

const mark = (name) => { if (typeof performance !== 'undefined' && performance.mark) performance.mark(name); };

const messageOf = (e) => (e && e.message ? e.message : String(e));

/** The most restarts one page gets; each keeps the old instance's memory. */
export const MAX_RESTARTS = 3;
/** The trace cache's size: the bytes of f32 data of the traces it keeps (plus their keys). */
export const CACHE_BYTES = 64 << 20;
/** How many inputs that trapped are remembered (never run again). */
const CRASHED = 32;

/** wasm-bindgen's messages for an object left borrowed or freed by a trap. */
const POISONED = /null pointer passed to rust|recursive use of an object|attempted to take ownership of Rust value|already (mutably )?borrowed/i;

/** Whether an exception from a wasm call means the instance can no longer be trusted. The engine's
 * own errors are plain Errors with its messages; anything else unwound through wasm frames. */
export function isTrap(e) {
  if (typeof WebAssembly === 'object' && e instanceof WebAssembly.RuntimeError) return true;
  if (!(e instanceof Error)) return true;
  if (e.constructor !== Error) return true;
  return POISONED.test(e.message);
}

/** One loaded model, a cache of traces bounded in bytes, and the recovery from traps. */
export class Engine {
  constructor(mod, reload) {
    this.reload = reload;
    this.Explorer = mod.Explorer;
    this.explorer = new mod.Explorer();
    this.info = this.explorer.info();
    this.cache = new Map();
    this.cacheBytes = 0;
    this.vocab = null;
    this.listeners = new Set();
    this.statusListeners = new Set();
    /** The bytes of the last model that loaded well ({ weights, tokenizer }), or null for the built-in one. */
    this.model = null;
    /** While the engine restarts (or after it gave up): the Error every call throws. */
    this.broken = null;
    this.restarting = null;
    this.restarts = 0;
    /** Inputs that trapped: key → the message to give instead of running them again. */
    this.crashed = new Map();
    /** What the last restart did, for a status line (or ''), and its parts for messages. */
    this.status = '';
    this.lastCrash = '';
    this.restarted = '';
  }

  /** Calls fn() after every change of model (load, reset or a restart); returns the function that stops it. */
  onModelChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Runs fn (one wasm call, `what` says what it does for messages); a trap restarts the engine. */
  call(what, fn, key) {
    if (this.broken) throw this.broken;
    try {
      return fn();
    } catch (e) {
      if (!isTrap(e)) throw e;
      throw this.crash(what, e, key);
    }
  }

  /** The instance trapped: stop using it, remember the input, restart in the background. */
  crash(what, e, key) {
    const reason = `${e && e.name ? e.name : 'Error'}: ${messageOf(e)}`;
    // forget the old objects without calling into the dead instance (its finaliser would)
    try { this.explorer.__destroy_into_raw(); } catch { /* not a wasm-bindgen object */ }
    this.explorer = null;
    this.clear();
    if (key !== undefined) {
      this.crashed.set(key, `this input crashed the engine before (${reason}); the engine was restarted, so the same input is not run again: change the text or the options`);
      if (this.crashed.size > CRASHED) this.crashed.delete(this.crashed.keys().next().value);
    }
    const err = new Error(`the engine crashed while ${what} (${reason}); it is being restarted from a fresh copy`);
    err.crashed = true;
    this.lastCrash = `the engine crashed while ${what} (${reason})`;
    this.broken = err;
    this.restarting = this.restart(reason);
    return err;
  }

  /** A fresh instance with the last good model (or the built-in one), then every widget re-analyses. */
  async restart(reason) {
    if (this.restarts >= MAX_RESTARTS) {
      this.fail(`the engine crashed ${this.restarts + 1} times (last: ${reason}) and was stopped; reload the page to use it again`);
      return;
    }
    this.restarts += 1;
    let mod;
    try {
      mod = await this.reload(this.restarts);
    } catch (e) {
      this.fail(`the engine crashed (${reason}) and could not be restarted (${messageOf(e)}); reload the page to use it again`);
      return;
    }
    let explorer = null;
    let note = 'with the built-in model';
    if (this.model) {
      try {
        explorer = mod.Explorer.fromBytes(this.model.weights, this.model.tokenizer, this.model.heads);
        note = 'with the model that was loaded';
      } catch (e) {
        note = `with the built-in model: the model that was loaded could not be loaded again (${messageOf(e)})`;
        this.model = null;
      }
    }
    try {
      explorer = explorer ?? new mod.Explorer();
      this.info = explorer.info();
    } catch (e) {
      this.fail(`the engine crashed (${reason}) and the restarted one could not load a model (${messageOf(e)}); reload the page to use it again`);
      return;
    }
    this.Explorer = mod.Explorer;
    this.explorer = explorer;
    this.broken = null;
    this.restarted = `restarted from a fresh copy ${note} (${this.info.name})`;
    this.say(`The engine crashed (${reason}) and was ${this.restarted}.`);
    for (const fn of this.listeners) fn();
  }

  fail(message) {
    this.broken = new Error(message);
    this.broken.crashed = true;
    this.say(`The engine stopped: ${message}.`);
  }

  say(message) {
    this.status = message;
    for (const fn of this.statusListeners) fn(message);
  }

  /** After a failed load or reset: waits for a restart the failure caused, then gives an Error that says
   * which model is in use (or that none is). */
  async settled(e) {
    if (!e || !e.crashed || !this.restarting) return e;
    await this.restarting;
    const err = new Error(this.broken ? this.broken.message : `${this.lastCrash} and was ${this.restarted}`);
    err.crashed = true;
    return err;
  }

  /** Another model from its files' bytes (the head profile optional); on error the current model stays
   * (the Error says why). `info.heads` is the profile, or null. */
  load(weightsBytes, tokenizerBytes, headsBytes) {
    // copies: the caller's buffers may change, and a restart needs the bytes again
    const model = {
      weights: new Uint8Array(weightsBytes), tokenizer: new Uint8Array(tokenizerBytes),
      heads: headsBytes == null ? undefined : new Uint8Array(headsBytes),
    };
    this.call('loading this model', () => this.explorer.load(model.weights, model.tokenizer, model.heads));
    this.model = model;
    this.replaced();
  }

  /** The built-in model again. Freeing the previous Explorer is a wasm call too: if a trap elsewhere left
   * it borrowed, wasm-bindgen refuses ("attempted to take ownership…") and the engine restarts, with the
   * built-in model. */
  reset() {
    const builtIn = this.call('loading the built-in model', () => new this.Explorer());
    const previous = this.explorer;
    this.explorer = builtIn;
    this.model = null;
    try {
      this.call('releasing the previous model', () => previous.free());
    } catch (e) {
      try { previous.__destroy_into_raw(); } catch { /* already released */ }
      throw e;
    }
    this.replaced();
  }

  replaced() {
    this.info = this.call('reading the model', () => this.explorer.info());
    this.clear();
    for (const fn of this.listeners) fn();
  }

  clear() {
    this.cache.clear();
    this.cacheBytes = 0;
    this.vocab = null;
  }

  /** The Trace for `text` (see src/trace.rs); throws Error with the engine's message. The cache key is
   * the engine's canonical form of the options (validate), so equal options share an entry and values
   * JSON cannot carry (NaN, BigInt) are refused by the engine, not mangled. */
  analyze(text, options) {
    text = String(text);
    const valid = this.call('checking the options', () => this.explorer.validate(options));
    const key = `${valid.key}\u0000${text}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.trace;
    }
    const crashed = this.crashed.get(key);
    if (crashed) throw new Error(crashed);
    const trace = this.call('analysing this text', () => this.explorer.analyze(text, valid.options), key);
    this.remember(key, trace);
    return trace;
  }

  /** One token in two contexts: the cosine between its vectors after each sub-step (see Explorer.compare). */
  compare(textA, textB, positionA, positionB, options) {
    return this.call('comparing two texts', () => this.explorer.compare(textA, textB, positionA, positionB, options));
  }

  /** Keeps `trace` in the cache, dropping the least recently used entries beyond CACHE_BYTES. */
  remember(key, trace) {
    const bytes = (Number(trace.trace_bytes) || 0) + 2 * key.length;
    if (bytes > CACHE_BYTES) return;
    this.cache.set(key, { trace, bytes });
    this.cacheBytes += bytes;
    for (const [k, entry] of this.cache) {
      if (this.cacheBytes <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cacheBytes -= entry.bytes;
    }
  }

  countTokens(text) {
    text = String(text);
    const key = `count\u0000${text}`;
    const crashed = this.crashed.get(key);
    if (crashed) throw new Error(crashed);
    return this.call('counting tokens', () => this.explorer.countTokens(text), key);
  }

  /** Background points for the embedding map (computed once per model). */
  vocabMap(n = 300) {
    if (!this.vocab) this.vocab = this.call('placing the vocabulary on the map', () => this.explorer.vocabMap(n));
    return this.vocab;
  }
}
