//! The numeric kernels, behind one dispatch point.
//!
//! `scalar` is the specification: plain loops, always compiled, documented with the math. `simd128`
//! has the same signatures and is used when the crate is built for wasm32 with `+simd128`
//! (`.cargo/config.toml`). The model calls only the functions in this module.
//!
//! All matrices are row-major `f32` slices; shapes are given as `(rows, cols)`.

pub mod scalar;

/// C (m×n) ← A (m×k) · B (k×n).
#[inline]
pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    scalar::matmul(a, b, c, m, k, n)
}

/// C (m×n) ← A (m×k) · Bᵀ, where B is stored (n×k).
#[inline]
pub fn matmul_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    scalar::matmul_bt(a, b, c, m, k, n)
}

/// Row-wise softmax in place over a (rows×cols) matrix. With `causal`, entry (i, j) with j > i is
/// masked: it becomes exactly 0 and takes no part in the normalisation.
#[inline]
pub fn softmax_rows(x: &mut [f32], rows: usize, cols: usize, causal: bool) {
    scalar::softmax_rows(x, rows, cols, causal)
}

/// out (rows×cols) ← LayerNorm of each row of x: (x − mean) / √(var + eps) · gamma + beta.
#[inline]
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], out: &mut [f32], rows: usize, cols: usize, eps: f32) {
    scalar::layer_norm(x, gamma, beta, out, rows, cols, eps)
}

/// x ← gelu_tanh(x) elementwise: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
#[inline]
pub fn gelu(x: &mut [f32]) {
    scalar::gelu(x)
}
