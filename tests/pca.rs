//! The embedding map's projection against NumPy: for each tiny test model, the mean embedding row and
//! the two principal axes the engine finds (`Model::new` → `Projection`) against the SVD of the same
//! table in float64 (`tests/reference/pca.py` → `tests/fixtures/tiny/pca.json`), natively and in
//! headless Chromium.
//!
//! These random tables are the hard case for an iterative method: their leading singular values are
//! close (6.64, 6.46, 6.33 for model.safetensors), so each power step shrinks the error only by
//! (σ₂/σ₁)² ≈ 0.95; a fixed 200 steps left the rope model's first axis 2·10⁻³ off.

use attention_explorer::model::Model;
use attention_explorer::weights;
use serde_json::Value;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const PCA: &str = include_str!("fixtures/tiny/pca.json");
const MODELS: [(&str, &[u8]); 3] = [
    ("model.safetensors", include_bytes!("fixtures/tiny/model.safetensors")),
    ("attn_only.safetensors", include_bytes!("fixtures/tiny/attn_only.safetensors")),
    ("rope.safetensors", include_bytes!("fixtures/tiny/rope.safetensors")),
];

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

/// How far each engine axis may be from NumPy's, per entry. The engine's axes are eigenvectors of the
/// f32 product Xcᵀ·Xc (Xc the centred table), whose eigenvalues are σ². By Davis–Kahan an error E in
/// that matrix turns an eigenvector by at most ‖E‖ / gap; each entry is a sum of `rows` f32 products,
/// so ‖E‖ ≤ rows · u · σ₁² (u = 2⁻²⁴, the unit roundoff); the gap of axis 1 is σ₁² − σ₂², of axis 2
/// the smaller of σ₁² − σ₂² and σ₂² − σ₃².
fn tolerances(sigma: &[f64], rows: f64) -> [f64; 2] {
    let s2: Vec<f64> = sigma.iter().map(|s| s * s).collect();
    let noise = rows * f64::from(f32::EPSILON) / 2.0 * s2[0];
    [noise / (s2[0] - s2[1]), noise / (s2[0] - s2[1]).min(s2[1] - s2[2])]
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_embedding_map_axes_match_numpy_svd() {
    let reference: Value = serde_json::from_str(PCA).expect("pca.json is JSON");
    for (name, bytes) in MODELS {
        let want = &reference[name];
        let model = Model::new(weights::load(bytes).unwrap_or_else(|e| panic!("{name}: {e}")));
        let p = &model.projection;
        let d = model.config().d_model;
        let rows = want["rows"].as_f64().expect("rows");
        let table = &model.weights.tok_emb;
        for (j, (&got, want)) in p.mean.iter().zip(numbers(&want["mean"])).enumerate() {
            // an f32 sum of `rows` values errs by at most (rows − 1) · u · Σ|x|; the division adds u·|mean|
            let abs_sum: f64 = table.chunks_exact(d).map(|row| f64::from(row[j].abs())).sum();
            let u = f64::from(f32::EPSILON) / 2.0;
            let tol = (rows - 1.0) * u * abs_sum / rows + u * want.abs();
            assert!((f64::from(got) - want).abs() <= tol, "{name}: mean[{j}] = {got}, NumPy {want}, bound {tol:.2e}");
        }
        let tol = tolerances(&numbers(&want["singular_values"]), rows);
        let axes = want["axes"].as_array().expect("two axes");
        for (a, want) in axes.iter().map(numbers).enumerate() {
            let got = &p.axes[a * d..(a + 1) * d];
            let worst = got.iter().zip(&want).map(|(&g, w)| (f64::from(g) - w).abs()).fold(0.0, f64::max);
            assert!(worst <= tol[a], "{name}: axis {a} is {worst:.2e} off NumPy's in some entry; the bound is {:.2e}", tol[a]);
        }
    }
}
