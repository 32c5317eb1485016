//! Scalar kernels: the specification every other kernel must match. Plain loops, no intrinsics,
//! always compiled; each doc comment is the kernel's contract.

use super::{check_layer_norm, check_matmul, check_rms_norm, check_rows, check_same, check_terms};

/// C (m×n) ← A (m×k) · B (k×n), all row-major:
///
/// C[i,j] = Σ_{p=0}^{k−1} A[i,p]·B[p,j], accumulated from 0 in the order p = 0, 1, …, k−1.
///
/// With k = 0 every element of C is 0. The loop runs i, p, j so the innermost loop walks rows of B
/// and C contiguously; the summation order per element is still p ascending.
pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul("matmul", a.len(), b.len(), c.len(), m, k, n);
    for i in 0..m {
        let c_row = &mut c[i * n..(i + 1) * n];
        c_row.fill(0.0);
        for p in 0..k {
            let a_ip = a[i * k + p];
            for (c_ij, &b_pj) in c_row.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                *c_ij += a_ip * b_pj;
            }
        }
    }
}

/// C (m×n) ← A (m×k) · Bᵀ, where B is stored row-major as (n×k):
///
/// C[i,j] = Σ_{p=0}^{k−1} A[i,p]·B[j,p] — the dot product of row i of A with row j of B.
pub fn matmul_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul("matmul_bt", a.len(), b.len(), c.len(), m, k, n);
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f32;
            for p in 0..k {
                s += a[i * k + p] * b[j * k + p];
            }
            c[i * n + j] = s;
        }
    }
}

/// Row-wise softmax in place over a (rows×cols) matrix x.
///
/// The *live* entries of row i are j < cols, or with `causal` j ≤ i. Masked entries (j > i) become
/// exactly 0 and take no part in the maximum or the sum. Over the live entries:
///
/// y[i,j] = exp(x[i,j] − mᵢ) / Σ_{live j′} exp(x[i,j′] − mᵢ),   mᵢ = max_{live j} x[i,j]
///
/// Subtracting the row maximum keeps every exponent ≤ 0, so huge inputs cannot overflow, and the
/// largest term is exactly 1, so the sum is ≥ 1. The sum is accumulated in f64. Edge cases, which
/// every kernel follows exactly:
/// - an entry of −∞ gets exactly 0;
/// - if a live entry is +∞, the row's mass is shared equally by its +∞ entries (the limit of the
///   formula as those logits grow) and every other live entry gets 0;
/// - a row whose live entries are all −∞ (nothing can be attended to) becomes all zeros, not NaN,
///   so an ablated or fully masked row contributes nothing downstream;
/// - a NaN among the live entries makes every live entry of the row NaN (masked entries stay 0).
pub fn softmax_rows(x: &mut [f32], rows: usize, cols: usize, causal: bool) {
    check_rows("softmax_rows", x.len(), rows, cols);
    for (i, row) in x.chunks_exact_mut(cols.max(1)).take(rows).enumerate() {
        softmax_row(row, i, causal);
    }
}

/// [`softmax_rows`], also writing each row's max and Σ exp(x − max) as this kernel used them
/// (Σ is NaN for a row whose max is not finite).
pub fn softmax_rows_terms(x: &mut [f32], rows: usize, cols: usize, causal: bool, max: &mut [f32], sum: &mut [f32]) {
    check_rows("softmax_rows_terms", x.len(), rows, cols);
    check_terms(max.len(), sum.len(), rows);
    // rows of no columns are empty rows: max −∞, Σ NaN, as for any row with nothing to attend to
    max.fill(f32::NEG_INFINITY);
    sum.fill(f32::NAN);
    for (i, row) in x.chunks_exact_mut(cols.max(1)).take(rows).enumerate() {
        (max[i], sum[i]) = softmax_row(row, i, causal);
    }
}

/// Softmax of row i in place (its masked part, with `causal`, set to 0); returns (max, Σ exp).
fn softmax_row(row: &mut [f32], i: usize, causal: bool) -> (f32, f32) {
    let live = if causal { (i + 1).min(row.len()) } else { row.len() };
    let (row, masked) = row.split_at_mut(live);
    masked.fill(0.0);
    // f32::max ignores NaN: a NaN reaches the sum below (finite max) or softmax_degenerate.
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        softmax_degenerate(row, max);
        return (max, f32::NAN);
    }
    let mut sum = 0.0f64;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v as f64;
    }
    for v in row.iter_mut() {
        *v = (*v as f64 / sum) as f32;
    }
    (max, sum as f32)
}

/// The live part of a softmax row whose maximum (ignoring NaN) is ±∞ — or −∞ because it is empty or
/// all NaN. Shared by every kernel so the edge cases cannot drift apart.
pub(crate) fn softmax_degenerate(row: &mut [f32], max: f32) {
    if row.iter().any(|v| v.is_nan()) {
        row.fill(f32::NAN);
    } else if max == f32::INFINITY {
        let count = row.iter().filter(|&&v| v == f32::INFINITY).count();
        let share = 1.0 / count as f32;
        row.iter_mut().for_each(|v| *v = if *v == f32::INFINITY { share } else { 0.0 });
    } else {
        row.fill(0.0);
    }
}

/// out (rows×cols) ← LayerNorm of each row of x, with the biased variance:
///
/// out[i,j] = (x[i,j] − μᵢ) / √(σᵢ² + eps) · gamma[j] + beta[j],
/// μᵢ = (1/cols) Σⱼ x[i,j],   σᵢ² = (1/cols) Σⱼ (x[i,j] − μᵢ)²   (two passes, so no cancellation).
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], out: &mut [f32], rows: usize, cols: usize, eps: f32) {
    check_layer_norm(x.len(), gamma.len(), beta.len(), out.len(), rows, cols);
    if cols == 0 {
        return;
    }
    for (r, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let mean = r.iter().sum::<f32>() / cols as f32;
        let var = r.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / cols as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for j in 0..cols {
            o[j] = (r[j] - mean) * inv * gamma[j] + beta[j];
        }
    }
}

/// x ← gelu_tanh(x) elementwise (the GPT-2 form):
///
/// gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
pub fn gelu(x: &mut [f32]) {
    const C: f32 = 0.797_884_6; // √(2/π)
    for v in x.iter_mut() {
        let u = *v;
        *v = 0.5 * u * (1.0 + (C * (u + 0.044715 * u * u * u)).tanh());
    }
}

/// out (rows×cols) ← RMSNorm of each row of x (the Llama family's norm: no centring, no bias):
///
/// out[i,j] = x[i,j] / √(msᵢ + eps) · gamma[j],   msᵢ = (1/cols) Σⱼ x[i,j]².
pub fn rms_norm(x: &[f32], gamma: &[f32], out: &mut [f32], rows: usize, cols: usize, eps: f32) {
    check_rms_norm(x.len(), gamma.len(), out.len(), rows, cols);
    if cols == 0 {
        return;
    }
    for (r, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let ms = r.iter().map(|v| v * v).sum::<f32>() / cols as f32;
        let inv = 1.0 / (ms + eps).sqrt();
        for j in 0..cols {
            o[j] = r[j] * inv * gamma[j];
        }
    }
}

/// gate ← silu(gate) ⊙ up elementwise (the SwiGLU MLP's hidden layer), silu(g) = g / (1 + e^(−g)).
pub fn swiglu(gate: &mut [f32], up: &[f32]) {
    check_same("swiglu", gate.len(), up.len());
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}
