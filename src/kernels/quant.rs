//! Quantised weights in GGUF's block formats, and y ← x·Wᵀ with W quantised: the scalar spec.
//!
//! A quantised matrix W (n×k) is stored as GGUF stores it: row by row, each row of k elements as
//! k/32 blocks of [`BLOCK`] = 32 consecutive elements (k must be a multiple of 32). A block holds an
//! f16 scale d (and for Q4_1 an f16 offset m) and 32 small integers q, and stands for
//!
//! | format | bytes | layout (as in ggml)            | element t of the block            |
//! |--------|-------|--------------------------------|-----------------------------------|
//! | Q8_0   | 34    | d: f16, qs: [i8; 32]           | ŵ_t = d·qs[t]                     |
//! | Q4_0   | 18    | d: f16, qs: [u8; 16] (nibbles) | ŵ_t = d·(q_t − 8)                 |
//! | Q4_1   | 20    | d: f16, m: f16, qs: [u8; 16]   | ŵ_t = d·q_t + m                   |
//!
//! with the nibbles q_t = qs[t] & 0xF for t < 16 and q_t = qs[t − 16] >> 4 for t ≥ 16 (low nibbles are
//! elements 0..15, high nibbles 16..31). Every product and sum above is one f32 operation, rounded
//! once, never fused: that exact f32 value ŵ is what [`dequantize_row`] returns, in every kernel.
//!
//! Two ways to compute y (m×n) = x (m×k, f32) · Ŵᵀ, both specified here:
//! - [`matmul_bt_dequant`] (approach a): y[i,j] = Σ_p x[i,p]·ŵ[j,p], in f32. Kernels may sum in any
//!   order (the tests allow the f32 summation error of k terms), exactly on integer data.
//! - [`matmul_bt_q8`] (approach b, as llama.cpp's q8_0 × q4_1 dot products): each 32-block of a row
//!   of x is first quantised to 8 bits ([`quantize_block_q8`]): x_t ≈ dₓ·qₓ_t, and the product is
//!   sums of integer dot products: y[i,j] = Σ_b [ (Σ_t qₓ_t·q′_t)·(dₓ·d) + m·sₓ ] (the m term only
//!   for Q4_1), where q′ = qs (Q8_0), q − 8 (Q4_0), q (Q4_1) and sₓ = dₓ·Σ_t qₓ_t. The integer sums
//!   are exact; the f32 accumulation runs over blocks b = 0, 1, … in that order, as written, so every
//!   kernel returns bit-identical results. The price is the rounding of x to 8 bits: an error of at
//!   most dₓ/2 = max|x_block|/254 per element of x.

/// Elements per block in every format here.
pub const BLOCK: usize = 32;

/// A block format of quantised weights (the ggml types of the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantFormat {
    Q8_0,
    Q4_0,
    Q4_1,
}

impl QuantFormat {
    /// Bytes per block of [`BLOCK`] elements.
    pub const fn block_bytes(self) -> usize {
        match self {
            QuantFormat::Q8_0 => 34,
            QuantFormat::Q4_0 => 18,
            QuantFormat::Q4_1 => 20,
        }
    }

    /// The ggml name: "Q8_0", "Q4_0", "Q4_1".
    pub const fn name(self) -> &'static str {
        match self {
            QuantFormat::Q8_0 => "Q8_0",
            QuantFormat::Q4_0 => "Q4_0",
            QuantFormat::Q4_1 => "Q4_1",
        }
    }

    /// Bytes of a row of k elements, None unless k is a multiple of [`BLOCK`] (or if it overflows).
    pub fn row_bytes(self, k: usize) -> Option<usize> {
        k.is_multiple_of(BLOCK).then(|| (k / BLOCK).checked_mul(self.block_bytes())).flatten()
    }
}

/// The f32 value of IEEE binary16 bits (exact: every f16 is an f32), ±0, subnormals, ±∞ and NaN
/// included. The magnitude bits shifted into an f32's place read as the value times 2⁻¹¹²
/// (subnormals too), so one exact multiply by 2¹¹² rescales; ∞ and NaN get the f32 exponent.
#[inline]
pub fn f16_to_f32(h: u16) -> f32 {
    let mut bits = ((h & 0x7fff) as u32) << 13;
    if h & 0x7c00 == 0x7c00 {
        bits |= 0xff << 23; // exponent 31: ∞ or NaN
        return f32::from_bits(bits | ((h as u32 & 0x8000) << 16));
    }
    let magnitude = f32::from_bits(bits) * f32::from_bits(0x7780_0000); // 2¹¹²
    if h & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// The f16 at `block[at..at + 2]` (little-endian) as f32.
#[inline]
pub(crate) fn f16_at(block: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([block[at], block[at + 1]]))
}

/// Panics unless `w` holds n rows of k quantised elements and x, y have m·k and m·n elements.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_quant_matmul(name: &str, format: QuantFormat, x: usize, w: usize, y: usize, m: usize, k: usize, n: usize) {
    let row = format.row_bytes(k);
    assert!(
        row.is_some() && x == m * k && y == m * n && row.and_then(|r| r.checked_mul(n)) == Some(w),
        "{name}: expected k a multiple of {BLOCK}, x of m·k = {} floats, W of n rows of {} bytes ({} per \
         {BLOCK}-block of {}) = {} bytes, y of m·n = {} floats for m = {m}, k = {k}, n = {n}; found x {x}, W {w}, y {y}",
        m * k,
        row.map_or("?".to_string(), |r| r.to_string()),
        format.block_bytes(),
        format.name(),
        row.map_or("?".to_string(), |r| (r * n).to_string()),
        m * n,
    );
}

/// dst (32) ← the dequantised elements ŵ of one block (see the module table).
pub fn dequantize_block(format: QuantFormat, block: &[u8], dst: &mut [f32]) {
    let d = f16_at(block, 0);
    let dst = &mut dst[..BLOCK];
    match format {
        QuantFormat::Q8_0 => {
            for (v, &q) in dst.iter_mut().zip(&block[2..34]) {
                *v = d * q as i8 as f32;
            }
        }
        QuantFormat::Q4_0 => {
            for (t, &q) in block[2..18].iter().enumerate() {
                dst[t] = d * ((q & 0xf) as i32 - 8) as f32;
                dst[t + 16] = d * ((q >> 4) as i32 - 8) as f32;
            }
        }
        QuantFormat::Q4_1 => {
            let m = f16_at(block, 2);
            for (t, &q) in block[4..20].iter().enumerate() {
                dst[t] = d * (q & 0xf) as f32 + m;
                dst[t + 16] = d * (q >> 4) as f32 + m;
            }
        }
    }
}

/// dst (k) ← the dequantised row of k elements stored in `src` (k/32 blocks); the embedding lookup.
/// Panics unless k is a multiple of 32 and `src` has exactly k/32 blocks.
pub fn dequantize_row(format: QuantFormat, src: &[u8], dst: &mut [f32]) {
    let k = dst.len();
    assert!(
        format.row_bytes(k) == Some(src.len()),
        "dequantize_row: expected a row of k = {k} elements (a multiple of {BLOCK}) in {} bytes of {}, found {} bytes",
        format.row_bytes(k).map_or("?".to_string(), |r| r.to_string()),
        format.name(),
        src.len()
    );
    for (block, out) in src.chunks_exact(format.block_bytes()).zip(dst.chunks_exact_mut(BLOCK)) {
        dequantize_block(format, block, out);
    }
}

/// Approach (a). y (m×n) ← x (m×k) · Ŵᵀ, W (n×k) quantised in `format`, row-major:
///
/// y[i,j] = Σ_{p=0}^{k−1} x[i,p]·ŵ[j,p], summed in f32 in the order p = 0, 1, …, k−1.
///
/// Each row of W is dequantised once (with [`dequantize_row`]) and dotted with every row of x.
pub fn matmul_bt_dequant(x: &[f32], w: &[u8], format: QuantFormat, y: &mut [f32], m: usize, k: usize, n: usize) {
    check_quant_matmul("matmul_bt_dequant", format, x.len(), w.len(), y.len(), m, k, n);
    let row_bytes = w.len().checked_div(n).unwrap_or(0);
    let mut w_row = vec![0.0f32; k];
    for j in 0..n {
        dequantize_row(format, &w[j * row_bytes..(j + 1) * row_bytes], &mut w_row);
        for i in 0..m {
            let mut s = 0.0f32;
            for (a, b) in x[i * k..(i + 1) * k].iter().zip(&w_row) {
                s += a * b;
            }
            y[i * n + j] = s;
        }
    }
}

/// One block of 32 activations quantised to 8 bits: x_t ≈ d·q_t.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Q8Block {
    /// d = max_t |x_t| / 127 (NaN when a NaN is among the x_t, +∞ when an ∞ is).
    pub d: f32,
    /// q_t = clamp(round_half_even(x_t · (1/d)), −127, 127), 0 where 1/d·x_t is NaN; 1/d is
    /// taken as 0 when d = 0.
    pub q: [i8; BLOCK],
    /// s = d·Σ_t q_t (the integer sum, exact in f32, times d).
    pub s: f32,
}

/// Quantises one block of 32 activations (as llama.cpp's q8_0/q8_1, rounding half to even). The
/// maximum propagates NaN, so a NaN or ∞ in x makes d, and so every output of its row, NaN.
pub fn quantize_block_q8(x: &[f32]) -> Q8Block {
    let amax = x[..BLOCK].iter().fold(0.0f32, |m, v| if v.is_nan() || v.abs() > m { v.abs() } else { m });
    let d = amax / 127.0;
    let id = if d == 0.0 { 0.0 } else { 1.0 / d };
    let mut q = [0i8; BLOCK];
    for (q, &v) in q.iter_mut().zip(x) {
        *q = ((v * id).round_ties_even() as i32).clamp(-127, 127) as i8; // `as` saturates, NaN → 0
    }
    let s = d * q.iter().map(|&q| q as i32).sum::<i32>() as f32;
    Q8Block { d, q, s }
}

/// The integer dot product Σ_t qₓ_t·q′_t of a block of quantised activations with one weight block
/// (q′ as in the module docs), and the weight block's d and m (m = 0 unless Q4_1).
pub fn block_dot_q8(format: QuantFormat, qx: &[i8; BLOCK], block: &[u8]) -> (i32, f32, f32) {
    let d = f16_at(block, 0);
    match format {
        QuantFormat::Q8_0 => (qx.iter().zip(&block[2..34]).map(|(&a, &b)| a as i32 * b as i8 as i32).sum(), d, 0.0),
        QuantFormat::Q4_0 | QuantFormat::Q4_1 => {
            let (qs, offset, m) = match format {
                QuantFormat::Q4_0 => (&block[2..18], 8, 0.0),
                _ => (&block[4..20], 0, f16_at(block, 2)),
            };
            let mut sum = 0i32;
            for (t, &q) in qs.iter().enumerate() {
                sum += qx[t] as i32 * ((q & 0xf) as i32 - offset) + qx[t + 16] as i32 * ((q >> 4) as i32 - offset);
            }
            (sum, d, m)
        }
    }
}

/// Approach (b). y (m×n) ← x (m×k) · Ŵᵀ with every 32-block of x first quantised to 8 bits:
///
/// y[i,j] = Σ_{b=0}^{k/32−1} [ sumᵢⱼ_b·(dₓ_b·d_b) + m_b·sₓ_b ],
///
/// sumᵢⱼ_b the exact integer [`block_dot_q8`] of block b of row i of x ([`quantize_block_q8`]) with
/// block b of row j of W, accumulated in f32 from 0 over b ascending as `acc = acc + sum·(dₓ·d)`,
/// then (Q4_1 only) `acc = acc + m·sₓ`.
pub fn matmul_bt_q8(x: &[f32], w: &[u8], format: QuantFormat, y: &mut [f32], m: usize, k: usize, n: usize) {
    check_quant_matmul("matmul_bt_q8", format, x.len(), w.len(), y.len(), m, k, n);
    let bb = format.block_bytes();
    let xq: Vec<Q8Block> = x.chunks_exact(BLOCK).map(quantize_block_q8).collect();
    let nb = k / BLOCK;
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f32;
            for b in 0..nb {
                let xb = &xq[i * nb + b];
                let at = (j * nb + b) * bb;
                let (sum, d, mw) = block_dot_q8(format, &xb.q, &w[at..at + bb]);
                acc += sum as f32 * (xb.d * d);
                if format == QuantFormat::Q4_1 {
                    acc += mw * xb.s;
                }
            }
            y[i * n + j] = acc;
        }
    }
}
