//! Test helpers shared by tests/quant.rs and tests/gguf.rs, written without the crate's code: a
//! deterministic generator, an f16 reference, quantised block builders and a GGUF writer.
#![allow(dead_code)] // each test file uses part of it

pub mod gguf_writer;

/// A small deterministic generator (xorshift64*), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
    /// An integer in [lo, hi].
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    pub fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }
}

/// The value of IEEE binary16 bits in f64, from the definition: (−1)^s · 2^(e−15) · (1 + f/1024),
/// subnormals 2^−14 · f/1024, e = 31 ∞ or NaN.
pub fn f16_value(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let (e, f) = (((h >> 10) & 0x1f) as i32, (h & 0x3ff) as f64);
    match e {
        0 => sign * f / 1024.0 * 2f64.powi(-14),
        31 if f == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + f / 1024.0) * 2f64.powi(e - 15),
    }
}

/// The f16 bits of an integer with |v| ≤ 2048 (exact).
pub fn f16_of_int(v: i32) -> u16 {
    let sign = if v < 0 { 0x8000 } else { 0 };
    let a = v.unsigned_abs();
    if a == 0 {
        return sign;
    }
    let e = 31 - a.leading_zeros(); // 2^e ≤ a < 2^(e+1)
    let mant = ((a - (1 << e)) << 10) >> e;
    sign | (((e + 15) as u16) << 10) | mant as u16
}

/// Random f16 bits of a normal number with magnitude in [2^(lo−15), 2^(hi−14)), random sign when
/// `signed`.
pub fn random_f16(rng: &mut Rng, lo: u16, hi: u16, signed: bool) -> u16 {
    let e = lo + (rng.next() % (hi - lo + 1) as u64) as u16;
    let sign = if signed && rng.next() & 1 == 1 { 0x8000 } else { 0 };
    sign | (e << 10) | (rng.next() % 1024) as u16
}

/// The block formats, by ggml name: (name, bytes per block).
pub const Q8_0: (&str, usize) = ("Q8_0", 34);
pub const Q4_0: (&str, usize) = ("Q4_0", 18);
pub const Q4_1: (&str, usize) = ("Q4_1", 20);

/// One block: scale d, offset m (Q4_1 only), and 32 raw integers q (Q8_0: −128..=127, Q4: 0..=15).
pub fn block(format: &str, d: u16, m: u16, q: &[i32; 32]) -> Vec<u8> {
    let mut out = d.to_le_bytes().to_vec();
    match format {
        "Q8_0" => out.extend(q.iter().map(|&v| v as i8 as u8)),
        "Q4_0" | "Q4_1" => {
            if format == "Q4_1" {
                out.extend(m.to_le_bytes());
            }
            out.extend((0..16).map(|t| (q[t] as u8 & 0xf) | ((q[t + 16] as u8 & 0xf) << 4)));
        }
        _ => panic!("unknown format {format}"),
    }
    out
}

/// The 32 values a block stands for, in f64 from the ggml definitions (exact: f16 · small integer +
/// f16 needs at most 51 significant bits).
pub fn block_values(format: &str, bytes: &[u8]) -> [f64; 32] {
    let d = f16_value(u16::from_le_bytes([bytes[0], bytes[1]]));
    let mut out = [0.0; 32];
    match format {
        "Q8_0" => (0..32).for_each(|t| out[t] = d * bytes[2 + t] as i8 as f64),
        "Q4_0" => (0..32).for_each(|t| out[t] = d * (nibble(&bytes[2..18], t) as f64 - 8.0)),
        "Q4_1" => {
            let m = f16_value(u16::from_le_bytes([bytes[2], bytes[3]]));
            (0..32).for_each(|t| out[t] = d * nibble(&bytes[4..20], t) as f64 + m);
        }
        _ => panic!("unknown format {format}"),
    }
    out
}

/// Element t of 16 bytes of nibbles: low nibbles are elements 0..15, high nibbles 16..31.
fn nibble(qs: &[u8], t: usize) -> u8 {
    if t < 16 {
        qs[t] & 0xf
    } else {
        qs[t - 16] >> 4
    }
}

/// Random integers q for a block of `format`.
pub fn random_q(rng: &mut Rng, format: &str) -> [i32; 32] {
    let (lo, hi) = if format == "Q8_0" { (-128, 127) } else { (0, 15) };
    core::array::from_fn(|_| rng.int(lo, hi) as i32)
}

/// A matrix of n rows of k elements (k a multiple of 32) in `format`: random q, and d, m random
/// normal f16 (`integer`: d = 1 and m an integer in [−8, 8], so every value is a small integer).
pub fn random_matrix(rng: &mut Rng, format: &str, n: usize, k: usize, integer: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..n * k / 32 {
        let (d, m) = if integer {
            (f16_of_int(1), f16_of_int(rng.int(-8, 8) as i32))
        } else {
            (random_f16(rng, 5, 14, true), random_f16(rng, 5, 14, true))
        };
        out.extend(block(format, d, m, &random_q(rng, format)));
    }
    out
}

/// The values of a whole matrix in f64 (see [`block_values`]).
pub fn matrix_values(format: &str, bytes_per_block: usize, w: &[u8]) -> Vec<f64> {
    w.chunks_exact(bytes_per_block).flat_map(|b| block_values(format, b)).collect()
}

pub mod llama_golden;
