// Which model a widget's `model` attribute names: `tiny` (or none: the built-in model, in engine.js),
// `smollm2-135m` (the GGUF that ./build.sh setup fetches, served beside the page in models/ and found
// relative to this script, as the wasm is), or the URL of a .gguf file (relative to the page). Large
// models run in a Web Worker (llm/client.js); one worker per file is shared by the page's widgets.

import { LlmClient } from './client.js';

/** The models known by name: the file (relative to this script), its licence and its data card. */
export const KNOWN = {
  'smollm2-135m': {
    label: 'SmolLM2-135M-Instruct',
    file: '../models/smollm2-135m.Q4_1.gguf',
    licence: '../models/LICENSE-SmolLM2-135M.txt',
    card: '../models/smollm2-135m.md',
  },
};

/** { kind: 'tiny' } or { kind: 'large', key, url, label, licence, card } for an attribute value. */
export function resolveChoice(value, base) {
  const v = (value ?? '').trim();
  if (v === '' || v === 'tiny') return { kind: 'tiny', key: 'tiny' };
  const known = KNOWN[v];
  if (known) {
    const url = new URL(known.file, import.meta.url).href;
    return { kind: 'large', key: url, url, label: known.label, licence: new URL(known.licence, import.meta.url).href, card: new URL(known.card, import.meta.url).href };
  }
  let url;
  try { url = new URL(v, base).href; } catch { return { kind: 'large', key: `bad:${v}`, url: null, label: v, error: `expected tiny, smollm2-135m or the URL of a .gguf file, found ${JSON.stringify(v)}` }; }
  return { kind: 'large', key: url, url, label: decodeURIComponent(url.split('/').pop() || url) };
}

const clients = new Map();

/** The shared worker for a file URL, loading it: resolves to { client, info }; progress goes to every
 * caller's onProgress. A failed load is forgotten (its worker stopped), so choosing it again retries. */
export function clientFor(url, onProgress) {
  let entry = clients.get(url);
  if (!entry) {
    const listeners = new Set();
    const client = new LlmClient();
    const promise = client.load(url, (loaded, total, stage) => { for (const f of listeners) f(loaded, total, stage); })
      .then((info) => ({ client, info }), (err) => { clients.delete(url); client.terminate(); throw err; });
    entry = { listeners, promise };
    clients.set(url, entry);
  }
  entry.listeners.add(onProgress);
  return entry.promise.finally(() => entry.listeners.delete(onProgress));
}

/** A worker of its own for a File (a "Load your own model" file): resolves to { client, info }, or
 * rejects with the file's problem (its worker stopped; nothing else changes). */
export async function clientForFile(file, onProgress) {
  const client = new LlmClient();
  try {
    const info = await client.load(file, onProgress);
    return { client, info };
  } catch (err) {
    client.terminate();
    throw err;
  }
}
