// SmolLM2-135M in headless Chromium, ours beside wllama (llama.cpp compiled to wasm, npm
// @wllama/wllama pinned in package.json), in one browser, one page, interleaved runs, the same GGUF
// (models/smollm2-135m.Q4_1.gguf) and the same 32-token text as benches/llm.mjs's llm_analyze
// (benches/llm-texts.mjs). Merged into target/bench.json:
//   llm_analyze_chromium   { tokens: 32, median_ms, load_ms, wasm_memory_bytes }: LlmExplorer.analyze
//                          (every intermediate recorded, the summary converted to JS objects) and
//                          LlmExplorer.fromGguf of the bytes already in the page, wall time
//   llm_wllama_ms          wllama's prompt processing of the same text with n_threads 1 (llama.cpp's
//                          own timings.prompt_ms of a completion of max_tokens 1 with cache_prompt
//                          false, so the prompt is processed anew each run): median of RUNS
//   llm_wllama_load_ms     wllama.loadModel([blob]) of the same bytes (blob in the page), wall time
//   llm_wllama             { version, n_threads, prompt_tokens, runs_ms, wall_ms, load_ms }
//   llm_analyze_vs_wllama  llm_analyze_chromium.median_ms / llm_wllama_ms (issue 10's goal: ≤ 0.3)
// Everything is served from this checkout by a local static server (no network: www/pkg, wllama's
// esm/ from node_modules, the model); a request anywhere else fails the benchmark.
//
// Usage: node benches/llm-chromium.mjs   (after ./build.sh build; skipped without the model)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve, launch, ROOT } from '../tests/e2e/helpers.mjs';
import { mergeBenchJson } from './bench-json.mjs';

const RUNS = 5;
const MODEL = 'models/smollm2-135m.Q4_1.gguf';
const WLLAMA = 'node_modules/@wllama/wllama';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (!fs.existsSync(path.join(ROOT, MODEL))) {
  console.warn(`skipped: no model at ${MODEL} (./build.sh setup fetches it)`);
  process.exit(0);
}
if (!fs.existsSync(path.join(ROOT, WLLAMA, 'esm/index.js'))) {
  throw new Error(`expected wllama in ${WLLAMA} (npm ci installs it from package.json), found none`);
}
const wllamaVersion = JSON.parse(fs.readFileSync(path.join(ROOT, WLLAMA, 'package.json'), 'utf8')).version;

const server = await serve({ root: ROOT });
const browser = await launch();
try {
  const page = await browser.newPage();
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(server.origin) && !/^(blob|data):/.test(r.url())) outside.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') console.warn(`page: ${m.text()}`); });
  // A blank page of this origin to run the modules in (the server has no HTML for it).
  await page.route(`${server.origin}/bench.html`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>llm bench</title>' }));
  await page.goto(`${server.origin}/bench.html`);

  const r = await page.evaluate(async ({ model, wllama, runs }) => {
    const glue = await import('/www/pkg/attention_explorer.js');
    const wasm = await glue.default();
    const { textOf } = await import('/benches/llm-texts.mjs');
    const { Wllama } = await import(`/${wllama}/esm/index.js`);
    const bytes = new Uint8Array(await (await fetch(`/${model}`)).arrayBuffer());

    let t0 = performance.now();
    const ex = glue.LlmExplorer.fromGguf(bytes);
    const load_ms = performance.now() - t0;
    const text = textOf((t) => ex.countTokens(t), 32);
    ex.analyze(text, {}); // warm-up
    const wasm_memory_bytes = wasm.memory.buffer.byteLength;

    const w = new Wllama({ default: `/${wllama}/esm/wasm/wllama.wasm` }, { suppressNativeLog: true });
    w.setCompat(null); // never the CDN build
    t0 = performance.now();
    await w.loadModel([new Blob([bytes])], { n_threads: 1, n_ctx: 512, n_gpu_layers: 0, warmup: false });
    const wllama_load_ms = performance.now() - t0;
    const complete = async () => {
      const t = performance.now();
      const res = await w.createCompletion({ prompt: text, max_tokens: 1, temperature: 0, cache_prompt: false });
      return { prompt_ms: res.timings.prompt_ms, prompt_n: res.timings.prompt_n, cache_n: res.timings.cache_n, wall_ms: performance.now() - t };
    };
    await complete(); // warm-up

    const ours = [], theirs = [];
    for (let i = 0; i < runs; i++) {
      t0 = performance.now();
      ex.analyze(text, {});
      ours.push(performance.now() - t0);
      theirs.push(await complete());
    }
    const threads = w.getNumThreads();
    await w.exit();
    ex.free();
    return { text, load_ms, wasm_memory_bytes, ours, theirs, wllama_load_ms, threads };
  }, { model: MODEL, wllama: WLLAMA, runs: RUNS });

  if (outside.length) throw new Error(`expected every request to go to the local server, found ${outside.join(', ')}`);
  if (r.threads !== 1) throw new Error(`expected wllama to run on 1 thread, found ${r.threads}`);
  for (const t of r.theirs) {
    if (t.prompt_n !== 32) throw new Error(`expected wllama to process the same 32 tokens, found ${t.prompt_n}`);
    if (t.cache_n !== 0) throw new Error(`expected wllama to process the whole prompt each run, found ${t.cache_n} tokens from its cache`);
  }
  const ours = median(r.ours);
  const theirs = median(r.theirs.map((t) => t.prompt_ms));
  const out = {
    llm_analyze_chromium: { tokens: 32, median_ms: +ours.toFixed(1), load_ms: +r.load_ms.toFixed(1), wasm_memory_bytes: r.wasm_memory_bytes },
    llm_wllama_ms: +theirs.toFixed(1),
    llm_wllama_load_ms: +r.wllama_load_ms.toFixed(1),
    llm_wllama: {
      version: wllamaVersion, n_threads: r.threads, prompt_tokens: r.theirs[0].prompt_n,
      runs_ms: r.theirs.map((t) => +t.prompt_ms.toFixed(1)), wall_ms: r.theirs.map((t) => +t.wall_ms.toFixed(1)),
    },
    llm_analyze_vs_wllama: +(ours / theirs).toFixed(3),
    llm_chromium_conditions: { loadavg_1min: +os.loadavg()[0].toFixed(2), cpus: os.cpus().length },
  };
  console.log(`SmolLM2-135M in Chromium, 32 tokens: ours ${out.llm_analyze_chromium.median_ms} ms (runs ${r.ours.map((x) => x.toFixed(0))}), ` +
    `wllama ${wllamaVersion} ${out.llm_wllama_ms} ms for ${r.theirs[0].prompt_n} prompt tokens (runs ${out.llm_wllama.runs_ms}); ratio ${out.llm_analyze_vs_wllama}`);
  console.log(`  load: ours ${out.llm_analyze_chromium.load_ms} ms, wllama ${out.llm_wllama_load_ms} ms; our wasm memory ${(r.wasm_memory_bytes / 2 ** 20).toFixed(0)} MB`);
  mergeBenchJson(ROOT, out);
} finally {
  await browser.close();
  await server.close();
}
