//! The numeric kernels, behind one dispatch point.
//!
//! `scalar` is the specification: plain loops, always compiled, documented with the math. `simd128`
//! has the same signatures and is used when the crate is built for wasm32 with `+simd128`
//! (`.cargo/config.toml`). The model calls only the functions in this module.
//!
//! All matrices are row-major `f32` slices; shapes are given as `(rows, cols)`. Every kernel checks
//! that its slices have exactly the lengths the shape implies and panics (naming both) if not: a
//! mismatch is a bug in the caller, never a user input error.
//!
//! What "the same" means, kernel by kernel (tests/kernels.rs checks each claim):
//! - `matmul`, `matmul_bt`: bit-identical results whenever every partial sum is exactly
//!   representable (integer-valued inputs); otherwise within the usual f32 summation error.
//! - `softmax_rows`: identical edge-case behaviour (masks, −∞, +∞, NaN); values within
//!   [`SOFTMAX_MAX_REL_ERR`] of the exact (f64) softmax.
//! - `layer_norm`, `gelu`, `rms_norm`, `swiglu`: within the tolerances stated in the tests of the
//!   f64 formula.

pub mod scalar;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd128 as imp;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use scalar as imp;

/// The largest relative error of the softmax against the exact softmax of the same f32 inputs, over
/// outputs ≥ `f32::MIN_POSITIVE` (smaller outputs are within `f32::MIN_POSITIVE · SOFTMAX_MAX_REL_ERR`
/// absolutely). simd128 meets it for any finite inputs: exp ≤ 1.2e-7, x − max exact, the sum in f64,
/// 1/sum and the product rounded once each (measured at most 1.7e-7). The scalar spec rounds
/// x − max to f32 first, which adds up to |x − max|·2⁻²⁴: it meets the bound while the inputs of a
/// row span ≤ 16 (measured 1.1e-7 there, 3.9e-6 at a span of 200).
pub const SOFTMAX_MAX_REL_ERR: f32 = 2e-6;

/// True when the dispatch point uses the wasm simd128 kernels.
pub const SIMD128: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// C (m×n) ← A (m×k) · B (k×n).
#[inline]
pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    imp::matmul(a, b, c, m, k, n)
}

/// C (m×n) ← A (m×k) · Bᵀ, where B is stored (n×k).
#[inline]
pub fn matmul_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    imp::matmul_bt(a, b, c, m, k, n)
}

/// Row-wise softmax in place over a (rows×cols) matrix. With `causal`, entry (i, j) with j > i is
/// masked: it becomes exactly 0 and takes no part in the normalisation. Edge cases (−∞, +∞, NaN,
/// rows with nothing to attend to) are defined in [`scalar::softmax_rows`].
#[inline]
pub fn softmax_rows(x: &mut [f32], rows: usize, cols: usize, causal: bool) {
    imp::softmax_rows(x, rows, cols, causal)
}

/// [`softmax_rows`], also writing each row's max (`max`, rows) and Σ exp(x − max) (`sum`, rows) as
/// the kernel itself used them, so that a view can print the arithmetic behind each weight exactly:
/// weight = exp(x − max) / Σ. Σ is NaN for a row whose max is not finite.
#[inline]
pub fn softmax_rows_terms(x: &mut [f32], rows: usize, cols: usize, causal: bool, max: &mut [f32], sum: &mut [f32]) {
    imp::softmax_rows_terms(x, rows, cols, causal, max, sum)
}

/// out (rows×cols) ← LayerNorm of each row of x: (x − mean) / √(var + eps) · gamma + beta.
#[inline]
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], out: &mut [f32], rows: usize, cols: usize, eps: f32) {
    imp::layer_norm(x, gamma, beta, out, rows, cols, eps)
}

/// x ← gelu_tanh(x) elementwise: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
#[inline]
pub fn gelu(x: &mut [f32]) {
    imp::gelu(x)
}

/// out (rows×cols) ← RMSNorm of each row of x: x / √(mean(x²) + eps) · gamma (the Llama family).
#[inline]
pub fn rms_norm(x: &[f32], gamma: &[f32], out: &mut [f32], rows: usize, cols: usize, eps: f32) {
    imp::rms_norm(x, gamma, out, rows, cols, eps)
}

/// gate ← silu(gate) ⊙ up elementwise, silu(g) = g / (1 + e^(−g)): the SwiGLU MLP's hidden layer.
#[inline]
pub fn swiglu(gate: &mut [f32], up: &[f32]) {
    imp::swiglu(gate, up)
}

/// x·y, or `None` if it overflows `usize` (32 bits on wasm32: 65,536² wraps to 0, and a guard that
/// multiplies the same way would then accept empty slices for a 65,536×65,536 product).
#[inline]
fn times(x: usize, y: usize) -> Option<usize> {
    x.checked_mul(y)
}

/// `Some(n)` as a number, `None` as "more than usize holds", for the guards' messages.
fn shown(n: Option<usize>) -> String {
    n.map_or_else(|| format!("more than {} (overflows usize)", usize::MAX), |n| n.to_string())
}

/// Panics unless A, B and C have the lengths of (m×k), (k×n) [or (n×k)] and (m×n), each product
/// computed with overflow checks.
#[inline]
fn check_matmul(name: &str, a: usize, b: usize, c: usize, m: usize, k: usize, n: usize) {
    let (mk, kn, mn) = (times(m, k), times(k, n), times(m, n));
    assert!(
        mk == Some(a) && kn == Some(b) && mn == Some(c),
        "{name}: expected slices of length m·k = {}, k·n = {}, m·n = {} for m = {m}, k = {k}, n = {n}; \
         found {a}, {b}, {c}",
        shown(mk),
        shown(kn),
        shown(mn)
    );
}

/// Panics unless x has rows·cols elements (the product computed with overflow checks).
#[inline]
fn check_rows(name: &str, len: usize, rows: usize, cols: usize) {
    let want = times(rows, cols);
    assert!(want == Some(len), "{name}: expected rows·cols = {rows}·{cols} = {} elements, found {len}", shown(want));
}

/// Panics unless the max and sum outputs of a row-wise softmax each have `rows` elements.
#[inline]
fn check_terms(max: usize, sum: usize, rows: usize) {
    assert!(max == rows && sum == rows, "softmax_rows_terms: expected {rows} maxima and sums, found {max} and {sum}");
}

/// Panics unless x and out have rows·cols elements and gamma, beta have cols.
#[inline]
fn check_layer_norm(x: usize, gamma: usize, beta: usize, out: usize, rows: usize, cols: usize) {
    let want = times(rows, cols);
    assert!(
        want == Some(x) && want == Some(out) && gamma == cols && beta == cols,
        "layer_norm: expected x and out of rows·cols = {} elements and gamma, beta of cols = {cols}; \
         found x {x}, out {out}, gamma {gamma}, beta {beta}",
        shown(want)
    );
}

/// Panics unless x and out have rows·cols elements and gamma has cols.
#[inline]
fn check_rms_norm(x: usize, gamma: usize, out: usize, rows: usize, cols: usize) {
    let want = times(rows, cols);
    assert!(
        want == Some(x) && want == Some(out) && gamma == cols,
        "rms_norm: expected x and out of rows·cols = {} elements and gamma of cols = {cols}; found x {x}, out {out}, gamma {gamma}",
        shown(want)
    );
}

/// Panics unless two slices that go together elementwise have the same length.
#[inline]
fn check_same(name: &str, a: usize, b: usize) {
    assert!(a == b, "{name}: expected slices of the same length, found {a} and {b}");
}

// ---------------------------------------------------------------------------------------------
// Quantised weights (GGUF blocks): `quant` is the spec, `quant_simd128` its simd128 twin.

pub mod quant;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod quant_simd128;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use quant_simd128 as quant_imp;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use quant as quant_imp;

/// dst (k) ← the dequantised row of k elements in `src` (k/32 blocks of `format`), e.g. one token's
/// embedding.
#[inline]
pub fn dequantize_row(format: quant::QuantFormat, src: &[u8], dst: &mut [f32]) {
    quant_imp::dequantize_row(format, src, dst)
}

/// y (m×n) ← x (m×k) · Ŵᵀ, W (n×k) quantised row by row in `format`, dequantising W's blocks in
/// the kernel (approach a: f32 throughout; [`quant::matmul_bt_dequant`]). The exact one: within f32
/// summation error of Σ x·ŵ (bit-identical to the spec from m = 4 rows on); measured in V8 as fast
/// as approach (b) at m = 32, about 1.6× slower at m ≤ 8 (benches/quant.mjs).
#[inline]
pub fn matmul_bt_dequant(x: &[f32], w: &[u8], format: quant::QuantFormat, y: &mut [f32], m: usize, k: usize, n: usize) {
    quant_imp::matmul_bt_dequant(x, w, format, y, m, k, n)
}

/// y (m×n) ← x (m×k) · Ŵᵀ with x quantised to 8 bits per 32-block and integer dot products
/// (approach b, as llama.cpp; [`quant::matmul_bt_q8`]). Bit-identical across implementations, but
/// the rounding of x costs accuracy: measured at SmolLM2's shapes on random data, results differ
/// from approach (a) by up to ~4e-3 of the largest |y|.
#[inline]
pub fn matmul_bt_q8(x: &[f32], w: &[u8], format: quant::QuantFormat, y: &mut [f32], m: usize, k: usize, n: usize) {
    quant_imp::matmul_bt_q8(x, w, format, y, m, k, n)
}
