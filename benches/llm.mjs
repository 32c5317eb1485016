// Large-model benchmark (LlmExplorer, the shipped simd128 module www/pkg) on SmolLM2-135M
// (models/smollm2-135m.Q4_1.gguf, fetched by ./build.sh setup), one Node process, merged into
// target/bench.json:
//   llm_load_ms            LlmExplorer.fromGguf(bytes) of the 98 MB file already in memory: the
//                          copy into wasm, the GGUF checks, the tokenizer (median of 5)
//   llm_analyze            [{tokens, median_ms, gflops}] for texts of exactly 8, 32 and 64 tokens:
//                          analyze(text, {}) including its summary's conversion to JS objects;
//                          gflops = 2 × the matrix products' multiply-adds (as src/budget.rs counts
//                          them: Q, K, V, scores, mixing, W_O and the MLP in every layer, the last
//                          position's logits) / time
//   llm_wasm_memory_bytes  wasm memory after the first load and an analysis of 64 tokens (wasm
//                          memory never shrinks; measured before the repeated loads)
//   llm_model              {name, file_bytes, config}; llm_bench_conditions {loadavg_1min, cpus}
// Times are CPU time of this process (as benches/engine.mjs: the machine is shared).
//
// Usage: node benches/llm.mjs [--pkg www/pkg] [--model models/smollm2-135m.Q4_1.gguf]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mergeBenchJson } from './bench-json.mjs';
import { textOf } from './llm-texts.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = 7;
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const pkgDir = path.resolve(ROOT, args.pkg ?? 'www/pkg');
const modelFile = path.resolve(ROOT, args.model ?? 'models/smollm2-135m.Q4_1.gguf');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** ms of CPU time (user + system) that fn takes. */
function cpuMs(fn) {
  const t0 = process.cpuUsage();
  fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000;
}

/** Multiply-adds of one analysis of t tokens (src/budget.rs's llama_multiply_adds). */
function multiplyAdds(c, t) {
  const { n_layers: l, n_heads: h, n_kv_heads: g, d_model: d, d_head: dh, d_mlp: f, vocab_size: v } = c;
  const layer = t * d * (h + 2 * g) * dh + 2 * h * t * t * dh + t * h * dh * d + 3 * t * d * f;
  return l * layer + d * v;
}

if (!fs.existsSync(modelFile)) {
  console.warn(`skipped: no model at ${modelFile} (./build.sh setup fetches it)`);
  process.exit(0);
}
const pkg = await import(pathToFileURL(path.join(pkgDir, 'attention_explorer.js')).href);
const wasm = pkg.initSync({ module: fs.readFileSync(path.join(pkgDir, 'attention_explorer_bg.wasm')) });
const bytes = new Uint8Array(fs.readFileSync(modelFile));

// memory first, on the first load: later loads reuse freed memory only as far as it is contiguous
let ex = pkg.LlmExplorer.fromGguf(bytes);
const info = ex.info();
const texts = Object.fromEntries([8, 32, 64].map((n) => [n, textOf((t) => ex.countTokens(t), n)]));
ex.analyze(texts[64], {});
const llm_wasm_memory_bytes = wasm.memory.buffer.byteLength;

const llm_analyze = [];
for (const tokens of [8, 32, 64]) {
  ex.analyze(texts[tokens], {});
  const ms = [];
  for (let r = 0; r < ROUNDS; r++) ms.push(cpuMs(() => ex.analyze(texts[tokens], {})));
  const median_ms = median(ms);
  llm_analyze.push({ tokens, median_ms: +median_ms.toFixed(1), gflops: +((2 * multiplyAdds(info.config, tokens)) / (median_ms * 1e6)).toFixed(2) });
}

const loads = [];
for (let i = 0; i < 5; i++) {
  ex.free();
  loads.push(cpuMs(() => { ex = pkg.LlmExplorer.fromGguf(bytes); }));
}
const out = {
  llm_load_ms: +median(loads).toFixed(1),
  llm_analyze,
  llm_wasm_memory_bytes,
  llm_model: { name: info.name, file_bytes: info.file_bytes, config: info.config },
  llm_bench_conditions: { loadavg_1min: +os.loadavg()[0].toFixed(2), cpus: os.cpus().length },
};
console.log(`SmolLM2-135M in Node (simd128): load ${out.llm_load_ms} ms, wasm memory ${(out.llm_wasm_memory_bytes / 2 ** 20).toFixed(0)} MB`);
for (const a of llm_analyze) console.log(`  analyze ${String(a.tokens).padStart(2)} tokens: ${a.median_ms} ms, ${a.gflops} GFLOP/s`);
mergeBenchJson(ROOT, out);
