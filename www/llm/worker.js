// The large model's Web Worker: the wasm module (../pkg, the same build the page uses) with one
// LlmExplorer, so a 0.1–1 s analysis never blocks the page. llm/client.js is the page's side.
//
// Messages in (each answered by one message with the same `id`, or `gen` for analyses):
//   { type: 'load', id, url }            fetch a GGUF file (progress by bytes), then load it
//   { type: 'load', id, file }           the same for a File or Blob (the page's "Load your own model")
//   { type: 'analyze', gen, text, options, view: { layer, head, step } }
//                                        the summary and the first view of the new trace
//   { type: 'view', id, layer, head, step }   one step of one head of the last analysis
// Messages out: { type: 'progress', id, loaded, total } while loading; { type: 'loaded', id, info, ms:
// { read, load }, memory } (fetching or reading the file, then LlmExplorer's checks and copy; the wasm
// memory's bytes after it);
// { type: 'result', gen, summary, view, ms, memory }; { type: 'view', id, gen, view }; { type: 'error', id | gen,
// message } (the model that was in use stays in use). `gen` in a view answer is the analysis it belongs to.

import init, { LlmExplorer } from '../pkg/attention_explorer.js';

const ready = init({ module_or_path: new URL('../pkg/attention_explorer_bg.wasm', import.meta.url) });
let explorer = null;
/** The generation of the analysis whose trace the explorer holds (null: none). */
let traceGen = null;

const messageOf = (e) => (e && e.message ? e.message : String(e));

/** Reads a stream of `total` bytes (or unknown: null) into one Uint8Array, reporting progress. With a
 * known size the bytes go straight into one buffer (no second copy of a 98 MB file). */
async function readAll(stream, total, progress) {
  const max = LlmExplorer.maxFileBytes();
  if (total !== null && total > max) throw new Error(`expected a GGUF file of at most ${max} bytes, found one of ${total} bytes`);
  let buffer = total !== null ? new Uint8Array(total) : null;
  const chunks = [];
  let loaded = 0, last = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > max) throw new Error(`expected a GGUF file of at most ${max} bytes, found more`);
    if (buffer && loaded + value.length <= buffer.length) buffer.set(value, loaded);
    else {
      if (buffer) { chunks.push(buffer.subarray(0, loaded)); buffer = null; } // longer than it said
      chunks.push(value);
    }
    loaded += value.length;
    const now = performance.now();
    if (now - last > 80) { last = now; progress(loaded, total); }
  }
  progress(loaded, total ?? loaded);
  if (buffer) return loaded === buffer.length ? buffer : buffer.subarray(0, loaded);
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  return bytes;
}

async function fetchModel(url, progress) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`the model file ${url} could not be fetched (${messageOf(e)})`, { cause: e });
  }
  if (!res.ok) {
    throw new Error(`the model file ${url} is not there (HTTP ${res.status}): \`./build.sh setup\` fetches SmolLM2-135M into models/, which \`./build.sh serve\` serves beside the page`);
  }
  const length = Number(res.headers.get('Content-Length'));
  return readAll(res.body, Number.isFinite(length) && length > 0 ? length : null, progress);
}

async function load(m) {
  const progress = (loaded, total) => postMessage({ type: 'progress', id: m.id, loaded, total });
  const t0 = performance.now();
  const bytes = m.file ? await readAll(m.file.stream(), m.file.size, progress) : await fetchModel(m.url, progress);
  const t1 = performance.now();
  postMessage({ type: 'progress', id: m.id, loaded: bytes.length, total: bytes.length, stage: 'reading the model' });
  if (explorer) explorer.load(bytes);
  else explorer = LlmExplorer.fromGguf(bytes);
  traceGen = null;
  return { info: explorer.info(), ms: { read: t1 - t0, load: performance.now() - t1 }, memory: (await ready).memory.buffer.byteLength };
}

function analyze(m) {
  if (!explorer) throw new Error('no large model is loaded yet');
  const t0 = performance.now();
  traceGen = null; // an analysis that reaches the forward pass drops the previous trace
  const summary = explorer.analyze(m.text, m.options ?? {});
  traceGen = m.gen;
  const { layer, head, step } = m.view;
  const view = explorer.view(layer, head, step);
  return { summary, view, ms: performance.now() - t0 };
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    await ready;
    if (m.type === 'load') {
      postMessage({ type: 'loaded', id: m.id, ...(await load(m)) });
    } else if (m.type === 'analyze') {
      postMessage({ type: 'result', gen: m.gen, ...analyze(m), memory: (await ready).memory.buffer.byteLength });
    } else if (m.type === 'view') {
      if (!explorer || traceGen === null) throw new Error('there is no analysis to view yet');
      postMessage({ type: 'view', id: m.id, gen: traceGen, view: explorer.view(m.layer, m.head, m.step) });
    } else {
      throw new Error(`expected a message of type load, analyze or view, found ${JSON.stringify(m && m.type)}`);
    }
  } catch (err) {
    postMessage({ type: 'error', id: m && m.id, gen: m && m.type === 'analyze' ? m.gen : undefined, message: messageOf(err) });
  }
};
