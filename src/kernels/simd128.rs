//! wasm simd128 kernels: the signatures and contracts of [`super::scalar`], four f32 lanes at a time.
//!
//! Why they are shaped as they are:
//! - `matmul` computes C in 4×8 tiles held in eight f32x4 accumulators. Per step p it loads two
//!   vectors from row p of B, broadcasts four elements of column p of A (`v128.load32_splat`) and
//!   does eight multiply-adds. Eight accumulators, two B vectors and a broadcast fit V8's sixteen
//!   xmm registers on x64 (an 8×8 tile needs sixteen accumulators and spills). For tall A and wide
//!   B each 8-column strip of B is first copied into a contiguous (k×8) panel, zero-padded past n
//!   (see [`PACK_FROM_ROWS`] for when and why); otherwise B is read in place, leftover columns by a
//!   4-wide tile shifted left to overlap the previous one (the overlap recomputes identical
//!   values), and plain loops only when n < 4. Leftover rows use 1–3-row tiles. Every lane sums
//!   p = 0, 1, …, k−1 in order, exactly as the scalar spec does, so results are bit-identical to it.
//! - `matmul_bt` (C = A·Bᵀ) copies Bᵀ eight columns at a time into a zero-padded (k×8) panel
//!   (transposing 4×4 blocks in registers) and runs the same tiles over it, so it too sums in the
//!   spec's order. With fewer than four rows of A (the unembedding: one vector against the
//!   vocabulary) the copy would cost as much as the product, so it takes four dot products at once
//!   (lane partial sums: within f32 summation error of the spec, exact on integer data).
//! - Short tails avoid memory.copy and memory.fill (V8 compiles both to calls) and multiplies that
//!   underflow (each costs a ~100-cycle microcode assist on x64): see `map4`, `zero`, `exp_plus`.
//! - `softmax_rows`: vector max, then the vectorised [`exp`] of x − max with the sum in f64, then
//!   one multiply by 1/sum. x − max is taken exactly (TwoSum), so large spreads cost no accuracy.
//! - `layer_norm`, `gelu`: the same formulas as the spec, vectorised.

use core::arch::wasm32::*;

use super::scalar::softmax_degenerate;
use super::{check_layer_norm, check_matmul, check_rms_norm, check_rows, check_same, check_terms};

/// Rows of C per tile.
const MR: usize = 4;

/// acc[r][v] = Σ_{p<k} A[r,p] · B[p, 4v..4v+4], A at `a` with row stride `lda`, B at `b` with row
/// stride `ldb`, summed in order p = 0..k.
///
/// # Safety
/// A must be readable at rows < R, columns < k; B at rows < k, columns < 4V.
#[inline(always)]
unsafe fn tile<const R: usize, const V: usize>(a: *const f32, lda: usize, b: *const f32, ldb: usize, k: usize) -> [[v128; V]; R] {
    let mut acc = [[f32x4_splat(0.0); V]; R];
    let mut b_row = b;
    for p in 0..k {
        let mut bv = [f32x4_splat(0.0); V];
        for (v, bv) in bv.iter_mut().enumerate() {
            *bv = v128_load(b_row.add(4 * v) as *const v128);
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let a_rp = v128_load32_splat(a.add(r * lda + p) as *const u32);
            for v in 0..V {
                acc[v] = f32x4_add(acc[v], f32x4_mul(a_rp, bv[v]));
            }
        }
        b_row = b_row.add(ldb);
    }
    acc
}

/// Writes the first `w` columns of an R×4V tile to C at `c` (row stride `ldc`).
///
/// # Safety
/// C must be writable at rows < R, columns < w; V ≤ 2, w ≤ 4V.
#[inline(always)]
unsafe fn store<const R: usize, const V: usize>(acc: [[v128; V]; R], c: *mut f32, ldc: usize, w: usize) {
    for (r, acc) in acc.iter().enumerate() {
        let row = c.add(r * ldc);
        if w == 4 * V {
            for (v, &acc) in acc.iter().enumerate() {
                v128_store(row.add(4 * v) as *mut v128, acc);
            }
        } else {
            let mut lanes = [0.0f32; 8];
            for (v, &acc) in acc.iter().enumerate() {
                v128_store(lanes.as_mut_ptr().add(4 * v) as *mut v128, acc);
            }
            // element stores, not a copy: V8 turns memory.copy into a call, costly for ≤ 7 floats
            for (q, &lane) in lanes.iter().enumerate().take(w) {
                row.add(q).write_volatile(lane);
            }
        }
    }
}

/// One strip of C: columns [0, w) at `c` (row stride `ldc`), all m rows, from A (m×k, row stride k)
/// and the k×4V block of B at `b` (row stride `ldb`).
///
/// # Safety
/// As for [`tile`] with R = m, and C writable at rows < m, columns < w.
#[allow(clippy::too_many_arguments)]
unsafe fn strip<const V: usize>(a: *const f32, m: usize, k: usize, b: *const f32, ldb: usize, c: *mut f32, ldc: usize, w: usize) {
    let mut i = 0;
    while i + MR <= m {
        store::<MR, V>(tile::<MR, V>(a.add(i * k), k, b, ldb, k), c.add(i * ldc), ldc, w);
        i += MR;
    }
    let (a, c) = (a.add(i * k), c.add(i * ldc));
    match m - i {
        1 => store::<1, V>(tile::<1, V>(a, k, b, ldb, k), c, ldc, w),
        2 => store::<2, V>(tile::<2, V>(a, k, b, ldb, k), c, ldc, w),
        3 => store::<3, V>(tile::<3, V>(a, k, b, ldb, k), c, ldc, w),
        _ => {}
    }
}

/// C (m×n) ← A (m×k) · B (k×n); see [`super::scalar::matmul`].
pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul("matmul", a.len(), b.len(), c.len(), m, k, n);
    if m < PACK_FROM_ROWS || n < PACK_FROM_COLS {
        return matmul_in_place(a, b, c, m, k, n);
    }
    // panel (k×8): panel[p·8 + q] = B[p, j + q], zero for columns past n
    gemm_panels(a, c, m, k, n, |panel, j, w| {
        for (p, dst) in panel.chunks_exact_mut(8).enumerate() {
            let src = &b[p * n + j..p * n + j + w];
            if w == 8 {
                dst.copy_from_slice(src); // a fixed 32 bytes: two vector moves
            } else {
                for (q, d) in dst.iter_mut().enumerate() {
                    *d = src.get(q).copied().unwrap_or(0.0);
                }
            }
        }
    });
}

/// From PACK_FROM_ROWS rows of A and PACK_FROM_COLS columns of B on, `matmul` copies each
/// 8-column strip of B into a contiguous panel first, which is then read once per 4-row tile from
/// consecutive addresses. Read in place, the strip strides by a whole row of B per step; from
/// n = 256 on (1 KB rows) those addresses fall into few L1 cache sets and evict each other. With
/// fewer rows there is too little reuse to pay for the copy, and with narrower B the copy measured
/// slightly slower than reading in place (T×T·Dh, T×Dh·D at T = 64).
const PACK_FROM_ROWS: usize = 8;
const PACK_FROM_COLS: usize = 256;

/// C ← A·B reading B in place (few rows of A).
fn matmul_in_place(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    let (ap, bp, cp) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    let mut j = 0;
    // SAFETY: the caller checked the lengths. Each strip reads rows < m of A, columns
    // [j, j + 4V) ⊆ [0, n) of rows < k of B, and writes the same columns of C.
    unsafe {
        while j + 8 <= n {
            strip::<2>(ap, m, k, bp.add(j), n, cp.add(j), n, 8);
            j += 8;
        }
        if j + 4 <= n {
            strip::<1>(ap, m, k, bp.add(j), n, cp.add(j), n, 4);
            j += 4;
        }
        if j < n && n >= 4 {
            // columns [n−4, n): overlaps columns already written, with identical values
            strip::<1>(ap, m, k, bp.add(n - 4), n, cp.add(n - 4), n, 4);
            j = n;
        }
    }
    for i in 0..m {
        for jj in j..n {
            let mut s = 0.0f32;
            for p in 0..k {
                s += a[i * k + p] * b[p * n + jj];
            }
            c[i * n + jj] = s;
        }
    }
}

/// C (m×n) ← A (m×k) · B, one 8-column strip at a time: `pack(panel, j, w)` fills the (k×8) panel
/// with columns [j, j + w) of B, zero-padded to 8, and the tiles run over the panel.
fn gemm_panels(a: &[f32], c: &mut [f32], m: usize, k: usize, n: usize, mut pack: impl FnMut(&mut [f32], usize, usize)) {
    debug_assert!(a.len() == m * k && c.len() == m * n);
    let mut panel = vec![0.0f32; k * 8];
    for j in (0..n).step_by(8) {
        let w = (n - j).min(8);
        pack(&mut panel, j, w);
        // SAFETY: the panel holds k rows of 8 floats; the strip reads the m rows of A and writes
        // columns [j, j + w) ⊆ [0, n) of the m rows of C.
        unsafe {
            if w <= 4 {
                strip::<1>(a.as_ptr(), m, k, panel.as_ptr(), 8, c.as_mut_ptr().add(j), n, w);
            } else {
                strip::<2>(a.as_ptr(), m, k, panel.as_ptr(), 8, c.as_mut_ptr().add(j), n, w);
            }
        }
    }
}

/// C (m×n) ← A (m×k) · Bᵀ with B stored (n×k); see [`super::scalar::matmul_bt`].
pub fn matmul_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    check_matmul("matmul_bt", a.len(), b.len(), c.len(), m, k, n);
    if m < MR {
        return dot_rows(a, b, c, m, k, n);
    }
    gemm_panels(a, c, m, k, n, |panel, j, w| pack_transposed(panel, b, k, j, w));
}

/// panel (k×8) ← columns [j, j + w) of Bᵀ, zero-padded: panel[p·8 + q] = B[j + q, p] (B is n×k).
/// Four rows of B are read four floats at a time and transposed in registers (4×4 blocks).
fn pack_transposed(panel: &mut [f32], b: &[f32], k: usize, j: usize, w: usize) {
    debug_assert!(panel.len() == k * 8 && b.len() >= (j + w) * k);
    let k4 = k & !3;
    for q0 in [0, 4] {
        let row = |i: usize| (q0 + i < w).then(|| &b[(j + q0 + i) * k..(j + q0 + i + 1) * k]);
        let rows = [row(0), row(1), row(2), row(3)];
        for p in (0..k4).step_by(4) {
            // SAFETY: p + 4 ≤ k4 ≤ k = the length of every row.
            let load = |r: Option<&[f32]>| r.map_or(f32x4_splat(0.0), |r| unsafe { v128_load(r.as_ptr().add(p) as *const v128) });
            let (r0, r1, r2, r3) = (load(rows[0]), load(rows[1]), load(rows[2]), load(rows[3]));
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1);
            let t1 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1);
            let t2 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3);
            let columns = [
                i32x4_shuffle::<0, 1, 4, 5>(t0, t2),
                i32x4_shuffle::<2, 3, 6, 7>(t0, t2),
                i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
                i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
            ];
            for (i, &col) in columns.iter().enumerate() {
                let dst = &mut panel[(p + i) * 8 + q0..(p + i) * 8 + q0 + 4];
                // SAFETY: dst holds four floats.
                unsafe { v128_store(dst.as_mut_ptr() as *mut v128, col) };
            }
        }
        for p in k4..k {
            for (i, r) in rows.iter().enumerate() {
                panel[p * 8 + q0 + i] = r.map_or(0.0, |r| r[p]);
            }
        }
    }
}

/// matmul_bt for few rows: each output is a dot product of a row of A and a row of B, four at once.
fn dot_rows(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    if k == 0 {
        c.fill(0.0);
        return;
    }
    for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n.max(1))).take(m) {
        for (j, out) in (0..n).step_by(4).zip(c_row.chunks_mut(4)) {
            // rows j..j+4 of B; past n, the last row again (its result is not stored)
            let row = |q: usize| {
                let r = (j + q).min(n - 1);
                &b[r * k..(r + 1) * k]
            };
            let sums = dot4(a_row, [row(0), row(1), row(2), row(3)]);
            if out.len() == 4 {
                out.copy_from_slice(&sums); // a fixed 16 bytes: one vector move
            } else {
                for (o, &s) in out.iter_mut().zip(&sums) {
                    // SAFETY: o is a valid &mut f32; volatile keeps this loop from becoming a
                    // memory.copy, which V8 compiles to a call.
                    unsafe { (o as *mut f32).write_volatile(s) };
                }
            }
        }
    }
}

/// [a·b₀, a·b₁, a·b₂, a·b₃] for slices of equal length.
#[inline(always)]
fn dot4(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    let k = a.len();
    debug_assert!(b.iter().all(|r| r.len() == k));
    let k4 = k & !3;
    let mut s = [f32x4_splat(0.0); 4];
    let mut p = 0;
    while p < k4 {
        // SAFETY: p + 4 ≤ k4 ≤ k = the length of a and of every b[q].
        unsafe {
            let av = v128_load(a.as_ptr().add(p) as *const v128);
            for q in 0..4 {
                s[q] = f32x4_add(s[q], f32x4_mul(av, v128_load(b[q].as_ptr().add(p) as *const v128)));
            }
        }
        p += 4;
    }
    let mut out = [0.0f32; 4];
    // SAFETY: out holds four floats.
    unsafe { v128_store(out.as_mut_ptr() as *mut v128, reduce4(s)) };
    for p in k4..k {
        for q in 0..4 {
            out[q] += a[p] * b[q][p];
        }
    }
    out
}

/// [Σ lanes of s₀, Σ s₁, Σ s₂, Σ s₃]: a 4×4 transpose folded into three adds.
#[inline(always)]
fn reduce4(s: [v128; 4]) -> v128 {
    let u = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(s[0], s[1]), i32x4_shuffle::<2, 6, 3, 7>(s[0], s[1]));
    let w = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(s[2], s[3]), i32x4_shuffle::<2, 6, 3, 7>(s[2], s[3]));
    f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(u, w), i32x4_shuffle::<2, 3, 6, 7>(u, w))
}

/// Horizontal sum of four lanes.
#[inline(always)]
fn hsum(v: v128) -> f32 {
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
}

/// The largest relative error of [`exp`] against the exact eˣ, for normal results: 2⁻²³ (one ulp at
/// 1). A sweep of 39 million points over [−104, 88.8] measured at most 8.1e-8; tests/kernels.rs
/// asserts this bound over a sweep of 2.1 million. Subnormal results are within one step of the
/// subnormal grid (2⁻¹⁴⁹) instead.
pub const EXP_MAX_REL_ERR: f32 = 1.2e-7;

/// The constants of [`exp`], splatted once per call site rather than once per use. LLVM emits a
/// `v128.const` at every use and V8 materialises each one with several instructions inside the
/// loop; passing them through `black_box` makes them ordinary values that stay in registers.
#[derive(Clone, Copy)]
struct ExpConsts {
    lo: v128,
    hi: v128,
    log2e: v128,
    round: v128,
    round_bits: v128,
    ln2_hi: v128,
    ln2_lo: v128,
    minus_one: v128,
    one: v128,
    bias: v128,
    poly: [v128; 6],
}

impl ExpConsts {
    #[inline(always)]
    #[allow(clippy::excessive_precision)] // the Cephes expf coefficients, as published
    fn new() -> ExpConsts {
        const ROUND: f32 = 12_582_912.0; // 1.5·2²³: adding it rounds to an integer kept in the low bits
        core::hint::black_box(ExpConsts {
            // outside [−104, 88.8] eˣ rounds to 0 or +∞
            lo: f32x4_splat(-104.0),
            hi: f32x4_splat(88.8),
            log2e: f32x4_splat(core::f32::consts::LOG2_E),
            round: f32x4_splat(ROUND),
            round_bits: i32x4_splat(ROUND.to_bits() as i32),
            ln2_hi: f32x4_splat(0.693_359_375),   // 355/512, exact in 9 bits, so n·ln2_hi is exact
            ln2_lo: f32x4_splat(-2.121_944_4e-4), // ln 2 − ln2_hi
            minus_one: f32x4_splat(-1.0),
            one: f32x4_splat(1.0),
            bias: i32x4_splat(127),
            poly: [
                f32x4_splat(1.987_569_150_0e-4),
                f32x4_splat(1.398_199_950_7e-3),
                f32x4_splat(8.333_451_907_3e-3),
                f32x4_splat(4.166_579_589_4e-2),
                f32x4_splat(1.666_666_545_9e-1),
                f32x4_splat(5.000_000_120_1e-1),
            ],
        })
    }
}

/// eˣ on four lanes: Cody–Waite range reduction x = n·ln 2 + r with |r| ≤ ln 2 / 2, the Cephes
/// degree-7 polynomial for eʳ, and the scale 2ⁿ applied as two exact powers of two so that results
/// down to the smallest subnormal and up to `f32::MAX` are right. Below −104 the result is 0, above
/// 88.8 +∞ (eˣ rounds to those there); NaN stays NaN. Relative error ≤
/// [`EXP_MAX_REL_ERR`] for normal results.
#[inline(always)]
pub fn exp(x: v128) -> v128 {
    exp_plus(x, f32x4_splat(0.0), &ExpConsts::new())
}

/// e^(x + tail) for a tiny correction `tail` (|tail| ≤ ulp(x), or NaN to mean 0 where x is not
/// finite): the exact difference x − m of softmax is d + tail.
#[inline(always)]
fn exp_plus(x: v128, tail: v128, k: &ExpConsts) -> v128 {
    // Below −104 the result is 0. Those lanes (−∞ padding, masked scores) are set to 0 and computed
    // from x = 0 instead: the scaling below would underflow there, and on x64 every underflowing
    // multiply takes a microcode assist of ~100 cycles. pmin(x, hi) = hi < x ? hi : x keeps NaN.
    let zero = f32x4_lt(x, k.lo);
    let x = f32x4_pmin(v128_andnot(x, zero), k.hi);
    // n = round(x·log₂e), as a float and as an integer
    let t = f32x4_add(f32x4_mul(x, k.log2e), k.round);
    let n = f32x4_sub(t, k.round);
    let ni = i32x4_sub(t, k.round_bits);
    // r = x − n·ln 2 (+ tail); pmax(−1, tail) = −1 < tail ? tail : −1 turns a NaN tail into −1,
    // which only happens where x was ±∞ or NaN and the result is 0, +∞ or NaN regardless.
    let r = f32x4_sub(f32x4_sub(x, f32x4_mul(n, k.ln2_hi)), f32x4_mul(n, k.ln2_lo));
    let r = f32x4_add(r, f32x4_pmax(k.minus_one, tail));
    // eʳ ≈ 1 + r + r²·P(r)
    let mut p = k.poly[0];
    for &c in &k.poly[1..] {
        p = f32x4_add(f32x4_mul(p, r), c);
    }
    let y = f32x4_add(f32x4_add(f32x4_mul(p, f32x4_mul(r, r)), r), k.one);
    // y·2ⁿ = y·2^(n>>1)·2^(n−(n>>1)): both factors are normal for n ∈ [−150, 128]
    let n1 = i32x4_shr(ni, 1);
    let n2 = i32x4_sub(ni, n1);
    let s1 = i32x4_shl(i32x4_add(n1, k.bias), 23);
    let s2 = i32x4_shl(i32x4_add(n2, k.bias), 23);
    v128_andnot(f32x4_mul(f32x4_mul(y, s1), s2), zero)
}

/// x ← eˣ elementwise with [`exp`] (for tests and the benchmark).
pub fn exp_in_place(x: &mut [f32]) {
    let k = ExpConsts::new();
    map4(x, 0.0, |v| exp_plus(v, f32x4_splat(0.0), &k));
}

/// Applies `f` to x four lanes at a time; the last partial group is padded with `pad`.
#[inline(always)]
fn map4(x: &mut [f32], pad: f32, mut f: impl FnMut(v128) -> v128) {
    let mut chunks = x.chunks_exact_mut(4);
    for chunk in &mut chunks {
        // SAFETY: the chunk holds four floats.
        unsafe { v128_store(chunk.as_mut_ptr() as *mut v128, f(v128_load(chunk.as_ptr() as *const v128))) };
    }
    // the last 1–3 floats, element by element: a copy through a stack array would be a
    // memory.copy, which V8 compiles to a call
    let rest = chunks.into_remainder();
    let n = rest.len();
    if n > 0 {
        let at = |i: usize| if i < n { rest[i] } else { pad };
        let v = f(f32x4(at(0), at(1), at(2), at(3)));
        rest[0] = f32x4_extract_lane::<0>(v);
        if n > 1 {
            rest[1] = f32x4_extract_lane::<1>(v);
        }
        if n > 2 {
            rest[2] = f32x4_extract_lane::<2>(v);
        }
    }
}

/// x ← 0 with vector stores (volatile, so LLVM does not turn the loop into a memory.fill, which
/// V8 compiles to a call: too slow for the short masked tails of causal rows).
fn zero(x: &mut [f32]) {
    let mut chunks = x.chunks_exact_mut(4);
    for chunk in &mut chunks {
        // SAFETY: the chunk holds four floats (4-aligned, as [f32; 4] needs).
        unsafe { (chunk.as_mut_ptr() as *mut [f32; 4]).write_volatile([0.0; 4]) };
    }
    for v in chunks.into_remainder() {
        // SAFETY: v is a valid &mut f32.
        unsafe { (v as *mut f32).write_volatile(0.0) };
    }
}

/// Row-wise softmax in place; see [`super::scalar::softmax_rows`] for the contract.
pub fn softmax_rows(x: &mut [f32], rows: usize, cols: usize, causal: bool) {
    check_rows("softmax_rows", x.len(), rows, cols);
    let k = ExpConsts::new();
    live_rows(x, rows, cols, causal, |_, row| {
        softmax_row(row, &k);
    });
}

/// Calls f(i, live part of row i) for each row, the masked part (with `causal`) zeroed first.
fn live_rows(x: &mut [f32], rows: usize, cols: usize, causal: bool, mut f: impl FnMut(usize, &mut [f32])) {
    for (i, row) in x.chunks_exact_mut(cols.max(1)).take(rows).enumerate() {
        let live = if causal { (i + 1).min(cols) } else { cols };
        let (row, masked) = row.split_at_mut(live);
        zero(masked);
        f(i, row);
    }
}

/// [`softmax_rows`], also writing each row's max and Σ exp(x − max) as this kernel used them; see
/// [`super::softmax_rows_terms`].
pub fn softmax_rows_terms(x: &mut [f32], rows: usize, cols: usize, causal: bool, max: &mut [f32], sum: &mut [f32]) {
    check_rows("softmax_rows_terms", x.len(), rows, cols);
    check_terms(max.len(), sum.len(), rows);
    // rows of no columns are empty rows: max −∞, Σ NaN, as for any row with nothing to attend to
    max.fill(f32::NEG_INFINITY);
    sum.fill(f32::NAN);
    let k = ExpConsts::new();
    live_rows(x, rows, cols, causal, |i, row| (max[i], sum[i]) = softmax_row(row, &k));
}

/// Softmax of one row (all entries live); returns (max, Σ exp(x − max)), Σ NaN if max is not finite.
fn softmax_row(x: &mut [f32], k: &ExpConsts) -> (f32, f32) {
    // max, ignoring NaN: pmax(m, v) = m < v ? v : m keeps m when v is NaN
    let mut mv = f32x4_splat(f32::NEG_INFINITY);
    let mut chunks = x.chunks_exact(4);
    for chunk in &mut chunks {
        // SAFETY: the chunk holds four floats.
        mv = f32x4_pmax(mv, unsafe { v128_load(chunk.as_ptr() as *const v128) });
    }
    let lanes = [f32x4_extract_lane::<0>(mv), f32x4_extract_lane::<1>(mv), f32x4_extract_lane::<2>(mv), f32x4_extract_lane::<3>(mv)];
    let max = lanes.iter().chain(chunks.remainder()).fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    if !max.is_finite() {
        softmax_degenerate(x, max);
        return (max, f32::NAN);
    }

    // e = exp(x − max), with x − max = d + err exactly (TwoSum); the sum in f64. The padding lanes
    // of a partial group are −∞, whose exp is exactly 0. A NaN entry makes e and the sum NaN.
    let neg_max = f32x4_splat(-max);
    let (mut s0, mut s1) = (f64x2_splat(0.0), f64x2_splat(0.0));
    map4(x, f32::NEG_INFINITY, |v| {
        let d = f32x4_add(v, neg_max);
        let bb = f32x4_sub(d, v);
        let err = f32x4_add(f32x4_sub(v, f32x4_sub(d, bb)), f32x4_sub(neg_max, bb));
        let e = exp_plus(d, err, k);
        s0 = f64x2_add(s0, f64x2_promote_low_f32x4(e));
        s1 = f64x2_add(s1, f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(e, e)));
        e
    });
    let sum = f64x2_add(s0, s1);
    let sum = f64x2_extract_lane::<0>(sum) + f64x2_extract_lane::<1>(sum);
    let inv = f32x4_splat((1.0 / sum) as f32);
    map4(x, 0.0, |e| f32x4_mul(e, inv));
    (max, sum as f32)
}

/// out ← LayerNorm(x) row by row; see [`super::scalar::layer_norm`].
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], out: &mut [f32], rows: usize, cols: usize, eps: f32) {
    check_layer_norm(x.len(), gamma.len(), beta.len(), out.len(), rows, cols);
    if cols == 0 {
        return;
    }
    let c4 = cols & !3;
    let load = |s: &[f32], j: usize| {
        // SAFETY: callers pass j + 4 ≤ c4 ≤ cols ≤ s.len().
        unsafe { v128_load(s.as_ptr().add(j) as *const v128) }
    };
    for (r, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        // mean, then the biased variance around it (two passes)
        let mut acc = f32x4_splat(0.0);
        for j in (0..c4).step_by(4) {
            acc = f32x4_add(acc, load(r, j));
        }
        let mean = (hsum(acc) + r[c4..].iter().sum::<f32>()) / cols as f32;
        let mv = f32x4_splat(mean);
        let mut acc = f32x4_splat(0.0);
        for j in (0..c4).step_by(4) {
            let dv = f32x4_sub(load(r, j), mv);
            acc = f32x4_add(acc, f32x4_mul(dv, dv));
        }
        let var = (hsum(acc) + r[c4..].iter().map(|v| (v - mean) * (v - mean)).sum::<f32>()) / cols as f32;
        let inv = 1.0 / (var + eps).sqrt();
        let iv = f32x4_splat(inv);
        for j in (0..c4).step_by(4) {
            let y = f32x4_add(f32x4_mul(f32x4_mul(f32x4_sub(load(r, j), mv), iv), load(gamma, j)), load(beta, j));
            // SAFETY: j + 4 ≤ c4 ≤ cols = o.len().
            unsafe { v128_store(o.as_mut_ptr().add(j) as *mut v128, y) };
        }
        for j in c4..cols {
            o[j] = (r[j] - mean) * inv * gamma[j] + beta[j];
        }
    }
}

/// x ← gelu_tanh(x), computed as x / (1 + e^(−2z)), z = √(2/π)·(x + 0.044715·x³): the same
/// function, since ½(1 + tanh z) = 1 / (1 + e^(−2z)), without tanh's cancellation for x < 0.
pub fn gelu(x: &mut [f32]) {
    const MINUS_2C: f32 = -2.0 * 0.797_884_6; // −2·√(2/π)
    let k = ExpConsts::new();
    let (cubic, minus_2c) = core::hint::black_box((f32x4_splat(0.044715), f32x4_splat(MINUS_2C)));
    map4(x, 0.0, |u| {
        let inner = f32x4_add(f32x4_mul(f32x4_mul(f32x4_mul(u, u), u), cubic), u);
        let e = exp_plus(f32x4_mul(inner, minus_2c), f32x4_splat(0.0), &k);
        f32x4_div(u, f32x4_add(k.one, e))
    });
}

/// out ← RMSNorm(x) row by row; see [`super::scalar::rms_norm`].
pub fn rms_norm(x: &[f32], gamma: &[f32], out: &mut [f32], rows: usize, cols: usize, eps: f32) {
    check_rms_norm(x.len(), gamma.len(), out.len(), rows, cols);
    if cols == 0 {
        return;
    }
    let c4 = cols & !3;
    let load = |s: &[f32], j: usize| {
        // SAFETY: callers pass j + 4 ≤ c4 ≤ cols ≤ s.len().
        unsafe { v128_load(s.as_ptr().add(j) as *const v128) }
    };
    for (r, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let mut acc = f32x4_splat(0.0);
        for j in (0..c4).step_by(4) {
            let v = load(r, j);
            acc = f32x4_add(acc, f32x4_mul(v, v));
        }
        let ms = (hsum(acc) + r[c4..].iter().map(|v| v * v).sum::<f32>()) / cols as f32;
        let inv = 1.0 / (ms + eps).sqrt();
        let iv = f32x4_splat(inv);
        for j in (0..c4).step_by(4) {
            let y = f32x4_mul(f32x4_mul(load(r, j), iv), load(gamma, j));
            // SAFETY: j + 4 ≤ c4 ≤ cols = o.len().
            unsafe { v128_store(o.as_mut_ptr().add(j) as *mut v128, y) };
        }
        for j in c4..cols {
            o[j] = r[j] * inv * gamma[j];
        }
    }
}

/// gate ← silu(gate) ⊙ up with [`exp`]; see [`super::scalar::swiglu`]. For g < −88.8, e^(−g) is +∞
/// and the result −0 (silu's true value there is below 1e-36); for g > 104 it is 0 and silu(g) = g.
pub fn swiglu(gate: &mut [f32], up: &[f32]) {
    check_same("swiglu", gate.len(), up.len());
    let k = ExpConsts::new();
    let minus = f32x4_splat(-1.0);
    let n4 = gate.len() & !3;
    let (head, tail) = gate.split_at_mut(n4);
    for (g4, u4) in head.chunks_exact_mut(4).zip(up.chunks_exact(4)) {
        // SAFETY: both chunks hold four floats.
        unsafe {
            let g = v128_load(g4.as_ptr() as *const v128);
            let u = v128_load(u4.as_ptr() as *const v128);
            let e = exp_plus(f32x4_mul(g, minus), f32x4_splat(0.0), &k);
            v128_store(g4.as_mut_ptr() as *mut v128, f32x4_mul(f32x4_div(g, f32x4_add(k.one, e)), u));
        }
    }
    for (g, &u) in tail.iter_mut().zip(&up[n4..]) {
        let e = f32x4_extract_lane::<0>(exp_plus(f32x4_splat(-*g), f32x4_splat(0.0), &k));
        *g = *g / (1.0 + e) * u;
    }
}
