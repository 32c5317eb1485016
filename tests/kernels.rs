//! Every kernel against a naive f64 reference, through one equivalence helper per kernel that runs
//! every implementation: natively the dispatched kernels and the scalar spec; in headless Chromium
//! (`wasm-pack test --headless --chrome -- --test kernels`) also the simd128 kernels, explicitly.
//!
//! Matmul inputs are small integers, so every partial sum is exact and results must match the
//! reference exactly; outputs are pre-filled with NaN, so an element a kernel forgets to write
//! fails. Every dimension runs through 0..=17 and 63, so lengths that are not multiples of the lane
//! width or tile size are covered. Tolerances elsewhere are named and derived where they are defined.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use attention_explorer::kernels::{self, scalar, SOFTMAX_MAX_REL_ERR};

type Matmul = fn(&[f32], &[f32], &mut [f32], usize, usize, usize);
type Softmax = fn(&mut [f32], usize, usize, bool);
type LayerNorm = fn(&[f32], &[f32], &[f32], &mut [f32], usize, usize, f32);
type Gelu = fn(&mut [f32]);
type RmsNorm = fn(&[f32], &[f32], &mut [f32], usize, usize, f32);
type Swiglu = fn(&mut [f32], &[f32]);

/// One implementation of every kernel.
struct Kernels {
    name: &'static str,
    matmul: Matmul,
    matmul_bt: Matmul,
    softmax_rows: Softmax,
    layer_norm: LayerNorm,
    gelu: Gelu,
    rms_norm: RmsNorm,
    swiglu: Swiglu,
    /// Whether its softmax takes x − max exactly, so [`SOFTMAX_MAX_REL_ERR`] holds for any spread of
    /// inputs. The scalar spec rounds x − max to f32 first: its relative error grows like
    /// |x − max|·2⁻²⁴, which the spread-limited checks keep below the same bound.
    softmax_any_spread: bool,
}

/// Every implementation this build has: the dispatch point, the scalar spec, and on wasm32 with
/// simd128 the simd128 kernels by name (the dispatch point uses them too, but naming them keeps the
/// test honest if the dispatch ever changes).
fn implementations() -> Vec<Kernels> {
    #[allow(unused_mut)]
    let mut all = vec![
        Kernels {
            name: "dispatched",
            matmul: kernels::matmul,
            matmul_bt: kernels::matmul_bt,
            softmax_rows: kernels::softmax_rows,
            layer_norm: kernels::layer_norm,
            gelu: kernels::gelu,
            rms_norm: kernels::rms_norm,
            swiglu: kernels::swiglu,
            softmax_any_spread: kernels::SIMD128,
        },
        Kernels {
            name: "scalar",
            matmul: scalar::matmul,
            matmul_bt: scalar::matmul_bt,
            softmax_rows: scalar::softmax_rows,
            layer_norm: scalar::layer_norm,
            gelu: scalar::gelu,
            rms_norm: scalar::rms_norm,
            swiglu: scalar::swiglu,
            softmax_any_spread: false,
        },
    ];
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    all.push(Kernels {
        name: "simd128",
        matmul: kernels::simd128::matmul,
        matmul_bt: kernels::simd128::matmul_bt,
        softmax_rows: kernels::simd128::softmax_rows,
        layer_norm: kernels::simd128::layer_norm,
        gelu: kernels::simd128::gelu,
        rms_norm: kernels::simd128::rms_norm,
        swiglu: kernels::simd128::swiglu,
        softmax_any_spread: true,
    });
    all
}

/// Every size a dimension takes: 0..=17 covers empty, sub-lane, one tile and every remainder of
/// 4 and 8; 63 is a long odd length.
const SIZES: [usize; 19] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 63];

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
    /// An integer in [−r, r], as f32.
    fn int(&mut self, r: i64) -> f32 {
        ((self.next() % (2 * r as u64 + 1)) as i64 - r) as f32
    }
    fn ints(&mut self, len: usize, r: i64) -> Vec<f32> {
        (0..len).map(|_| self.int(r)).collect()
    }
    fn uniforms(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.uniform(lo, hi)).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// matmul, matmul_bt

/// C = A·B in f64; with `bt`, B is stored (n×k) and C = A·Bᵀ.
fn matmul_f64(a: &[f32], b: &[f32], m: usize, k: usize, n: usize, bt: bool) -> Vec<f64> {
    let mut c = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a[i * k + p] as f64 * if bt { b[j * k + p] } else { b[p * n + j] } as f64).sum();
        }
    }
    c
}

/// The equivalence helper for both matmuls: for every (m, k, n) in SIZES³ and every
/// implementation, integer-valued inputs in [−4, 4] (|partial sums| ≤ 63·16 < 2²⁴, so exact in any
/// order), a NaN-filled output, and an exact comparison with the f64 reference.
fn check_matmul_exact(bt: bool) {
    let impls = implementations();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ bt as u64);
    for &m in &SIZES {
        for &k in &SIZES {
            for &n in &SIZES {
                let a = rng.ints(m * k, 4);
                let b = rng.ints(k * n, 4);
                let want = matmul_f64(&a, &b, m, k, n, bt);
                for imp in &impls {
                    let mut c = vec![f32::NAN; m * n];
                    (if bt { imp.matmul_bt } else { imp.matmul })(&a, &b, &mut c, m, k, n);
                    for (idx, (&got, &want)) in c.iter().zip(&want).enumerate() {
                        assert!(
                            got as f64 == want,
                            "{} {}: m={m} k={k} n={n}: C[{}, {}] expected {want}, found {got}",
                            imp.name,
                            if bt { "matmul_bt" } else { "matmul" },
                            idx / n,
                            idx % n
                        );
                    }
                }
            }
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn matmul_matches_reference_exactly() {
    check_matmul_exact(false);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn matmul_bt_matches_reference_exactly() {
    check_matmul_exact(true);
}

/// On arbitrary (non-integer) data C = A·B is bit-identical to the scalar spec, because every
/// implementation sums p = 0..k in order (see src/kernels/simd128.rs); the model's shapes included.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn matmul_is_bit_identical_to_the_spec() {
    let mut rng = Rng(7);
    let shapes = [(1, 128, 128), (5, 128, 512), (13, 512, 128), (64, 64, 32), (7, 31, 13), (17, 9, 63)];
    for (m, k, n) in shapes {
        let a = rng.uniforms(m * k, -2.0, 2.0);
        let b = rng.uniforms(k * n, -2.0, 2.0);
        let mut want = vec![f32::NAN; m * n];
        scalar::matmul(&a, &b, &mut want, m, k, n);
        for imp in implementations() {
            let mut c = vec![f32::NAN; m * n];
            (imp.matmul)(&a, &b, &mut c, m, k, n);
            let bad = c.iter().zip(&want).position(|(x, y)| x.to_bits() != y.to_bits());
            assert!(bad.is_none(), "{}: matmul m={m} k={k} n={n}: element {bad:?} differs from the scalar spec", imp.name);
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
#[should_panic(expected = "matmul: expected slices of length m·k = 6, k·n = 12, m·n = 8 for m = 2, k = 3, n = 4; found 6, 11, 8")]
fn matmul_rejects_a_wrong_length() {
    kernels::matmul(&[0.0; 6], &[0.0; 11], &mut [0.0; 8], 2, 3, 4);
}

// ---------------------------------------------------------------------------------------------
// softmax_rows

/// Rows must sum to 1 within this: each output is within SOFTMAX_MAX_REL_ERR of exact, so their
/// sum (taken in f64) is within SOFTMAX_MAX_REL_ERR of 1.
const SOFTMAX_SUM_TOL: f64 = SOFTMAX_MAX_REL_ERR as f64;

/// The exact softmax of the f32 inputs, in f64 (masked entries 0), for non-degenerate rows.
fn softmax_f64(x: &[f32], rows: usize, cols: usize, causal: bool) -> Vec<f64> {
    let mut y = vec![0.0f64; rows * cols];
    for i in 0..rows {
        let live = if causal { (i + 1).min(cols) } else { cols };
        let row = &x[i * cols..i * cols + live];
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        let sum: f64 = row.iter().map(|&v| (v as f64 - max).exp()).sum();
        for (j, &v) in row.iter().enumerate() {
            y[i * cols + j] = (v as f64 - max).exp() / sum;
        }
    }
    y
}

/// Relative error with a floor: outputs below f32::MIN_POSITIVE are subnormal and carry fewer
/// significant bits, so their error counts relative to MIN_POSITIVE.
fn rel_err(got: f32, want: f64) -> f64 {
    (got as f64 - want).abs() / want.abs().max(f32::MIN_POSITIVE as f64)
}

/// The equivalence helper for softmax: one (rows, cols, causal) case against the f64 reference,
/// element by element and row sums, with masked entries exactly 0.
fn check_softmax(imp: &Kernels, x: &[f32], rows: usize, cols: usize, causal: bool, what: &str) {
    let want = softmax_f64(x, rows, cols, causal);
    let mut y = x.to_vec();
    (imp.softmax_rows)(&mut y, rows, cols, causal);
    for i in 0..rows {
        let live = if causal { (i + 1).min(cols) } else { cols };
        let row = &y[i * cols..(i + 1) * cols];
        for (j, &v) in row.iter().enumerate() {
            let w = want[i * cols + j];
            if j >= live {
                assert!(v == 0.0, "{} softmax {what} rows={rows} cols={cols}: masked ({i}, {j}) expected 0, found {v}", imp.name);
            } else {
                let e = rel_err(v, w);
                assert!(
                    e <= SOFTMAX_MAX_REL_ERR as f64,
                    "{} softmax {what} rows={rows} cols={cols} causal={causal}: ({i}, {j}) expected {w}, found {v} \
                     (relative error {e:e}, allowed {SOFTMAX_MAX_REL_ERR:e})",
                    imp.name
                );
            }
        }
        if live > 0 {
            let sum: f64 = row.iter().map(|&v| v as f64).sum();
            assert!(
                (sum - 1.0).abs() <= SOFTMAX_SUM_TOL,
                "{} softmax {what} rows={rows} cols={cols}: row {i} sums to {sum}, expected 1 ± {SOFTMAX_SUM_TOL:e}",
                imp.name
            );
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn softmax_matches_reference() {
    let mut rng = Rng(11);
    for imp in implementations() {
        for &rows in &[0usize, 1, 2, 3, 5, 17, 63] {
            for cols in SIZES.iter().copied().chain([64, 4096]) {
                if rows * cols > 70_000 {
                    continue;
                }
                for causal in [false, true] {
                    // |x − max| ≤ 16 keeps the spec's rounding of x − max within the bound
                    let x = rng.uniforms(rows * cols, -8.0, 8.0);
                    check_softmax(&imp, &x, rows, cols, causal, "uniform(-8, 8)");
                }
            }
        }
        if imp.softmax_any_spread {
            for cols in [1usize, 3, 4, 7, 33, 4096] {
                // spreads up to 200, far from zero: exp underflows to subnormals and 0 inside a row
                let base = rng.uniform(-1e4, 1e4);
                let x: Vec<f32> = (0..cols).map(|_| base + rng.uniform(-100.0, 100.0)).collect();
                check_softmax(&imp, &x, 1, cols, false, "wide spread");
                let x = rng.uniforms(4 * cols, -60.0, 60.0);
                check_softmax(&imp, &x, 4, cols, true, "uniform(-60, 60)");
            }
        }
    }
}

/// Adding a constant to a row changes nothing: with integer inputs and an exact shift, x − max is
/// the same number, so every implementation must return bit-identical rows.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn softmax_ignores_a_constant_shift() {
    let mut rng = Rng(12);
    for imp in implementations() {
        for cols in SIZES.iter().copied().chain([128]) {
            let rows = 3;
            let x = rng.ints(rows * cols, 20);
            let mut base = x.clone();
            (imp.softmax_rows)(&mut base, rows, cols, false);
            for shift in [1e4f32, -1e4, 1048576.0, -3.0] {
                let mut y: Vec<f32> = x.iter().map(|v| v + shift).collect();
                (imp.softmax_rows)(&mut y, rows, cols, false);
                assert!(
                    y.iter().zip(&base).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{} softmax cols={cols}: adding {shift} changed the result: {base:?} became {y:?}",
                    imp.name
                );
            }
        }
    }
}

/// Whatever sits above the diagonal (here NaN, +∞, huge) is ignored by a causal softmax and
/// becomes exactly 0; the live part equals the softmax of the live entries alone.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn causal_softmax_ignores_and_zeroes_masked_entries() {
    let mut rng = Rng(13);
    for imp in implementations() {
        for &t in &SIZES {
            let clean = rng.uniforms(t * t, -5.0, 5.0);
            let mut dirty = clean.clone();
            for i in 0..t {
                for j in i + 1..t {
                    dirty[i * t + j] = [f32::NAN, f32::INFINITY, 3e38, f32::NEG_INFINITY][(i + j) % 4];
                }
            }
            let (mut y_clean, mut y_dirty) = (clean.clone(), dirty);
            (imp.softmax_rows)(&mut y_clean, t, t, true);
            (imp.softmax_rows)(&mut y_dirty, t, t, true);
            assert!(
                y_clean.iter().zip(&y_dirty).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{} causal softmax t={t}: entries above the diagonal changed the result",
                imp.name
            );
            check_softmax(&imp, &clean, t, t, true, "causal");
        }
    }
}

/// The edge cases of the contract (scalar::softmax_rows): −∞ → 0, all −∞ → zeros, +∞ shares the
/// mass, ±f32::MAX and huge values stay finite, NaN poisons the live row only. Each pattern is tried
/// at every position of rows of length 1..=9, so it lands in full vectors and in the tail.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn softmax_edge_cases() {
    const INF: f32 = f32::INFINITY;
    for imp in implementations() {
        let run = |x: &[f32], causal: bool| {
            let mut y = x.to_vec();
            (imp.softmax_rows)(&mut y, 1, x.len(), causal);
            y
        };
        let name = imp.name;
        for cols in 1..=9usize {
            assert_eq!(run(&vec![-INF; cols], false), vec![0.0; cols], "{name}: an all −∞ row becomes zeros");
            for pos in 0..cols {
                // one finite entry among −∞: it takes all the mass
                let mut x = vec![-INF; cols];
                x[pos] = -3.5;
                let mut want = vec![0.0; cols];
                want[pos] = 1.0;
                assert_eq!(run(&x, false), want, "{name}: one finite entry among −∞ gets 1");

                // +∞ entries share the mass equally, everything else (finite, huge, −∞) gets 0
                let mut x: Vec<f32> = (0..cols).map(|j| [1.0, -INF, 3e38, -2.0][j % 4]).collect();
                x[pos] = INF;
                x[(pos + 3) % cols] = INF;
                let count = x.iter().filter(|&&v| v == INF).count();
                let want: Vec<f32> = x.iter().map(|&v| if v == INF { 1.0 / count as f32 } else { 0.0 }).collect();
                assert_eq!(run(&x, false), want, "{name}: +∞ entries share the mass: {x:?}");

                // a NaN makes the live row NaN; with a causal row of length 1, only entry 0 is live
                let mut x: Vec<f32> = (0..cols).map(|j| j as f32).collect();
                x[pos] = f32::NAN;
                assert!(run(&x, false).iter().all(|v| v.is_nan()), "{name}: a NaN makes the row NaN: {x:?}");
                let y = run(&x, true);
                assert_eq!(y[0].is_nan(), pos == 0, "{name}: causal row 0 sees only entry 0: {x:?} → {y:?}");
                assert!(y[1..].iter().all(|&v| v == 0.0), "{name}: masked entries stay 0 beside a NaN: {y:?}");

                // ±f32::MAX and huge values: x − max overflows to −∞, which is exp's 0, never NaN
                let mut x: Vec<f32> = (0..cols).map(|j| [-f32::MAX, 1e38, -3e38, 0.0][j % 4]).collect();
                x[pos] = f32::MAX;
                let y = run(&x, false);
                let want: Vec<f32> = x
                    .iter()
                    .map(|&v| if v == f32::MAX { 1.0 / x.iter().filter(|&&v| v == f32::MAX).count() as f32 } else { 0.0 })
                    .collect();
                assert_eq!(y, want, "{name}: huge inputs: {x:?}");
            }
        }
        // an all-NaN row is NaN, not the all −∞ zeros
        assert!(run(&[f32::NAN; 5], false).iter().all(|v| v.is_nan()), "{name}: an all-NaN row becomes NaN");
        // nothing to do for empty rows or matrices
        let mut empty: [f32; 0] = [];
        (imp.softmax_rows)(&mut empty, 3, 0, true);
        (imp.softmax_rows)(&mut empty, 0, 5, false);
    }
}

// ---------------------------------------------------------------------------------------------
// the simd128 exp

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[wasm_bindgen_test::wasm_bindgen_test]
fn simd_exp_meets_its_error_bound() {
    use kernels::simd128::{exp_in_place, EXP_MAX_REL_ERR};
    // every 2¹¹-th float in [−104, 88.8] (dense near 0), and 2²⁰ evenly spaced points: 2.1 million
    let hi = 88.8f32.to_bits();
    let lo = 104.0f32.to_bits();
    let mut xs: Vec<f32> = (0..hi).step_by(2048).map(f32::from_bits).chain((0..lo).step_by(2048).map(|b| -f32::from_bits(b))).collect();
    xs.extend((0..1u32 << 20).map(|i| -104.0 + 192.8 * i as f32 / (1u32 << 20) as f32));
    let mut ys = xs.clone();
    exp_in_place(&mut ys);
    let mut worst = (0.0f64, 0.0f32);
    for (&x, &y) in xs.iter().zip(&ys) {
        let want = (x as f64).exp();
        let want_f32 = want as f32;
        if want_f32.is_infinite() {
            assert!(y == f32::INFINITY || (y as f64 - want).abs() / want <= EXP_MAX_REL_ERR as f64, "exp({x}) expected {want}, found {y}");
        } else if want < f32::MIN_POSITIVE as f64 {
            // subnormal: within one step of the subnormal grid (2⁻¹⁴⁹)
            assert!((y as f64 - want).abs() <= f64::powi(2.0, -149), "exp({x}) expected {want:e}, found {y:e}");
        } else {
            let e = (y as f64 - want).abs() / want;
            if e > worst.0 {
                worst = (e, x);
            }
        }
    }
    assert!(worst.0 <= EXP_MAX_REL_ERR as f64, "exp: relative error {:e} at x = {}, bound {EXP_MAX_REL_ERR:e}", worst.0, worst.1);
    let mut special = [0.0, -0.0, f32::NEG_INFINITY, f32::INFINITY, f32::NAN, 89.0, -105.0, 1.0];
    exp_in_place(&mut special);
    assert_eq!(&special[..4], &[1.0, 1.0, 0.0, f32::INFINITY], "exp of ±0, −∞, +∞");
    assert!(special[4].is_nan(), "exp(NaN) is NaN, found {}", special[4]);
    assert_eq!(&special[5..7], &[f32::INFINITY, 0.0], "exp(89) overflows, exp(−105) underflows");
    assert!((special[7] as f64 - 1f64.exp()).abs() <= 1f64.exp() * EXP_MAX_REL_ERR as f64, "exp(1) = {}", special[7]);
}

// ---------------------------------------------------------------------------------------------
// layer_norm, gelu

/// LayerNorm outputs must be within LAYER_NORM_TOL·(1 + |exact|) of the f64 formula. The mean and
/// variance are f32 sums of ≤ 128 terms of size ≤ 4 (relative error ≤ 128·2⁻²⁴ ≈ 7.6e-6 in the worst
/// case, about √128·2⁻²⁴ ≈ 7e-7 typically), and the normalised value takes a few more roundings.
/// Measured at d_model 128 over 200 random rows: scalar 1.5e-6, simd128 4.2e-7.
const LAYER_NORM_TOL: f64 = 5e-6;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn layer_norm_matches_reference() {
    let mut rng = Rng(21);
    let eps = 1e-5f32;
    for imp in implementations() {
        for &rows in &[0usize, 1, 3, 17] {
            for cols in SIZES.iter().copied().chain([128]) {
                let offset = rng.uniform(-2.0, 2.0);
                let x: Vec<f32> = (0..rows * cols).map(|_| offset + rng.uniform(-2.0, 2.0)).collect();
                let gamma = rng.uniforms(cols, -2.0, 2.0);
                let beta = rng.uniforms(cols, -2.0, 2.0);
                let mut out = vec![f32::NAN; rows * cols];
                (imp.layer_norm)(&x, &gamma, &beta, &mut out, rows, cols, eps);
                for i in 0..rows {
                    let r = &x[i * cols..(i + 1) * cols];
                    let mean = r.iter().map(|&v| v as f64).sum::<f64>() / cols as f64;
                    let var = r.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / cols as f64;
                    for j in 0..cols {
                        let want = (r[j] as f64 - mean) / (var + eps as f64).sqrt() * gamma[j] as f64 + beta[j] as f64;
                        let got = out[i * cols + j];
                        assert!(
                            (got as f64 - want).abs() <= LAYER_NORM_TOL * (1.0 + want.abs()),
                            "{} layer_norm rows={rows} cols={cols}: ({i}, {j}) expected {want}, found {got}",
                            imp.name
                        );
                    }
                }
            }
        }
        // a constant row has variance 0: the output is beta, not NaN
        let mut out = [f32::NAN; 5];
        (imp.layer_norm)(&[3.0; 5], &[2.0; 5], &[0.5, -1.0, 0.0, 1.0, 2.0], &mut out, 1, 5, eps);
        assert_eq!(out, [0.5, -1.0, 0.0, 1.0, 2.0], "{}: layer_norm of a constant row", imp.name);
    }
}

/// gelu outputs must be within GELU_TOL·max(1, |x|) of the f64 formula: the tanh form loses
/// relative accuracy for x < 0 where 1 + tanh(z) cancels, but its absolute error stays near
/// |x|·2⁻²⁴ per rounding. Measured over [−20, 20] in steps of 1e-4: scalar 1.0e-7, simd128 1.2e-7.
const GELU_TOL: f64 = 3e-7;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn gelu_matches_reference() {
    let gelu_f64 = |x: f64| 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh());
    let xs: Vec<f32> = (0..=40_000).map(|i| -20.0 + i as f32 * 1e-3).chain([0.0, -0.0, 1e-30, -1e-30, 1e6, -1e6, 3e38, -3e38]).collect();
    for imp in implementations() {
        for len in [0usize, 1, 3, 4, 5, 7] {
            let mut y = xs[..len].to_vec();
            (imp.gelu)(&mut y);
            assert_eq!(y.len(), len);
        }
        let mut y = xs.clone();
        (imp.gelu)(&mut y);
        for (&x, &got) in xs.iter().zip(&y) {
            let want = gelu_f64(x as f64);
            assert!(
                (got as f64 - want).abs() <= GELU_TOL * (x.abs() as f64).max(1.0),
                "{} gelu({x}) expected {want}, found {got}",
                imp.name
            );
        }
        let mut nan = [f32::NAN];
        (imp.gelu)(&mut nan);
        assert!(nan[0].is_nan(), "{}: gelu(NaN) is NaN", imp.name);
    }
}

/// RMSNorm outputs must be within RMS_NORM_TOL·(1 + |exact|) of the f64 formula: the mean square is
/// an f32 sum of ≤ 576 terms, and the output takes three more roundings. Measured at d_model 576
/// over 200 rows of values in [−3, 3]: scalar 3.6e-7, simd128 2.0e-7.
const RMS_NORM_TOL: f64 = 2e-6;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn rms_norm_matches_reference() {
    let mut rng = Rng(22);
    let eps = 1e-5f32;
    for imp in implementations() {
        for &rows in &[0usize, 1, 3, 17] {
            for cols in SIZES.iter().copied().chain([576]) {
                let x = rng.uniforms(rows * cols, -3.0, 3.0);
                let gamma = rng.uniforms(cols, -2.0, 2.0);
                let mut out = vec![f32::NAN; rows * cols];
                (imp.rms_norm)(&x, &gamma, &mut out, rows, cols, eps);
                for i in 0..rows {
                    let r = &x[i * cols..(i + 1) * cols];
                    let ms = r.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / cols as f64;
                    for j in 0..cols {
                        let want = r[j] as f64 / (ms + eps as f64).sqrt() * gamma[j] as f64;
                        let got = out[i * cols + j];
                        assert!(
                            (got as f64 - want).abs() <= RMS_NORM_TOL * (1.0 + want.abs()),
                            "{} rms_norm rows={rows} cols={cols}: ({i}, {j}) expected {want}, found {got}",
                            imp.name
                        );
                    }
                }
            }
        }
        // an all-zero row: 0 / √eps = 0, not NaN
        let mut out = [f32::NAN; 3];
        (imp.rms_norm)(&[0.0; 3], &[2.0; 3], &mut out, 1, 3, eps);
        assert_eq!(out, [0.0; 3], "{}: rms_norm of a zero row", imp.name);
    }
}

/// swiglu outputs must be within SWIGLU_TOL·|exact| (+ 1e-37 absolutely, below which f32 loses
/// precision) of g / (1 + e^(−g)) · u in f64: e^(−g) to ≤ 1.2e-7 (simd128) or 1 ulp (libm), then a
/// division and a product. Measured over g in [−30, 30] in steps of 1e-3: scalar 1.7e-7, simd128 1.7e-7.
const SWIGLU_TOL: f64 = 5e-7;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn swiglu_matches_reference() {
    let gs: Vec<f32> =
        (0..=60_000).map(|i| -30.0 + i as f32 * 1e-3).chain([0.0, -0.0, 1e-30, -1e-30, 100.0, -100.0, 200.0, -200.0]).collect();
    let mut rng = Rng(23);
    let us: Vec<f32> = gs.iter().map(|_| rng.uniform(-2.0, 2.0)).collect();
    for imp in implementations() {
        for len in [0usize, 1, 3, 4, 5, 7] {
            let mut g = gs[..len].to_vec();
            (imp.swiglu)(&mut g, &us[..len]);
            let want: Vec<f32> =
                gs[..len].iter().zip(&us).map(|(&g, &u)| (g as f64 / (1.0 + (-g as f64).exp()) * u as f64) as f32).collect();
            for (a, b) in g.iter().zip(&want) {
                assert!((a - b).abs() <= 1e-6 * b.abs().max(1e-30), "{} swiglu len {len}: {g:?} vs {want:?}", imp.name);
            }
        }
        let mut y = gs.clone();
        (imp.swiglu)(&mut y, &us);
        for ((&g, &u), &got) in gs.iter().zip(&us).zip(&y) {
            let want = g as f64 / (1.0 + (-g as f64).exp()) * u as f64;
            assert!(
                (got as f64 - want).abs() <= SWIGLU_TOL * want.abs() + 1e-37,
                "{} swiglu({g}, {u}) expected {want}, found {got}",
                imp.name
            );
        }
        let mut nan = [f32::NAN, 1.0];
        (imp.swiglu)(&mut nan, &[1.0, f32::NAN]);
        assert!(nan[0].is_nan() && nan[1].is_nan(), "{}: NaN in, NaN out", imp.name);
    }
}

// ---------------------------------------------------------------------------------------------

/// In the browser the shipped configuration must really be the simd128 one.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
#[allow(clippy::assertions_on_constants)] // a failing test run, not a compile error, is the report wanted
fn simd128_is_enabled_in_wasm() {
    assert!(cfg!(target_feature = "simd128"), "this wasm32 build has no simd128: .cargo/config.toml must add +simd128");
    assert!(kernels::SIMD128, "the kernel dispatch point does not use the simd128 kernels");
}

/// The softmax with its terms: the same weights bit for bit, each row's true max, and a Σ exp(x − max)
/// within the softmax's relative error of the f64 sum (NaN for a row whose max is not finite), for
/// every implementation, so that the hover arithmetic the page prints is the kernel's own.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn softmax_terms_are_the_kernels_own() {
    type Terms = fn(&mut [f32], usize, usize, bool, &mut [f32], &mut [f32]);
    type Plain = fn(&mut [f32], usize, usize, bool);
    #[allow(unused_mut)]
    let mut all: Vec<(&str, Terms, Plain)> = vec![
        ("dispatched", kernels::softmax_rows_terms, kernels::softmax_rows),
        ("scalar", scalar::softmax_rows_terms, scalar::softmax_rows),
    ];
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    all.push(("simd128", kernels::simd128::softmax_rows_terms, kernels::simd128::softmax_rows));
    let mut rng = Rng(21);
    for (name, terms, plain) in all {
        for &rows in &[0usize, 1, 3, 17] {
            for cols in SIZES {
                for causal in [false, true] {
                    let mut x = rng.uniforms(rows * cols, -8.0, 8.0);
                    if rows * cols > 2 {
                        x[1] = f32::NEG_INFINITY; // a masked-looking entry, exp exactly 0
                    }
                    let (mut w, mut want) = (x.clone(), x.clone());
                    let (mut max, mut sum) = (vec![0.0; rows], vec![0.0; rows]);
                    terms(&mut w, rows, cols, causal, &mut max, &mut sum);
                    plain(&mut want, rows, cols, causal);
                    assert!(
                        w.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{name} {rows}×{cols}: weights differ from softmax_rows"
                    );
                    for i in 0..rows {
                        let live = if causal { (i + 1).min(cols) } else { cols };
                        let row = &x[i * cols..i * cols + live];
                        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        if !m.is_finite() {
                            assert!(sum[i].is_nan(), "{name} {rows}×{cols} row {i}: Σ of a row with max {m} is {}", sum[i]);
                            continue;
                        }
                        assert_eq!(max[i], m, "{name} {rows}×{cols} row {i}: max");
                        let s: f64 = row.iter().map(|&v| (f64::from(v) - f64::from(m)).exp()).sum();
                        let err = (f64::from(sum[i]) - s).abs() / s;
                        assert!(
                            err <= 2.0 * f64::from(SOFTMAX_MAX_REL_ERR),
                            "{name} {rows}×{cols} row {i}: Σ {} vs {s} (relative error {err:e})",
                            sum[i]
                        );
                    }
                }
            }
        }
    }
}
