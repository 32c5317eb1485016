//! wasm simd128 twins of [`super::quant`]: the same signatures and contracts.
//!
//! Why they are shaped as they are:
//! - Both products walk x in groups of up to four rows and, for each row j of W and each block, decode
//!   the weight block once into registers and use it for every row of the group: decoding (nibble
//!   masks, widening, conversion) costs more than the multiply-adds it feeds, so four rows share it.
//!   A group of R < 4 rows (m mod 4, or m = 1 for one token) is its own monomorphised kernel, so it
//!   does R rows of work, not four. The format is a type parameter ([`Block`]): no branch on the
//!   format inside the loops.
//! - (a) [`matmul_bt_dequant`] with m ≥ 4 rows of x dequantises W [`STRIP`] rows at a time into an
//!   f32 buffer that stays in cache and hands it to the f32 kernel `simd128::matmul_bt` (4×8 tiles
//!   over a packed panel): each block is decoded once for all m rows, and the product runs at the
//!   f32 kernel's speed (measured 2× the fused kernel below at m = 32). That kernel sums p = 0..k in
//!   order for m ≥ 4, so these results are bit-identical to the spec. With m < 4 (one token, the
//!   unembedding) the buffer would cost as much as the product: a fused kernel decodes each block
//!   to eight f32x4 holding exactly the spec's ŵ (the same f32 multiply and add, unfused),
//!   multiplies them with eight vectors of each row of x and adds the eight products as a tree
//!   (depth 3) before one add into the row's accumulator: independent chains of one add per block,
//!   not eight dependent adds. Eight weight vectors and four accumulators fit V8's sixteen xmm
//!   registers on x64. Its lane partial sums differ from the spec by f32 summation error (exact on
//!   integer data).
//! - (b) [`matmul_bt_q8`] first quantises x (once per call) into 8-bit blocks stored as i16, four
//!   rows interleaved per block, so the inner loop widens nothing of x. A weight block is widened to
//!   four i16x8 (Q4: mask and shift the nibbles, widen u8 → i16; Q8_0: widen i8 → i16) and each row
//!   needs four `i32x4.dot_i16x8_s` (eight multiply-adds each, exact in i32) and three adds. The four
//!   rows' i32x4 sums are transposed and added into one i32x4 of the four rows' block sums, so the
//!   per-block scale step is one f32x4 multiply-add for four rows, lane r doing exactly the spec's
//!   f32 operations for row r in the spec's order: results are bit-identical to the scalar spec.
//!   (relaxed-simd's i8 dot would halve the widening but is not baseline wasm.)

use core::arch::wasm32::*;

use super::quant::{check_quant_matmul, f16_at, QuantFormat, BLOCK};

/// Rows of x per group.
const MR: usize = 4;

/// One block format, decoded into registers.
trait Block {
    const BYTES: usize;
    const HAS_MIN: bool;
    /// The 32 dequantised elements ŵ (spec values, exactly).
    unsafe fn decode_f32(block: *const u8) -> [v128; 8];
    /// The 32 integers q′ as four i16x8, and d, m (m = 0 unless Q4_1).
    unsafe fn decode_i16(block: *const u8) -> ([v128; 4], f32, f32);
}

struct Q8_0;
struct Q4_0;
struct Q4_1;

/// d at `block` (and m right after it).
#[inline(always)]
unsafe fn scales(block: *const u8, with_min: bool) -> (f32, f32) {
    let b = core::slice::from_raw_parts(block, 4);
    (f16_at(b, 0), if with_min { f16_at(b, 2) } else { 0.0 })
}

/// The 32 nibbles of 16 bytes at `qs` as two u8x16: elements 0..15 (low) and 16..31 (high).
#[inline(always)]
unsafe fn nibbles(qs: *const u8) -> (v128, v128) {
    let q = v128_load(qs as *const v128);
    (v128_and(q, u8x16_splat(0x0f)), u8x16_shr(q, 4))
}

/// Sixteen i8 lanes to four f32x4.
#[inline(always)]
fn i8_to_f32(v: v128) -> [v128; 4] {
    let (lo, hi) = (i16x8_extend_low_i8x16(v), i16x8_extend_high_i8x16(v));
    [
        f32x4_convert_i32x4(i32x4_extend_low_i16x8(lo)),
        f32x4_convert_i32x4(i32x4_extend_high_i16x8(lo)),
        f32x4_convert_i32x4(i32x4_extend_low_i16x8(hi)),
        f32x4_convert_i32x4(i32x4_extend_high_i16x8(hi)),
    ]
}

/// ŵ = d·q + m (or d·q when `m` is None) for eight f32x4 of q, with separate roundings.
#[inline(always)]
fn scale8(q: [v128; 8], d: f32, m: Option<f32>) -> [v128; 8] {
    let d = f32x4_splat(d);
    q.map(|q| match m {
        Some(m) => f32x4_add(f32x4_mul(d, q), f32x4_splat(m)),
        None => f32x4_mul(d, q),
    })
}

fn concat(a: [v128; 4], b: [v128; 4]) -> [v128; 8] {
    [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
}

impl Block for Q8_0 {
    const BYTES: usize = 34;
    const HAS_MIN: bool = false;
    #[inline(always)]
    unsafe fn decode_f32(block: *const u8) -> [v128; 8] {
        let (d, _) = scales(block, false);
        let (a, b) = (v128_load(block.add(2) as *const v128), v128_load(block.add(18) as *const v128));
        scale8(concat(i8_to_f32(a), i8_to_f32(b)), d, None)
    }
    #[inline(always)]
    unsafe fn decode_i16(block: *const u8) -> ([v128; 4], f32, f32) {
        let (d, _) = scales(block, false);
        let (a, b) = (v128_load(block.add(2) as *const v128), v128_load(block.add(18) as *const v128));
        let q = [i16x8_extend_low_i8x16(a), i16x8_extend_high_i8x16(a), i16x8_extend_low_i8x16(b), i16x8_extend_high_i8x16(b)];
        (q, d, 0.0)
    }
}

impl Block for Q4_0 {
    const BYTES: usize = 18;
    const HAS_MIN: bool = false;
    #[inline(always)]
    unsafe fn decode_f32(block: *const u8) -> [v128; 8] {
        let (d, _) = scales(block, false);
        let (lo, hi) = nibbles(block.add(2));
        let eight = i8x16_splat(8);
        scale8(concat(i8_to_f32(i8x16_sub(lo, eight)), i8_to_f32(i8x16_sub(hi, eight))), d, None)
    }
    #[inline(always)]
    unsafe fn decode_i16(block: *const u8) -> ([v128; 4], f32, f32) {
        let (d, _) = scales(block, false);
        let (lo, hi) = nibbles(block.add(2));
        let eight = i8x16_splat(8);
        let (lo, hi) = (i8x16_sub(lo, eight), i8x16_sub(hi, eight));
        let q = [i16x8_extend_low_i8x16(lo), i16x8_extend_high_i8x16(lo), i16x8_extend_low_i8x16(hi), i16x8_extend_high_i8x16(hi)];
        (q, d, 0.0)
    }
}

impl Block for Q4_1 {
    const BYTES: usize = 20;
    const HAS_MIN: bool = true;
    #[inline(always)]
    unsafe fn decode_f32(block: *const u8) -> [v128; 8] {
        let (d, m) = scales(block, true);
        let (lo, hi) = nibbles(block.add(4));
        // nibbles are 0..15: the signed widening of i8_to_f32 is exact for them
        scale8(concat(i8_to_f32(lo), i8_to_f32(hi)), d, Some(m))
    }
    #[inline(always)]
    unsafe fn decode_i16(block: *const u8) -> ([v128; 4], f32, f32) {
        let (d, m) = scales(block, true);
        let (lo, hi) = nibbles(block.add(4));
        let q = [u16x8_extend_low_u8x16(lo), u16x8_extend_high_u8x16(lo), u16x8_extend_low_u8x16(hi), u16x8_extend_high_u8x16(hi)];
        (q, d, m)
    }
}

/// Runs `$f::<Format>(…)` or `$f::<Format, R>(…)` for a runtime format.
macro_rules! by_format {
    ($format:expr, $f:ident($($arg:expr),*)) => {
        match $format {
            QuantFormat::Q8_0 => $f::<Q8_0>($($arg),*),
            QuantFormat::Q4_0 => $f::<Q4_0>($($arg),*),
            QuantFormat::Q4_1 => $f::<Q4_1>($($arg),*),
        }
    };
    ($format:expr, $f:ident::<$r:tt>($($arg:expr),*)) => {
        match $format {
            QuantFormat::Q8_0 => $f::<Q8_0, $r>($($arg),*),
            QuantFormat::Q4_0 => $f::<Q4_0, $r>($($arg),*),
            QuantFormat::Q4_1 => $f::<Q4_1, $r>($($arg),*),
        }
    };
}

/// Four vectors → one vector of their four horizontal sums [Σa, Σb, Σc, Σd] (i32 or f32 lanes via
/// `add`).
#[inline(always)]
fn transpose_sum(v: [v128; 4], add: impl Fn(v128, v128) -> v128) -> v128 {
    let ab = add(i32x4_shuffle::<0, 4, 1, 5>(v[0], v[1]), i32x4_shuffle::<2, 6, 3, 7>(v[0], v[1]));
    let cd = add(i32x4_shuffle::<0, 4, 1, 5>(v[2], v[3]), i32x4_shuffle::<2, 6, 3, 7>(v[2], v[3]));
    add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd))
}

/// Stores lanes 0..R of `v` to y at `y`, `y + n`, `y + 2n`, … (one output column of R rows).
#[inline(always)]
unsafe fn store_column<const R: usize>(v: v128, y: *mut f32, n: usize) {
    let mut lanes = [0.0f32; 4];
    v128_store(lanes.as_mut_ptr() as *mut v128, v);
    for (r, &lane) in lanes.iter().enumerate().take(R) {
        *y.add(r * n) = lane;
    }
}

/// dst (k) ← the dequantised row in `src`; see [`super::quant::dequantize_row`] (bit-identical).
pub fn dequantize_row(format: QuantFormat, src: &[u8], dst: &mut [f32]) {
    let k = dst.len();
    assert!(
        format.row_bytes(k) == Some(src.len()),
        "dequantize_row: expected a row of k = {k} elements (a multiple of {BLOCK}) in {} bytes of {}, found {} bytes",
        format.row_bytes(k).map_or("?".to_string(), |r| r.to_string()),
        format.name(),
        src.len()
    );
    // SAFETY: src holds k/32 blocks and dst k floats (checked above).
    unsafe { by_format!(format, dequantize_blocks(src.as_ptr(), dst.as_mut_ptr(), k / BLOCK)) }
}

unsafe fn dequantize_blocks<B: Block>(src: *const u8, dst: *mut f32, blocks: usize) {
    for b in 0..blocks {
        for (v, w) in B::decode_f32(src.add(b * B::BYTES)).into_iter().enumerate() {
            v128_store(dst.add(b * BLOCK + 4 * v) as *mut v128, w);
        }
    }
}

/// Rows of W dequantised at a time by [`matmul_bt_dequant`] for m ≥ [`MR`]: a strip of 32 rows of
/// k = 576 (1536) floats is 72 KB (192 KB), which stays in L2 while the f32 kernel reads it.
const STRIP: usize = 32;

/// Approach (a): y (m×n) ← x (m×k) · Ŵᵀ; see [`super::quant::matmul_bt_dequant`].
pub fn matmul_bt_dequant(x: &[f32], w: &[u8], format: QuantFormat, y: &mut [f32], m: usize, k: usize, n: usize) {
    check_quant_matmul("matmul_bt_dequant", format, x.len(), w.len(), y.len(), m, k, n);
    if m >= MR && k > 0 {
        return dequant_strips(x, w, format, y, m, k, n);
    }
    let (xp, wp, yp) = (x.as_ptr(), w.as_ptr(), y.as_mut_ptr());
    let mut i = 0;
    // SAFETY: the lengths are checked; each group reads rows i..i+R of x and writes the same rows of y.
    unsafe {
        while i + MR <= m {
            by_format!(format, dequant_group::<MR>(xp.add(i * k), wp, yp.add(i * n), k, n));
            i += MR;
        }
        let (xp, yp) = (xp.add(i * k), yp.add(i * n));
        match m - i {
            1 => by_format!(format, dequant_group::<1>(xp, wp, yp, k, n)),
            2 => by_format!(format, dequant_group::<2>(xp, wp, yp, k, n)),
            3 => by_format!(format, dequant_group::<3>(xp, wp, yp, k, n)),
            _ => {}
        }
    }
}

/// y ← x·Ŵᵀ for m ≥ 4: [`STRIP`] rows of W at a time are dequantised (once, for all m rows of x)
/// into an f32 buffer and multiplied by the f32 kernel [`super::simd128::matmul_bt`], which for
/// m ≥ 4 sums p = 0..k in order: bit-identical to the spec.
fn dequant_strips(x: &[f32], w: &[u8], format: QuantFormat, y: &mut [f32], m: usize, k: usize, n: usize) {
    let row_bytes = k / BLOCK * format.block_bytes();
    let mut strip = vec![0.0f32; STRIP.min(n) * k];
    let mut part = vec![0.0f32; m * STRIP.min(n)];
    for j0 in (0..n).step_by(STRIP) {
        let rows = STRIP.min(n - j0);
        let (strip, part) = (&mut strip[..rows * k], &mut part[..m * rows]);
        // the strip's blocks are contiguous: one "row" of rows·k elements
        dequantize_row(format, &w[j0 * row_bytes..(j0 + rows) * row_bytes], strip);
        super::simd128::matmul_bt(x, strip, part, m, k, rows);
        for (y_row, part_row) in y.chunks_exact_mut(n).zip(part.chunks_exact(rows)) {
            y_row[j0..j0 + rows].copy_from_slice(part_row);
        }
    }
}

/// R rows of y (at `y`, row stride n) from R rows of x (at `x`, row stride k) and all of W.
#[inline(always)]
unsafe fn dequant_group<B: Block, const R: usize>(x: *const f32, w: *const u8, y: *mut f32, k: usize, n: usize) {
    let blocks = k / BLOCK;
    for j in 0..n {
        let w_row = w.add(j * blocks * B::BYTES);
        let mut acc = [f32x4_splat(0.0); 4];
        for b in 0..blocks {
            let wv = B::decode_f32(w_row.add(b * B::BYTES));
            for (r, acc) in acc.iter_mut().enumerate().take(R) {
                let xr = x.add(r * k + b * BLOCK);
                let p = |v: usize| f32x4_mul(v128_load(xr.add(4 * v) as *const v128), wv[v]);
                let s = f32x4_add(
                    f32x4_add(f32x4_add(p(0), p(1)), f32x4_add(p(2), p(3))),
                    f32x4_add(f32x4_add(p(4), p(5)), f32x4_add(p(6), p(7))),
                );
                *acc = f32x4_add(*acc, s);
            }
        }
        store_column::<R>(transpose_sum(acc, |a, b| f32x4_add(a, b)), y.add(j), n);
    }
}

/// x quantised for approach (b): per group g of four rows (the last one zero-padded) and block b,
/// the 4·32 quantised values as i16 (row r at ((g·blocks + b)·4 + r)·32) and the four rows' dₓ and sₓ
/// (at (g·blocks + b)·4 + r).
struct Q8Rows {
    q: Vec<i16>,
    d: Vec<f32>,
    s: Vec<f32>,
}

/// Quantises x (m×k) block by block, as [`super::quant::quantize_block_q8`] does (bit-identical).
fn quantize_rows(x: &[f32], m: usize, k: usize) -> Q8Rows {
    let blocks = k / BLOCK;
    let groups = m.div_ceil(MR);
    let mut out =
        Q8Rows { q: vec![0; groups * blocks * MR * BLOCK], d: vec![0.0; groups * blocks * MR], s: vec![0.0; groups * blocks * MR] };
    for i in 0..m {
        for b in 0..blocks {
            let at = ((i / MR) * blocks + b) * MR + i % MR;
            let src = &x[i * k + b * BLOCK..i * k + (b + 1) * BLOCK];
            // SAFETY: src has 32 floats; out.q has 32 i16 at at·32.
            let (d, s) = unsafe { quantize_block(src.as_ptr(), out.q.as_mut_ptr().add(at * BLOCK)) };
            out.d[at] = d;
            out.s[at] = s;
        }
    }
    out
}

/// One block: writes the 32 q as i16 to `q` and returns (d, s).
#[inline(always)]
unsafe fn quantize_block(x: *const f32, q: *mut i16) -> (f32, f32) {
    let v: [v128; 8] = core::array::from_fn(|i| v128_load(x.add(4 * i) as *const v128));
    // f32x4.max propagates NaN, like the spec's fold
    let mut amax = v.iter().fold(f32x4_splat(0.0), |m, &v| f32x4_max(m, f32x4_abs(v)));
    amax = f32x4_max(amax, i32x4_shuffle::<2, 3, 0, 1>(amax, amax));
    amax = f32x4_max(amax, i32x4_shuffle::<1, 0, 3, 2>(amax, amax));
    let d = f32x4_extract_lane::<0>(amax) / 127.0;
    let id = f32x4_splat(if d == 0.0 { 0.0 } else { 1.0 / d });
    let (lo, hi) = (i32x4_splat(-127), i32x4_splat(127));
    let mut sum = i32x4_splat(0);
    for pair in 0..4 {
        let quant = |v: v128| i32x4_min(i32x4_max(i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v, id))), lo), hi);
        let (a, b) = (quant(v[2 * pair]), quant(v[2 * pair + 1]));
        sum = i32x4_add(sum, i32x4_add(a, b));
        v128_store(q.add(8 * pair) as *mut v128, i16x8_narrow_i32x4(a, b));
    }
    let sum = transpose_sum([sum, i32x4_splat(0), i32x4_splat(0), i32x4_splat(0)], |a, b| i32x4_add(a, b));
    (d, d * i32x4_extract_lane::<0>(sum) as f32)
}

/// Approach (b): y (m×n) ← x (m×k) · Ŵᵀ with x quantised to 8 bits; see
/// [`super::quant::matmul_bt_q8`] (bit-identical).
pub fn matmul_bt_q8(x: &[f32], w: &[u8], format: QuantFormat, y: &mut [f32], m: usize, k: usize, n: usize) {
    check_quant_matmul("matmul_bt_q8", format, x.len(), w.len(), y.len(), m, k, n);
    let xq = quantize_rows(x, m, k);
    let blocks = k / BLOCK;
    let (wp, yp) = (w.as_ptr(), y.as_mut_ptr());
    // SAFETY: the lengths are checked; group g reads its own part of xq and writes rows 4g.. of y.
    unsafe {
        for g in 0..m.div_ceil(MR) {
            let at = g * blocks * MR;
            let (q, d, s) = (xq.q.as_ptr().add(at * BLOCK), xq.d.as_ptr().add(at), xq.s.as_ptr().add(at));
            let yg = yp.add(g * MR * n);
            match (m - g * MR).min(MR) {
                1 => by_format!(format, q8_group::<1>(q, d, s, wp, yg, blocks, n)),
                2 => by_format!(format, q8_group::<2>(q, d, s, wp, yg, blocks, n)),
                3 => by_format!(format, q8_group::<3>(q, d, s, wp, yg, blocks, n)),
                _ => by_format!(format, q8_group::<MR>(q, d, s, wp, yg, blocks, n)),
            }
        }
    }
}

/// R rows of y (at `y`, row stride n) from one group of quantised rows (q, d, s as in [`Q8Rows`])
/// and all of W.
#[inline(always)]
unsafe fn q8_group<B: Block, const R: usize>(
    q: *const i16,
    d: *const f32,
    s: *const f32,
    w: *const u8,
    y: *mut f32,
    blocks: usize,
    n: usize,
) {
    for j in 0..n {
        let w_row = w.add(j * blocks * B::BYTES);
        let mut acc = f32x4_splat(0.0);
        for b in 0..blocks {
            let (wq, dw, mw) = B::decode_i16(w_row.add(b * B::BYTES));
            let mut sums = [i32x4_splat(0); 4];
            for (r, sum) in sums.iter_mut().enumerate().take(R) {
                let xr = q.add((b * MR + r) * BLOCK);
                let p = |v: usize| i32x4_dot_i16x8(v128_load(xr.add(8 * v) as *const v128), wq[v]);
                *sum = i32x4_add(i32x4_add(p(0), p(1)), i32x4_add(p(2), p(3)));
            }
            let sum = f32x4_convert_i32x4(transpose_sum(sums, |a, b| i32x4_add(a, b)));
            let dx = v128_load(d.add(b * MR) as *const v128);
            acc = f32x4_add(acc, f32x4_mul(sum, f32x4_mul(dx, f32x4_splat(dw))));
            if B::HAS_MIN {
                acc = f32x4_add(acc, f32x4_mul(f32x4_splat(mw), v128_load(s.add(b * MR) as *const v128)));
            }
        }
        store_column::<R>(acc, y.add(j), n);
    }
}
