// The page's side of llm/worker.js: one Worker per client, promises for its answers, and the rule that
// a newer text supersedes an analysis in flight. At most one analysis is sent at a time; texts typed
// meanwhile replace each other in `pending`, and when the analysis in flight answers, its result is
// dropped if a newer text is waiting (its promise resolves to null) and the newest text is sent. Every
// analysis has a generation number; a view answer for another generation than the one shown is dropped
// by the caller (`gen` in the answer).

export class LlmClient {
  /** `url`: the worker module (resolved by the caller relative to its own script). */
  constructor(url = new URL('./worker.js', import.meta.url)) {
    this.worker = new Worker(url, { type: 'module' });
    this.nextId = 1;
    this.calls = new Map();
    this.gen = 0;
    /** How many analyses were sent to the worker (the others were superseded before being sent). */
    this.sent = 0;
    this.inFlight = null;
    this.pending = null;
    this.info = null;
    /** { read, load } ms of the last load: the file fetched or read, then checked and copied into wasm. */
    this.loadMs = null;
    /** The worker's wasm memory in bytes after the last load. */
    this.memory = null;
    this.worker.onmessage = (e) => this._answer(e.data);
    this.worker.onerror = (e) => this._crashed(e.message || 'the worker could not start');
  }

  /** Loads a model: `source` is a URL (string or URL) or a File/Blob. `onProgress(loaded, total, stage)`.
   * Resolves to its info; rejects with a readable Error (the model in use before stays in use). */
  load(source, onProgress = () => {}) {
    const id = this.nextId++;
    const msg = typeof source === 'string' || source instanceof URL ? { type: 'load', id, url: String(source) } : { type: 'load', id, file: source };
    return this._call(id, msg, { onProgress }).then((a) => { this.info = a.info; this.loadMs = a.ms; this.memory = a.memory; return a.info; });
  }

  /** Analyses `text` and returns { gen, summary, view, ms, memory } for the first `view` ({ layer, head, step }), or
   * null when a newer text superseded it before its result was shown. `onStart(gen)` runs when it is sent. */
  analyze(text, options, view, onStart = () => {}) {
    const gen = ++this.gen;
    return new Promise((resolve, reject) => {
      if (this.pending) this.pending.resolve(null); // never sent: superseded
      this.pending = { gen, msg: { type: 'analyze', gen, text, options, view }, resolve, reject, onStart };
      if (!this.inFlight) this._sendPending();
    });
  }

  /** One step of one head of the analysis in the worker: { gen, view }. */
  view(layer, head, step) {
    const id = this.nextId++;
    return this._call(id, { type: 'view', id, layer, head, step });
  }

  /** Stops the worker (its memory goes with it). */
  terminate() {
    this.worker.terminate();
    this._crashed('the model was closed');
  }

  _sendPending() {
    const p = this.pending;
    this.pending = null;
    this.inFlight = p;
    this.sent += 1;
    p.onStart(p.gen);
    this.worker.postMessage(p.msg);
  }

  _call(id, msg, extra = {}) {
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, ...extra });
      this.worker.postMessage(msg);
    });
  }

  _answer(a) {
    if (a.type === 'progress') { const c = this.calls.get(a.id); if (c && c.onProgress) c.onProgress(a.loaded, a.total, a.stage); return; }
    if (a.type === 'result' || (a.type === 'error' && a.gen !== undefined)) {
      const f = this.inFlight;
      this.inFlight = null;
      if (f && f.gen === a.gen) {
        if (this.pending) f.resolve(null); // a newer text is waiting: this result is stale
        else if (a.type === 'error') f.reject(new Error(a.message));
        else f.resolve({ gen: a.gen, summary: a.summary, view: a.view, ms: a.ms, memory: a.memory });
      }
      if (this.pending) this._sendPending();
      return;
    }
    const c = this.calls.get(a.id);
    if (!c) return;
    this.calls.delete(a.id);
    if (a.type === 'error') c.reject(new Error(a.message));
    else c.resolve(a);
  }

  _crashed(message) {
    const err = new Error(message);
    for (const c of this.calls.values()) c.reject(err);
    this.calls.clear();
    if (this.inFlight) this.inFlight.reject(err);
    if (this.pending) this.pending.reject(err);
    this.inFlight = this.pending = null;
  }
}
