//! The quantised kernels (src/kernels/quant.rs and quant_simd128.rs) against a naive f64 reference on
//! the dequantised weights, through one equivalence helper that runs every implementation: natively
//! the dispatched kernels and the scalar spec; in headless Chromium (`wasm-pack test --headless
//! --chrome -- --test quant`) also the simd128 kernels, by name.
//!
//! The reference (tests/support) decodes blocks from the ggml definitions in f64 and shares no code
//! with src/. m and n run through 0..=17 and 63, k through multiples of 32 up to 256 (and 576, a
//! SmolLM2 width); outputs are pre-filled with NaN so an unwritten element fails. Integer-valued
//! cases (d = 1, integer m and x) must match exactly; the others within named bounds derived below.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod support;

use attention_explorer::kernels::quant::{self, QuantFormat, BLOCK};
use attention_explorer::kernels::{self};
use support::{block, block_values, f16_of_int, f16_value, matrix_values, random_matrix, Rng};

type QMatmul = fn(&[f32], &[u8], QuantFormat, &mut [f32], usize, usize, usize);
type DequantizeRow = fn(QuantFormat, &[u8], &mut [f32]);

/// One implementation of every quantised kernel.
struct Kernels {
    name: &'static str,
    dequant: QMatmul,
    q8: QMatmul,
    dequantize_row: DequantizeRow,
}

/// The dispatch point, the scalar spec, and on wasm32 with simd128 the simd128 kernels by name.
fn implementations() -> Vec<Kernels> {
    #[allow(unused_mut)]
    let mut all = vec![
        Kernels {
            name: "dispatched",
            dequant: kernels::matmul_bt_dequant,
            q8: kernels::matmul_bt_q8,
            dequantize_row: kernels::dequantize_row,
        },
        Kernels { name: "scalar", dequant: quant::matmul_bt_dequant, q8: quant::matmul_bt_q8, dequantize_row: quant::dequantize_row },
    ];
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    all.push(Kernels {
        name: "simd128",
        dequant: kernels::quant_simd128::matmul_bt_dequant,
        q8: kernels::quant_simd128::matmul_bt_q8,
        dequantize_row: kernels::quant_simd128::dequantize_row,
    });
    all
}

const FORMATS: [(QuantFormat, (&str, usize)); 3] =
    [(QuantFormat::Q8_0, support::Q8_0), (QuantFormat::Q4_0, support::Q4_0), (QuantFormat::Q4_1, support::Q4_1)];

/// m and n: empty, every remainder of the 4-row groups, and a long odd length.
const SIZES: [usize; 19] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 63];
const KS: [usize; 5] = [0, 32, 64, 96, 256];

/// f32's unit roundoff.
const U: f64 = 1.0 / (1u64 << 24) as f64;

/// Approach (a) error per unit of Σ_p |x_p·w_p|: each ŵ is w rounded once (d·q is exact in f32, so
/// only the + m rounds), each product rounds once, and a sum of k terms in any order adds at most
/// (k − 1)·u: (k + 1)·u to first order; DEQUANT_SLACK covers the second-order terms. Measured with
/// the scalar spec over quantised_matmuls_match_reference: the worst error is 0.13 of this bound.
fn dequant_bound(k: usize, abs_sum: f64) -> f64 {
    const DEQUANT_SLACK: f64 = 2.0;
    (k as f64 + 1.0 + DEQUANT_SLACK) * U * abs_sum
}

/// Approach (b): rounding x to dₓ·q costs at most Q8_HALF_STEP·dₓ per element (half a step, plus the
/// f32 error of x·(1/dₓ): 1/dₓ and the product round, ≤ 3u·127 ≈ 2.3e-5 steps, so 0.5 + 1e-4 is safe),
/// times |w|; the f32 scale steps (≤ 4 roundings per block, plus the block sum) add Q8_F32_ROUNDINGS·u
/// per block of Σ_p (|x_p| + dₓ)·(|w_p| + |m|). Measured likewise: the worst error is 0.50 of it.
const Q8_HALF_STEP: f64 = 0.5 + 1e-4;
const Q8_F32_ROUNDINGS: f64 = 6.0;

fn q8_bound(x: &[f32], w: &[f64], m_abs: &[f64]) -> f64 {
    let k = x.len();
    let blocks = k / BLOCK;
    let mut bound = 0.0;
    for b in 0..blocks {
        let xs = &x[b * BLOCK..(b + 1) * BLOCK];
        let dx = xs.iter().fold(0.0f64, |a, &v| a.max(v.abs() as f64)) / 127.0;
        for t in 0..BLOCK {
            let p = b * BLOCK + t;
            bound += Q8_HALF_STEP * dx * w[p].abs();
            bound += (blocks as f64 + Q8_F32_ROUNDINGS) * U * (x[p].abs() as f64 + dx) * (w[p].abs() + m_abs[b]);
        }
    }
    bound
}

/// |m| of each block of a weight row (0 unless Q4_1).
fn block_mins(format: QuantFormat, row: &[u8]) -> Vec<f64> {
    row.chunks_exact(format.block_bytes())
        .map(|b| if format == QuantFormat::Q4_1 { f16_value(u16::from_le_bytes([b[2], b[3]])).abs() } else { 0.0 })
        .collect()
}

/// Runs `kernel` into a NaN-filled y.
fn run(kernel: QMatmul, x: &[f32], w: &[u8], format: QuantFormat, m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut y = vec![f32::NAN; m * n];
    kernel(x, w, format, &mut y, m, k, n);
    y
}

/// The equivalence helper: for every format, m, n in SIZES and k in KS, both approaches of every
/// implementation against the f64 reference Σ_p x·w. `x_of(rng, m, k)` makes the activations;
/// `integer` selects integer weights (d = 1, integer m), and then the results must be exact.
fn check_all(seed: u64, integer: bool, x_of: impl Fn(&mut Rng, usize, usize) -> Vec<f32>) {
    let impls = implementations();
    let mut rng = Rng(seed);
    for (format, (fname, bb)) in FORMATS {
        for &k in &KS {
            for &m in &SIZES {
                for &n in &SIZES {
                    let x = x_of(&mut rng, m, k);
                    let w = random_matrix(&mut rng, fname, n, k, integer);
                    let wv = matrix_values(fname, bb, &w);
                    let row_bytes = k / BLOCK * bb;
                    let mut want = vec![0.0f64; m * n];
                    let mut bound_a = vec![0.0f64; m * n];
                    let mut bound_b = vec![0.0f64; m * n];
                    for i in 0..m {
                        let xr = &x[i * k..(i + 1) * k];
                        for j in 0..n {
                            let wr = &wv[j * k..(j + 1) * k];
                            want[i * n + j] = xr.iter().zip(wr).map(|(&a, &b)| a as f64 * b).sum();
                            if !integer {
                                bound_a[i * n + j] = dequant_bound(k, xr.iter().zip(wr).map(|(&a, &b)| (a as f64 * b).abs()).sum());
                                bound_b[i * n + j] = q8_bound(xr, wr, &block_mins(format, &w[j * row_bytes..(j + 1) * row_bytes]));
                            }
                        }
                    }
                    for imp in &impls {
                        for (approach, kernel, bound) in [("dequant", imp.dequant, &bound_a), ("q8", imp.q8, &bound_b)] {
                            let y = run(kernel, &x, &w, format, m, k, n);
                            for (idx, (&got, &want)) in y.iter().zip(&want).enumerate() {
                                let err = (got as f64 - want).abs();
                                assert!(
                                    err <= bound[idx],
                                    "{} {approach} {fname}: m={m} k={k} n={n}: y[{}, {}] expected {want} (± {:e}), found {got}",
                                    imp.name,
                                    idx / n.max(1),
                                    idx % n.max(1),
                                    bound[idx]
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Integer weights and x in [−4, 4]: approach (a) is exact (|partial sums| ≤ 256·4·128 < 2²⁴); x
/// has a ±127 in every block so that approach (b)'s dₓ is exactly 1 and it is exact too.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn quantised_matmuls_are_exact_on_integers() {
    check_all(0x51_0b_ce, true, |rng, m, k| {
        let mut x: Vec<f32> = (0..m * k).map(|_| rng.int(-4, 4) as f32).collect();
        for block in x.chunks_exact_mut(BLOCK) {
            block[rng.int(0, 31) as usize] = if rng.next() & 1 == 1 { 127.0 } else { -127.0 };
        }
        x
    });
}

/// Random weights (d, m random f16 of either sign) and x uniform in [−2, 2): within the named bounds.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn quantised_matmuls_match_reference() {
    check_all(0xfeed, false, |rng, m, k| (0..m * k).map(|_| rng.uniform(-2.0, 2.0)).collect());
}

/// Approach (b) is specified down to the order of its f32 operations: every implementation returns
/// bit-identical results, on random data, on SmolLM2's widths, and on x full of rounding ties
/// (n + 0.5 with dₓ = 1, which round half to even).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn q8_matmul_is_bit_identical_to_the_spec() {
    let mut rng = Rng(99);
    for (format, (fname, _)) in FORMATS {
        for (m, k, n) in [(1, 576, 64), (5, 576, 17), (8, 1536, 9), (13, 64, 63), (4, 32, 1)] {
            let ties = m == 13;
            let x: Vec<f32> = (0..m * k)
                .map(|p| {
                    if ties {
                        if p % 32 == 0 {
                            127.0
                        } else {
                            rng.int(-126, 125) as f32 + 0.5
                        }
                    } else {
                        rng.uniform(-3.0, 3.0)
                    }
                })
                .collect();
            let w = random_matrix(&mut rng, fname, n, k, false);
            let want = run(quant::matmul_bt_q8, &x, &w, format, m, k, n);
            for imp in implementations() {
                let y = run(imp.q8, &x, &w, format, m, k, n);
                let bad = y.iter().zip(&want).position(|(a, b)| a.to_bits() != b.to_bits());
                assert!(bad.is_none(), "{} q8 {fname} m={m} k={k} n={n}: element {bad:?} differs from the scalar spec", imp.name);
            }
        }
    }
}

/// With four rows of x or more, approach (a) sums in the spec's order too (the simd128 kernel
/// dequantises strips of W for the f32 matmul_bt, which sums p = 0..k in order): bit-identical.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dequant_matmul_is_bit_identical_to_the_spec_from_four_rows() {
    let mut rng = Rng(98);
    for (format, (fname, _)) in FORMATS {
        for (m, k, n) in [(4, 576, 33), (8, 1536, 9), (13, 64, 63), (32, 576, 64), (5, 32, 1)] {
            let x: Vec<f32> = (0..m * k).map(|_| rng.uniform(-3.0, 3.0)).collect();
            let w = random_matrix(&mut rng, fname, n, k, false);
            let want = run(quant::matmul_bt_dequant, &x, &w, format, m, k, n);
            for imp in implementations() {
                let y = run(imp.dequant, &x, &w, format, m, k, n);
                let bad = y.iter().zip(&want).position(|(a, b)| a.to_bits() != b.to_bits());
                assert!(bad.is_none(), "{} dequant {fname} m={m} k={k} n={n}: element {bad:?} differs from the scalar spec", imp.name);
            }
        }
    }
}

/// dequantize_row returns exactly the f64 value of each element rounded once to f32 (d·q is exact
/// in f32, so the spec's only rounding is that of + m), for random blocks and every f16 scale
/// pattern of interest: subnormal, normal, large, ±0, and ∞/NaN scales (which give ∞/NaN elements).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dequantize_row_is_the_rounded_definition() {
    let mut rng = Rng(5);
    let scales = [0x0001u16, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x8000, 0x0000, 0xbc00, 0x7c00, 0xfc00, 0x7e00];
    for (format, (fname, bb)) in FORMATS {
        for &k in &[0usize, 32, 64, 576] {
            let mut w = Vec::new();
            for b in 0..k / BLOCK {
                let d = if b < scales.len() { scales[b] } else { support::random_f16(&mut rng, 0, 30, true) };
                let m = scales[(b + 3) % scales.len()];
                w.extend(block(fname, d, m, &support::random_q(&mut rng, fname)));
            }
            let want: Vec<f64> = matrix_values(fname, bb, &w);
            for imp in implementations() {
                let mut got = vec![f32::NAN; k];
                (imp.dequantize_row)(format, &w, &mut got);
                for (p, (&g, &v)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        g.to_bits() == (v as f32).to_bits() || (g.is_nan() && v.is_nan()),
                        "{} dequantize_row {fname} k={k}: element {p} expected {v} as f32 = {}, found {g}",
                        imp.name,
                        v as f32
                    );
                }
            }
        }
    }
}

/// Every one of the 65,536 f16 bit patterns converts to its value.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn f16_to_f32_is_exact() {
    for h in 0..=u16::MAX {
        let (got, want) = (quant::f16_to_f32(h), f16_value(h));
        assert!(got as f64 == want || (got.is_nan() && want.is_nan()), "f16 {h:#06x}: expected {want}, found {got}");
        assert_eq!(got.is_sign_negative(), h & 0x8000 != 0, "f16 {h:#06x}: sign of {got}");
    }
    assert_eq!(f16_value(f16_of_int(-7)), -7.0, "the test's own f16 encoder");
}

/// A NaN or ∞ in a row of x makes that row's outputs non-finite in both approaches (approach b
/// does not round it away to 0), and leaves the other rows as they were.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn non_finite_activations_propagate() {
    let mut rng = Rng(17);
    let (m, k, n) = (6, 96, 5);
    for (format, (fname, _)) in FORMATS {
        let w = random_matrix(&mut rng, fname, n, k, false);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut x: Vec<f32> = (0..m * k).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let clean = x.clone();
            x[4 * k + 40] = bad; // row 4, block 1
            for imp in implementations() {
                for (approach, kernel) in [("dequant", imp.dequant), ("q8", imp.q8)] {
                    let (y, y_clean) = (run(kernel, &x, &w, format, m, k, n), run(kernel, &clean, &w, format, m, k, n));
                    for i in 0..m {
                        for j in 0..n {
                            let (v, c) = (y[i * n + j], y_clean[i * n + j]);
                            if i == 4 {
                                assert!(!v.is_finite(), "{} {approach} {fname}: x holds {bad} in row 4, y[4, {j}] = {v}", imp.name);
                            } else {
                                assert_eq!(v.to_bits(), c.to_bits(), "{} {approach} {fname}: row {i} changed", imp.name);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The quantisation of one block: dₓ = max|x|/127, q rounds half to even, s = dₓ·Σq; all-zero
/// blocks quantise to zeros.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn q8_block_quantisation() {
    let mut x = [0.0f32; 32];
    x[..6].copy_from_slice(&[-127.0, 0.5, 1.5, 2.5, -2.5, 3.4]);
    let b = quant::quantize_block_q8(&x);
    assert_eq!(b.d, 1.0);
    assert_eq!(&b.q[..6], &[-127, 0, 2, 2, -2, 3]);
    assert_eq!(b.s, -122.0);
    let z = quant::quantize_block_q8(&[0.0; 32]);
    assert_eq!((z.d, z.q, z.s), (0.0, [0; 32], 0.0));
    let halves: Vec<f32> = (0..32).map(|t| t as f32 / 31.0).collect();
    let h = quant::quantize_block_q8(&halves);
    assert_eq!(h.d, 1.0 / 127.0);
    assert!(h.q.iter().zip(&halves).all(|(&q, &v)| (q as f32 - v * 127.0).abs() <= 0.5), "{:?}", h.q);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
#[should_panic(
    expected = "matmul_bt_q8: expected k a multiple of 32, x of m·k = 64 floats, W of n rows of 20 bytes (20 per 32-block of Q4_1) = 60 bytes, y of m·n = 6 floats for m = 2, k = 32, n = 3; found x 64, W 59, y 6"
)]
fn quantised_matmul_rejects_a_wrong_length() {
    kernels::matmul_bt_q8(&[0.0; 64], &[0; 59], QuantFormat::Q4_1, &mut [0.0; 6], 2, 32, 3);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
#[should_panic(expected = "expected k a multiple of 32")]
fn quantised_matmul_rejects_a_partial_block() {
    kernels::matmul_bt_dequant(&[0.0; 33], &[0; 34], QuantFormat::Q8_0, &mut [0.0; 1], 1, 33, 1);
}

/// In the browser the quantised dispatch must be the simd128 one, and the list above must name it.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
#[allow(clippy::assertions_on_constants)] // a failing test run, not a compile error, is the report wanted
fn quant_simd128_is_tested_in_wasm() {
    assert!(kernels::SIMD128, "the kernel dispatch point does not use the simd128 kernels");
    assert!(
        implementations().iter().any(|k| k.name == "simd128"),
        "the simd128 quantised kernels are not among the tested implementations"
    );
}

/// The test's own block reference agrees with a hand-computed Q4_1 block (nibble order included).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn block_layout_by_hand() {
    let q: [i32; 32] = core::array::from_fn(|t| (t % 16) as i32);
    let b = block("Q4_1", f16_of_int(2), f16_of_int(-3), &q);
    assert_eq!(b.len(), 20);
    assert_eq!(&b[..4], &[0x00, 0x40, 0x00, 0xc2], "d = 2, m = −3 as f16");
    assert_eq!(b[4], 0x00); // elements 0 and 16 are both 0
    assert_eq!(b[5], 0x11); // elements 1 and 17 are both 1
    let v = block_values("Q4_1", &b);
    assert_eq!((v[0], v[1], v[15], v[16], v[31]), (-3.0, -1.0, 27.0, -3.0, 27.0));
    let mut got = [0.0f32; 32];
    kernels::dequantize_row(QuantFormat::Q4_1, &b, &mut got);
    assert_eq!((got[0], got[1], got[15], got[16], got[31]), (-3.0, -1.0, 27.0, -3.0, 27.0));
}
