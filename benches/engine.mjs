// Engine benchmark, one Node process, merged into target/bench.json:
//   matmul   our simd128 kernels vs our scalar kernels (a build without simd128, so nothing is
//            auto-vectorised) vs matrixmultiply's simd128 sgemm vs a naive triple loop, at the model's
//            shapes and at 128³ and 256³: GFLOP/s (2·m·k·n per product)
//   softmax  simd128 vs scalar, ns per element, and the largest relative error against f64
//   analyze  Explorer.analyze(text, {}) of the shipped module www/pkg for 8, 32 and 64 tokens:
//            ms (including the conversion of the trace to JS objects) and the model's GFLOP/s
//   wasm_bytes, wasm_gzip_bytes   the shipped www/pkg/*.wasm
// Timing: every (case, implementation) is calibrated to take ≥ TARGET_MS per measurement; then
// ROUNDS interleaved rounds each measure every case once, in a rotated order; we report medians.
// Times are CPU time of this process, not wall time (see time() below); engine_bench_conditions
// in bench.json records the load average the run saw. Each sample lasts ≥ TARGET_MS.
//
// Usage: node benches/engine.mjs --simd <kernel bench wasm, +simd128> --scalar <same, no simd128>
//          [--pkg www/pkg] [--weights-inside yes|no] [--no-weights-wasm <shipped wasm built without
//          the built-in model>]        (benches/run.sh builds all of these)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = 31;
const TARGET_MS = 3;

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
for (const need of ['simd', 'scalar']) {
  if (!args[need]) throw new Error(`expected --${need} <path to the kernel benchmark wasm>, found none`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Calls fn(reps) and returns ms per repetition, in CPU time of this process (user + system), not
 *  wall time: on a machine shared with other jobs, wall time also counts the time this process
 *  waited for a core, which swamps the work itself. */
function time(fn, reps) {
  const t0 = process.cpuUsage();
  fn(reps);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000 / reps;
}

/** The smallest power-of-two repetition count that takes ≥ TARGET_MS (after a warm-up call). */
function calibrate(fn) {
  fn(1);
  let reps = 1;
  while (time(fn, reps) * reps < TARGET_MS && reps < 1 << 24) reps *= 2;
  return reps;
}

/** Interleaved rounds: cases is a list of {key, fn(reps)}; returns {key: median ms per rep}, and
 *  in its non-enumerable `min` property {key: the fastest round's ms per rep}. */
function run(cases) {
  const reps = cases.map((c) => calibrate(c.fn));
  const samples = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let s = 0; s < cases.length; s++) {
      const i = (s + r) % cases.length; // rotate the order so no case always runs first
      samples[i].push(time(cases[i].fn, reps[i]));
    }
  }
  const medians = Object.fromEntries(cases.map((c, i) => [c.key, median(samples[i])]));
  Object.defineProperty(medians, 'min', { value: Object.fromEntries(cases.map((c, i) => [c.key, Math.min(...samples[i])])) });
  return medians;
}

// ----------------------------------------------------------------------------------------------
// the two kernel modules

async function loadKernels(file) {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), {});
  const ex = instance.exports;
  return {
    ex,
    /** n floats in the module's memory; `view()` re-creates the view after memory growth. */
    alloc(n) {
      const ptr = ex.alloc_f32(n);
      return { ptr, n, view: () => new Float32Array(ex.memory.buffer, ptr, n) };
    },
  };
}

const simdMod = await loadKernels(args.simd);
const scalarMod = await loadKernels(args.scalar);
if (simdMod.ex.simd() !== 1 || scalarMod.ex.simd() !== 0) {
  throw new Error(`expected --simd to be the simd128 build and --scalar the scalar one; found simd()=${simdMod.ex.simd()}, ${scalarMod.ex.simd()}`);
}

// A deterministic generator (so runs compare), uniform in [lo, hi).
let seed = 0x2545f491;
const rand = (lo, hi) => {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return lo + (hi - lo) * ((seed >>> 0) / 2 ** 32);
};

// ----------------------------------------------------------------------------------------------
// the shipped module: the model's configuration (for the shapes) and whole analyses

const pkgDir = path.resolve(ROOT, args.pkg ?? 'www/pkg');
const pkgJs = path.join(pkgDir, 'attention_explorer.js');
const pkgWasm = path.join(pkgDir, 'attention_explorer_bg.wasm');
let pkg = null;
let explorer = null;
let config = null;
let modelName = null;
if (fs.existsSync(pkgJs) && fs.existsSync(pkgWasm)) {
  pkg = await import(pathToFileURL(pkgJs).href);
  pkg.initSync({ module: fs.readFileSync(pkgWasm) });
  explorer = new pkg.Explorer();
  ({ config, name: modelName } = explorer.info());
} else {
  console.warn(`no shipped module at ${pkgJs}: run ./build.sh build for the analyze figures`);
}
// The kernel shapes are the shipped model's design (issue 2): T ≤ 64 tokens, d_model 128, 4 heads of
// 32, an MLP of 512, a vocabulary of 4096; fixed, so kernel figures compare across model versions.
const [T, D, Dh, F, V] = [64, 128, 32, 512, 4096];

// ----------------------------------------------------------------------------------------------
// matmul

const shapes = [
  { m: T, k: D, n: D, bt: 0, what: 'Q, K, V projections' },
  { m: T, k: Dh, n: T, bt: 1, what: 'scores Q·Kᵀ (per head)' },
  { m: T, k: T, n: Dh, bt: 0, what: 'mix A·V (per head)' },
  { m: T, k: Dh, n: D, bt: 0, what: 'ΔE_h = mixed·W_O[h]' },
  { m: T, k: D, n: F, bt: 0, what: 'MLP in' },
  { m: T, k: F, n: D, bt: 0, what: 'MLP out' },
  { m: 1, k: D, n: V, bt: 1, what: 'unembedding (last position)' },
  { m: 8, k: D, n: D, bt: 0, what: 'projections, 8 tokens' },
  { m: 128, k: 128, n: 128, bt: 0, what: '128³' },
  { m: 256, k: 256, n: 256, bt: 0, what: '256³' },
];

const matmul = [];
for (const s of shapes) {
  const { m, k, n, bt } = s;
  const a = Array.from({ length: m * k }, () => rand(-1, 1));
  const b = Array.from({ length: k * n }, () => rand(-1, 1));
  const bufs = (mod) => {
    const [A, B, C] = [mod.alloc(m * k), mod.alloc(k * n), mod.alloc(m * n)];
    A.view().set(a);
    B.view().set(b);
    return { A, B, C };
  };
  const on = (mod, fname) => {
    const { A, B, C } = bufs(mod);
    return { C, fn: (reps) => mod.ex[fname](A.ptr, B.ptr, C.ptr, m, k, n, bt, reps) };
  };
  const impls = { simd: on(simdMod, 'ours'), scalar: on(scalarMod, 'ours'), matrixmultiply: on(simdMod, 'matrixmultiply'), naive: on(simdMod, 'naive') };
  const ms = run(Object.entries(impls).map(([key, { fn }]) => ({ key, fn })));

  // every implementation computed the same product (to f32 summation error)
  const ref = impls.naive.C.view();
  const scale = Math.sqrt(k);
  for (const [key, { C }] of Object.entries(impls)) {
    const c = C.view();
    for (let i = 0; i < c.length; i++) {
      if (!(Math.abs(c[i] - ref[i]) <= 1e-5 * scale)) {
        throw new Error(`${key} ${m}×${k}×${n}${bt ? ' (Bᵀ)' : ''}: element ${i} is ${c[i]}, the naive loop gives ${ref[i]}`);
      }
    }
  }
  const gflops = (t) => (2 * m * k * n) / (t * 1e6);
  matmul.push({
    m, k, n, bt: bt === 1, what: s.what,
    simd_gflops: gflops(ms.simd), scalar_gflops: gflops(ms.scalar),
    matrixmultiply_gflops: gflops(ms.matrixmultiply), naive_gflops: gflops(ms.naive),
  });
}

// ----------------------------------------------------------------------------------------------
// softmax

/** Exact softmax of the f32 inputs (f64), masked entries 0. */
function softmaxF64(x, rows, cols, causal) {
  const y = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const live = causal ? Math.min(i + 1, cols) : cols;
    let max = -Infinity;
    for (let j = 0; j < live; j++) max = Math.max(max, x[i * cols + j]);
    let sum = 0;
    for (let j = 0; j < live; j++) sum += Math.exp(x[i * cols + j] - max);
    for (let j = 0; j < live; j++) y[i * cols + j] = Math.exp(x[i * cols + j] - max) / sum;
  }
  return y;
}

/** Largest relative error over all entries, with a floor of f32's smallest normal. */
function maxRelErr(got, want) {
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 2 ** -126));
  return worst;
}

const softmaxCases = [
  { rows: 1, cols: V, causal: 0, what: 'next-token probabilities (one row over the vocabulary)', lo: -12, hi: 12 },
  { rows: T, cols: T, causal: 1, what: 'attention weights (causal, one head)', lo: -6, hi: 6 },
];
const softmax = [];
for (const s of softmaxCases) {
  const { rows, cols, causal } = s;
  const n = rows * cols;
  const x = Float32Array.from({ length: n }, () => rand(s.lo, s.hi));
  const on = (mod) => {
    const [src, work] = [mod.alloc(n), mod.alloc(n)];
    src.view().set(x);
    return {
      work,
      fn: (reps) => mod.ex.softmax(src.ptr, work.ptr, rows, cols, causal, reps),
      copy: (reps) => mod.ex.copy(src.ptr, work.ptr, rows, cols, reps),
    };
  };
  const simd = on(simdMod);
  const scalar = on(scalarMod);
  const ms = run([
    { key: 'simd', fn: simd.fn }, { key: 'scalar', fn: scalar.fn },
    { key: 'simd_copy', fn: simd.copy }, { key: 'scalar_copy', fn: scalar.copy },
  ]);
  simd.fn(1); // the copy measurements left the raw input in the work buffers
  scalar.fn(1);
  const want = softmaxF64(x, rows, cols, causal === 1);
  // each measurement re-copies the input first; the copy, timed alone, is subtracted
  const nsPerElem = (t, copy) => (Math.max(t - copy, 0) * 1e6) / n;
  softmax.push({
    n, rows, cols, causal: causal === 1, what: s.what, input_range: [s.lo, s.hi],
    simd_ns_per_elem: nsPerElem(ms.simd, ms.simd_copy),
    scalar_ns_per_elem: nsPerElem(ms.scalar, ms.scalar_copy),
    max_rel_err: maxRelErr(simd.work.view(), want),
    scalar_max_rel_err: maxRelErr(scalar.work.view(), want),
  });
}

// ----------------------------------------------------------------------------------------------
// whole analyses

/** FLOPs of the forward pass the issue counts: every projection, scores and mixing over all T×T
 *  pairs, the MLP, and the unembedding of one position. */
function forwardFlops(cfg, t) {
  const { n_layers: L, d_model: d, n_heads: h, d_head: dh, d_mlp: f, vocab_size: v } = cfg;
  const layer = 2 * t * d * 3 * h * dh + 2 * (2 * h * t * t * dh) + 2 * t * h * dh * d + (f > 0 ? 2 * 2 * t * d * f : 0);
  return L * layer + 2 * d * v;
}

/** A text of exactly `want` tokens for this explorer's tokenizer (or the nearest above it): the
 *  shortest prefix of a passage. */
function textOf(ex, want) {
  const passage = ('The cat sat on the mat because it was warm, and the dog watched the cat from the door. ' +
    'When the sun went down, the cat went inside and the dog followed it to the kitchen, where dinner was waiting. ').repeat(8);
  for (let len = 1; len <= passage.length; len++) {
    if (ex.countTokens(passage.slice(0, len)) >= want) return passage.slice(0, len);
  }
  return passage;
}

/** Median ms of ex.analyze(text, {}) for texts of 8, 32 and 64 tokens (as far as the context
 *  allows), after a JIT warm-up, in interleaved rounds. */
function analyzeFigures(ex, cfg) {
  const texts = [8, 32, 64].filter((t) => t <= cfg.context).map((t) => ({ text: textOf(ex, t) }));
  for (const t of texts) t.tokens = ex.countTokens(t.text);
  for (let i = 0; i < 5; i++) texts.forEach((t) => ex.analyze(t.text, {}));
  const ms = run(texts.map((t) => ({ key: t.tokens, fn: (reps) => { for (let r = 0; r < reps; r++) ex.analyze(t.text, {}); } })));
  // min_ms: the fastest round
  return texts.map((t) => ({
    tokens: t.tokens, median_ms: ms[t.tokens], min_ms: ms.min[t.tokens],
    gflops: forwardFlops(cfg, t.tokens) / (ms[t.tokens] * 1e6), mflop: forwardFlops(cfg, t.tokens) / 1e6,
  }));
}

/** A safetensors file (model/FORMAT.md) with random weights of the given shape: what the trained
 *  model will cost before it exists. Projections uniform in ±1/√fan_in, norms 1 and 0. */
function syntheticWeights(cfg) {
  const { vocab_size: v, d_model: d, n_layers: L, n_heads: h, d_head: dh, d_mlp: f, context: c } = cfg;
  const tensors = [['tok_emb', [v, d], 1], ['pos_emb', [c, d], 1]];
  for (let i = 0; i < L; i++) {
    const p = `layers.${i}.`;
    tensors.push([p + 'ln1.weight', [d], 'one'], [p + 'ln1.bias', [d], 'zero']);
    for (const w of ['w_q', 'w_k', 'w_v']) tensors.push([p + 'attn.' + w, [d, h * dh], 1 / Math.sqrt(d)]);
    tensors.push([p + 'attn.w_o', [h * dh, d], 1 / Math.sqrt(h * dh)]);
    if (f > 0) {
      tensors.push([p + 'ln2.weight', [d], 'one'], [p + 'ln2.bias', [d], 'zero']);
      tensors.push([p + 'mlp.w_in', [d, f], 1 / Math.sqrt(d)], [p + 'mlp.b_in', [f], 'zero']);
      tensors.push([p + 'mlp.w_out', [f, d], 1 / Math.sqrt(f)], [p + 'mlp.b_out', [d], 'zero']);
    }
  }
  tensors.push(['ln_f.weight', [d], 'one'], ['ln_f.bias', [d], 'zero']);
  const header = { __metadata__: { format: 'attention-explorer/1', name: 'random weights at the design shape', config: JSON.stringify(cfg) } };
  let offset = 0;
  const data = tensors.map(([name, shape, init]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n).map(() => (init === 'one' ? 1 : init === 'zero' ? 0 : rand(-init, init)));
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
    return x;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const x of data) { out.set(new Uint8Array(x.buffer), at); at += x.byteLength; }
  return out;
}

let analyze = [];
let analyzeDesign = [];
const DESIGN = { vocab_size: V, d_model: D, n_layers: 2, n_heads: D / Dh, d_head: Dh, d_mlp: F, context: T, ln_eps: 1e-5 };
if (explorer) {
  analyze = analyzeFigures(explorer, config);
  const designShaped = ['vocab_size', 'd_model', 'n_layers', 'n_heads', 'd_head', 'd_mlp', 'context'].every((key) => config[key] === DESIGN[key]);
  if (!designShaped) {
    // the built-in model is not (yet) the design shape: time random weights of that shape too, with
    // the test tokenizer (its ids all fit a 4096-token vocabulary)
    const tokenizer = fs.readFileSync(path.join(ROOT, 'tests/fixtures/tiny/tokenizer.json'));
    analyzeDesign = analyzeFigures(pkg.Explorer.fromBytes(syntheticWeights(DESIGN), tokenizer), DESIGN);
  }
}

// ----------------------------------------------------------------------------------------------
// sizes, report, bench.json

const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
const sizes = {};
if (fs.existsSync(pkgWasm)) {
  sizes.wasm_bytes = fs.statSync(pkgWasm).size;
  sizes.wasm_gzip_bytes = gz(pkgWasm);
  if (args['weights-inside']) sizes.wasm_includes_weights = args['weights-inside'] === 'yes';
}
if (args['no-weights-wasm'] && fs.existsSync(args['no-weights-wasm'])) {
  sizes.wasm_bytes_without_weights = fs.statSync(args['no-weights-wasm']).size;
  sizes.wasm_gzip_bytes_without_weights = gz(args['no-weights-wasm']);
}

const f1 = (x) => x.toFixed(1).padStart(7);
const f2 = (x) => x.toFixed(2).padStart(6);
console.log(`\nmatmul, GFLOP/s (median of ${ROUNDS} interleaved rounds; ratios are simd ÷ the others)`);
console.log('      m     k     n        simd  scalar  m.mult   naive   ×scalar  ×m.mult  shape');
for (const r of matmul) {
  console.log(`${String(r.m).padStart(7)}${String(r.k).padStart(6)}${String(r.n).padStart(6)}${r.bt ? 'ᵀ' : ' '}  ${f1(r.simd_gflops)} ${f1(r.scalar_gflops)} ${f1(r.matrixmultiply_gflops)} ${f1(r.naive_gflops)}    ${f2(r.simd_gflops / r.scalar_gflops)}   ${f2(r.simd_gflops / r.matrixmultiply_gflops)}  ${r.what}`);
}
console.log('\nsoftmax, ns per element');
for (const s of softmax) {
  console.log(`  ${s.rows}×${s.cols}${s.causal ? ' causal' : ''}: simd ${s.simd_ns_per_elem.toFixed(3)}, scalar ${s.scalar_ns_per_elem.toFixed(3)} (×${(s.scalar_ns_per_elem / s.simd_ns_per_elem).toFixed(2)}); max relative error simd ${s.max_rel_err.toExponential(2)}, scalar ${s.scalar_max_rel_err.toExponential(2)}   ${s.what}`);
}
const printAnalyze = (title, rows) => {
  console.log(`\nanalyze, ${title}`);
  for (const a of rows) console.log(`  ${String(a.tokens).padStart(3)} tokens: ${a.median_ms.toFixed(3)} ms (fastest round ${a.min_ms.toFixed(3)} ms), ${a.mflop.toFixed(1)} MFLOP, ${a.gflops.toFixed(2)} GFLOP/s`);
};
if (explorer) printAnalyze(`built-in model (${modelName}: ${JSON.stringify(config)})`, analyze);
if (analyzeDesign.length) printAnalyze(`random weights at the design shape ${JSON.stringify(DESIGN)}`, analyzeDesign);
console.log('\nsizes', JSON.stringify(sizes));
console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);

const out = path.join(ROOT, 'target', 'bench.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
const previous = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : {};
const conditions = {
  date: new Date().toISOString(), node: process.version, v8: process.versions.v8,
  cpu: os.cpus()[0]?.model, cpus: os.cpus().length, loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  rounds: ROUNDS, target_ms_per_measurement: TARGET_MS, clock: 'process CPU time (user + system)',
};
const merged = {
  ...previous,
  engine_bench_conditions: conditions,
  matmul,
  softmax: softmax[0],
  softmax_cases: softmax,
  ...(explorer ? { analyze, analyze_model: { name: modelName, config } } : {}),
  ...(analyzeDesign.length ? { analyze_design_shape: analyzeDesign, analyze_design_config: DESIGN } : {}),
  ...sizes,
};
fs.writeFileSync(out, JSON.stringify(merged, null, 2) + '\n');
console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
