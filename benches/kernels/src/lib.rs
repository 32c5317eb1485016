//! Kernel benchmark exports for benches/engine.mjs and benches/quant.mjs. Every function takes
//! pointers into this module's memory (from `alloc_f32`, `alloc_u8`) and repeats its kernel `reps`
//! times, so one call from JavaScript is long enough to time.
//!
//! `SIMD` tells which build this is: with +simd128 the dispatched kernels are src/kernels/simd128.rs,
//! without it src/kernels/scalar.rs compiled with no vector instructions at all.

#![allow(dead_code)] // the kernels module's items that the benchmark does not call

#[path = "../../../src/kernels/mod.rs"]
mod kernels;

use std::slice::{from_raw_parts, from_raw_parts_mut};

/// 1 when built with simd128 (our simd kernels), 0 otherwise (our scalar kernels).
#[no_mangle]
pub extern "C" fn simd() -> u32 {
    kernels::SIMD128 as u32
}

/// A zeroed buffer of `n` floats that lives until the module is dropped.
#[no_mangle]
pub extern "C" fn alloc_f32(n: usize) -> *mut f32 {
    Box::leak(vec![0.0f32; n].into_boxed_slice()).as_mut_ptr()
}

/// C (m×n) ← A·B, or A·Bᵀ (B stored n×k) when `bt` is 1, with our dispatched kernels.
///
/// # Safety
/// a, b, c point to m·k, k·n and m·n floats from `alloc_f32`.
#[no_mangle]
pub unsafe extern "C" fn ours(a: *const f32, b: *const f32, c: *mut f32, m: usize, k: usize, n: usize, bt: u32, reps: u32) {
    let (a, b, c) = (from_raw_parts(a, m * k), from_raw_parts(b, k * n), from_raw_parts_mut(c, m * n));
    for _ in 0..reps {
        if bt == 1 {
            kernels::matmul_bt(a, b, c, m, k, n);
        } else {
            kernels::matmul(a, b, c, m, k, n);
        }
    }
}

/// The same product with matrixmultiply's sgemm (its simd128 8×8 kernel in the simd build);
/// Bᵀ is passed as strides, which is how that crate takes a transposed operand.
///
/// # Safety
/// As for [`ours`].
#[no_mangle]
pub unsafe extern "C" fn matrixmultiply(a: *const f32, b: *const f32, c: *mut f32, m: usize, k: usize, n: usize, bt: u32, reps: u32) {
    let (rsb, csb) = if bt == 1 { (1, k as isize) } else { (n as isize, 1) };
    for _ in 0..reps {
        matrixmultiply::sgemm(m, k, n, 1.0, a, k as isize, 1, b, rsb, csb, 0.0, c, n as isize, 1);
    }
}

/// The naive triple loop: C[i,j] = Σ_p A[i,p]·B[p,j] (or B[j,p]), i, j, p nested in that order.
///
/// # Safety
/// As for [`ours`].
#[no_mangle]
pub unsafe extern "C" fn naive(a: *const f32, b: *const f32, c: *mut f32, m: usize, k: usize, n: usize, bt: u32, reps: u32) {
    let (a, b, c) = (from_raw_parts(a, m * k), from_raw_parts(b, k * n), from_raw_parts_mut(c, m * n));
    for _ in 0..reps {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f32;
                for p in 0..k {
                    s += a[i * k + p] * if bt == 1 { b[j * k + p] } else { b[p * n + j] };
                }
                c[i * n + j] = s;
            }
        }
    }
}

/// `reps` times: x ← src, then softmax_rows(x) with our dispatched kernel.
///
/// # Safety
/// src and x point to rows·cols floats from `alloc_f32`.
#[no_mangle]
pub unsafe extern "C" fn softmax(src: *const f32, x: *mut f32, rows: usize, cols: usize, causal: u32, reps: u32) {
    let (src, x) = (from_raw_parts(src, rows * cols), from_raw_parts_mut(x, rows * cols));
    for _ in 0..reps {
        x.copy_from_slice(src);
        kernels::softmax_rows(x, rows, cols, causal == 1);
    }
}

/// `reps` times: x ← src (the copy inside [`softmax`], timed alone to subtract it).
///
/// # Safety
/// As for [`softmax`].
#[no_mangle]
pub unsafe extern "C" fn copy(src: *const f32, x: *mut f32, rows: usize, cols: usize, reps: u32) {
    let (src, x) = (from_raw_parts(src, rows * cols), from_raw_parts_mut(x, rows * cols));
    for _ in 0..reps {
        x.copy_from_slice(src);
        core::hint::black_box(&mut *x);
    }
}

/// A zeroed buffer of `n` bytes that lives until the module is dropped (quantised weights).
#[no_mangle]
pub extern "C" fn alloc_u8(n: usize) -> *mut u8 {
    Box::leak(vec![0u8; n].into_boxed_slice()).as_mut_ptr()
}

/// y (m×n) ← x (m×k) · Ŵᵀ with W (n×k) quantised (`format` 0 = Q8_0, 1 = Q4_0, 2 = Q4_1), by
/// `approach` 0 (dequantise in the kernel) or 1 (8-bit activations, integer dots), `reps` times.
///
/// # Safety
/// x, y point to m·k and m·n floats from `alloc_f32`, w to n rows of k quantised elements from
/// `alloc_u8`; k is a multiple of 32.
#[no_mangle]
pub unsafe extern "C" fn quant(x: *const f32, w: *const u8, y: *mut f32, m: usize, k: usize, n: usize, format: u32, approach: u32, reps: u32) {
    use kernels::quant::QuantFormat;
    let format = [QuantFormat::Q8_0, QuantFormat::Q4_0, QuantFormat::Q4_1][format as usize];
    let w = from_raw_parts(w, n * (k / 32) * format.block_bytes());
    let (x, y) = (from_raw_parts(x, m * k), from_raw_parts_mut(y, m * n));
    for _ in 0..reps {
        if approach == 0 {
            kernels::matmul_bt_dequant(x, w, format, y, m, k, n);
        } else {
            kernels::matmul_bt_q8(x, w, format, y, m, k, n);
        }
    }
}
