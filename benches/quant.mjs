// Quantised kernel benchmark (issue 10), one Node process, merged into target/bench.json as
// quant_matmul: y (m×n) ← x (m×k) · Ŵᵀ with W quantised, at SmolLM2-135M's shapes, for both approaches
// side by side — (a) `dequant`: W's blocks dequantised inside the kernel, f32 multiply-adds; (b) `q8`:
// x quantised to 8 bits per 32-block, integer dot products (llama.cpp's way) — in our simd128 build and
// in our scalar build (no simd128 at all), with our f32 matmul_bt on the dequantised W for scale.
// GFLOP/s count 2·m·k·n per product. Timing as benches/engine.mjs: CPU time of this process, each
// sample ≥ TARGET_MS, ROUNDS interleaved rounds, medians. Node's V8 is Chromium's engine.
//
// Usage: node benches/quant.mjs --simd <kernel bench wasm, +simd128> --scalar <same, no simd128>
//        (benches/run.sh builds both; BENCH_QUANT_QUICK=1 runs 5 rounds)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeBenchJson } from './bench-json.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = process.env.BENCH_QUANT_QUICK ? 5 : 21;
const TARGET_MS = 3;

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
for (const need of ['simd', 'scalar']) {
  if (!args[need]) throw new Error(`expected --${need} <path to the kernel benchmark wasm>, found none`);
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
function time(fn, reps) {
  const t0 = process.cpuUsage();
  fn(reps);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000 / reps;
}
function calibrate(fn) {
  fn(1);
  let reps = 1;
  while (time(fn, reps) * reps < TARGET_MS && reps < 1 << 24) reps *= 2;
  return reps;
}
/** cases: [{key, fn(reps)}] → {key: median ms per rep}, interleaved rounds in rotated order. */
function run(cases) {
  const reps = cases.map((c) => calibrate(c.fn));
  const samples = cases.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let s = 0; s < cases.length; s++) {
      const i = (s + r) % cases.length;
      samples[i].push(time(cases[i].fn, reps[i]));
    }
  }
  return Object.fromEntries(cases.map((c, i) => [c.key, median(samples[i])]));
}

async function load(file) {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), {});
  return instance.exports;
}
const simd = await load(args.simd);
const scalar = await load(args.scalar);
if (simd.simd() !== 1 || scalar.simd() !== 0) throw new Error(`expected --simd to be the simd128 build and --scalar the scalar one; found simd()=${simd.simd()}, ${scalar.simd()}`);

let seed = 0x2545f491;
const rand = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 2 ** 32; };

/** f16 bits of a normal number in ±[2^-9, 2^-5): SmolLM2's scales are of that order. */
const f16 = (signed) => ((signed && rand() < 0.5) ? 0x8000 : 0) | ((6 + Math.floor(rand() * 4)) << 10) | Math.floor(rand() * 1024);
const FORMATS = { Q8_0: { id: 0, bytes: 34 }, Q4_0: { id: 1, bytes: 18 }, Q4_1: { id: 2, bytes: 20 } };

/** n rows of k elements in `format`, random scales and integers. */
function quantised(format, n, k) {
  const { bytes } = FORMATS[format];
  const out = new Uint8Array(n * (k / 32) * bytes);
  const view = new DataView(out.buffer);
  for (let at = 0; at < out.length; at += bytes) {
    view.setUint16(at, f16(false), true);
    let q = at + 2;
    if (format === 'Q4_1') { view.setUint16(at + 2, f16(true), true); q += 2; }
    for (let i = q; i < at + bytes; i++) out[i] = Math.floor(rand() * 256);
  }
  return out;
}

// SmolLM2-135M: d_model 576, 9 query heads and 3 key/value heads of 64, MLP 1536, vocabulary 49152
// (the tied Q8_0 embedding is the unembedding); m = tokens in the analysis.
const shapes = [];
for (const m of [1, 8, 32]) {
  shapes.push(
    { m, k: 576, n: 576, format: 'Q4_1', what: 'attn_q, attn_output' },
    { m, k: 576, n: 192, format: 'Q4_1', what: 'attn_k, attn_v' },
    { m, k: 576, n: 1536, format: 'Q4_1', what: 'ffn_gate, ffn_up' },
    { m, k: 1536, n: 576, format: 'Q4_1', what: 'ffn_down' },
  );
}
shapes.push({ m: 1, k: 576, n: 49152, format: 'Q8_0', what: 'unembedding (tied Q8_0 embedding), last position' });
shapes.push({ m: 8, k: 576, n: 576, format: 'Q8_0', what: 'Q8_0 at a projection shape' });
shapes.push({ m: 8, k: 576, n: 576, format: 'Q4_0', what: 'Q4_0 at a projection shape' });

const rows = [];
for (const s of shapes) {
  const { m, k, n, format } = s;
  const x = Float32Array.from({ length: m * k }, () => 2 * rand() - 1);
  const w = quantised(format, n, k);
  const on = (ex) => {
    const [xp, wp, yp] = [ex.alloc_f32(m * k), ex.alloc_u8(w.length), ex.alloc_f32(m * n)];
    new Float32Array(ex.memory.buffer, xp, m * k).set(x);
    new Uint8Array(ex.memory.buffer, wp, w.length).set(w);
    const y = () => new Float32Array(ex.memory.buffer, yp, m * n).slice();
    return {
      dequant: (reps) => ex.quant(xp, wp, yp, m, k, n, FORMATS[format].id, 0, reps), q8: (reps) => ex.quant(xp, wp, yp, m, k, n, FORMATS[format].id, 1, reps), y,
    };
  };
  const [a, b] = [on(simd), on(scalar)];
  // f32 reference point: matmul_bt on a dense W of the same shape (values do not matter for speed)
  const [fa, fb, fc] = [simd.alloc_f32(m * k), simd.alloc_f32(n * k), simd.alloc_f32(m * n)];
  const f32 = (reps) => simd.ours(fa, fb, fc, m, k, n, 1, reps);
  const ms = run([
    { key: 'simd_dequant', fn: a.dequant }, { key: 'simd_q8', fn: a.q8 },
    { key: 'scalar_dequant', fn: b.dequant }, { key: 'scalar_q8', fn: b.q8 }, { key: 'simd_f32', fn: f32 },
  ]);
  // the two approaches agree (to the 8-bit rounding of x), and (b) is bit-identical across builds
  a.dequant(1); const ya = a.y(); a.q8(1); const yb = a.y(); b.q8(1); const ybs = b.y();
  let worst = 0, scale = 0;
  for (let i = 0; i < ya.length; i++) { worst = Math.max(worst, Math.abs(ya[i] - yb[i])); scale = Math.max(scale, Math.abs(ya[i])); }
  if (!(worst <= 0.05 * scale)) throw new Error(`${m}×${k}×${n} ${format}: dequant and q8 differ by ${worst} (largest |y| ${scale})`);
  if (yb.some((v, i) => !Object.is(v, ybs[i]))) throw new Error(`${m}×${k}×${n} ${format}: q8 simd128 and scalar results differ`);
  const gf = (t) => (2 * m * k * n) / (t * 1e6);
  rows.push({
    m, k, n, format, what: s.what,
    simd_dequant_gflops: gf(ms.simd_dequant), simd_q8_gflops: gf(ms.simd_q8),
    scalar_dequant_gflops: gf(ms.scalar_dequant), scalar_q8_gflops: gf(ms.scalar_q8), simd_f32_gflops: gf(ms.simd_f32),
    q8_vs_dequant_max_abs_diff: worst, max_abs_y: scale, q8_vs_dequant_rel: worst / scale,
  });
}

const f1 = (v) => v.toFixed(1).padStart(7);
console.log(`\nquantised matmul y = x·Ŵᵀ, GFLOP/s (median of ${ROUNDS} interleaved rounds)`);
console.log('    m     k      n  fmt    simd:(a)dequant (b)q8   b/a   scalar:(a)    (b)   f32 matmul_bt  |b−a|/max|y|  shape');
for (const r of rows) {
  console.log(`${String(r.m).padStart(5)} ${String(r.k).padStart(5)} ${String(r.n).padStart(6)}  ${r.format}  ${f1(r.simd_dequant_gflops)} ${f1(r.simd_q8_gflops)}  ${(r.simd_q8_gflops / r.simd_dequant_gflops).toFixed(2).padStart(5)}  ${f1(r.scalar_dequant_gflops)} ${f1(r.scalar_q8_gflops)}  ${f1(r.simd_f32_gflops)}        ${(r.q8_vs_dequant_rel).toExponential(1)}     ${r.what}`);
}
console.log(`load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);

mergeBenchJson(ROOT, {
  quant_matmul: rows,
  quant_bench_conditions: { date: new Date().toISOString(), node: process.version, rounds: ROUNDS, loadavg: os.loadavg().map((v) => +v.toFixed(2)) },
});
console.log('merged quant_matmul into target/bench.json');
