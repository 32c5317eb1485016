//! Scalar kernels: the specification every other kernel must match.

/// C (m×n) ← A (m×k) · B (k×n).
pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f32;
            for p in 0..k {
                s += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = s;
        }
    }
}

/// C (m×n) ← A (m×k) · Bᵀ, where B is stored (n×k).
pub fn matmul_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
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

/// Row-wise softmax in place; with `causal`, (i, j > i) becomes exactly 0.
pub fn softmax_rows(x: &mut [f32], rows: usize, cols: usize, causal: bool) {
    for i in 0..rows {
        let row = &mut x[i * cols..(i + 1) * cols];
        let live = if causal { (i + 1).min(cols) } else { cols };
        let max = row[..live].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for v in row[..live].iter_mut() {
            *v = if max == f32::NEG_INFINITY { 0.0 } else { (*v - max).exp() };
            sum += *v;
        }
        for v in row[..live].iter_mut() {
            *v /= sum;
        }
        for v in row[live..].iter_mut() {
            *v = 0.0;
        }
    }
}

/// out ← LayerNorm(x) row by row.
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], out: &mut [f32], rows: usize, cols: usize, eps: f32) {
    for i in 0..rows {
        let r = &x[i * cols..(i + 1) * cols];
        let mean = r.iter().sum::<f32>() / cols as f32;
        let var = r.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / cols as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for j in 0..cols {
            out[i * cols + j] = (r[j] - mean) * inv * gamma[j] + beta[j];
        }
    }
}

/// x ← gelu_tanh(x).
pub fn gelu(x: &mut [f32]) {
    const C: f32 = 0.797_884_6; // √(2/π)
    for v in x.iter_mut() {
        let u = *v;
        *v = 0.5 * u * (1.0 + (C * (u + 0.044715 * u * u * u)).tanh());
    }
}
