//! The numbers the lesson draws about each vector's move: `cos_updated` and `cos_output` (how far
//! attention, then the MLP, turned each token's vector), `map.updated` (E + ΔE on the embedding map)
//! and `Engine::compare` (one token in two contexts). Each is checked against its definition,
//! computed here from the trace's own matrices in f64. Natively and in headless Chromium.

use attention_explorer::trace::{Matrix, Options, Trace};
use attention_explorer::Engine;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn engine() -> Engine {
    Engine::builtin().unwrap_or_else(|e| panic!("the built-in model must load: {e}"))
}

fn analyze(e: &Engine, text: &str) -> Trace {
    e.analyze(text, &Options::default()).unwrap_or_else(|err| panic!("analysis of {text:?} failed: {err}"))
}

/// The definition, in f64: a·b / (|a| |b|).
fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
    let na: f64 = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// f32 rounding of a value in [−1, 1] computed in f64, with room for the f32 inputs' own rounding.
const COSINE_TOLERANCE: f64 = 1e-6;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn each_layer_says_how_far_attention_and_the_mlp_turned_every_vector() {
    let e = engine();
    let tr = analyze(&e, "we sat on the river bank and watched the water");
    let t = tr.tokens.len();
    for (l, layer) in tr.layers.iter().enumerate() {
        for (name, m, before, after) in [
            ("cos_updated", &layer.cos_updated, &layer.input, &layer.updated),
            ("cos_output", &layer.cos_output, &layer.updated, &layer.output),
        ] {
            assert_eq!((m.rows, m.cols), (t, 1), "layer {l} {name}: expected shape ({t}, 1)");
            for i in 0..t {
                let want = cosine(before.row(i), after.row(i));
                let got = f64::from(m.at(i, 0));
                assert!((got - want).abs() <= COSINE_TOLERANCE, "layer {l} {name}[{i}]: expected {want}, found {got}");
            }
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_map_places_e_plus_delta_on_the_same_projection_as_e_and_e_prime() {
    let e = engine();
    let tr = analyze(&e, "a fluffy blue creature roamed the verdant forest");
    assert_eq!(tr.map.updated.len(), tr.layers.len());
    for (l, layer) in tr.layers.iter().enumerate() {
        let want: Matrix = e.model.project(&layer.updated);
        assert_eq!(tr.map.updated[l], want, "layer {l}: map.updated is not the projection of layers[{l}].updated");
        // E + ΔE differs from E′ wherever the MLP added something
        if layer.mlp.is_some() {
            assert_ne!(tr.map.updated[l], tr.map.layers[l], "layer {l}: E + ΔE and E′ sit at the same place");
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn compare_gives_the_cosine_of_one_token_in_two_contexts_after_each_sub_step() {
    let e = engine();
    let (a, b) = ("we sat on the river bank and watched the water", "she paid the money into her bank account");
    let (ta, tb) = (analyze(&e, a), analyze(&e, b));
    let find = |tr: &Trace| tr.tokens.iter().position(|t| t.text == " bank").expect("a ' bank' token");
    let (pa, pb) = (find(&ta), find(&tb));
    let c = e.compare([a, b], [pa, pb], &Options::default()).expect("compare");
    assert_eq!(c.positions, [pa, pb]);
    let names: Vec<_> = c.stages.iter().map(|s| (s.name, s.layer)).collect();
    let mut want = vec![("embeddings", None)];
    for l in 0..ta.layers.len() {
        want.extend([("updated", Some(l)), ("output", Some(l))]);
    }
    assert_eq!(names, want);
    let rows = |s: &attention_explorer::trace::Stage| -> (&Matrix, &Matrix) {
        match (s.name, s.layer) {
            ("embeddings", None) => (&ta.embeddings, &tb.embeddings),
            ("updated", Some(l)) => (&ta.layers[l].updated, &tb.layers[l].updated),
            (_, Some(l)) => (&ta.layers[l].output, &tb.layers[l].output),
            other => panic!("unexpected stage {other:?}"),
        }
    };
    for s in &c.stages {
        let (x, y) = rows(s);
        let want = cosine(x.row(pa), y.row(pb));
        assert!((f64::from(s.cosine) - want).abs() <= COSINE_TOLERANCE, "{} {:?}: expected {want}, found {}", s.name, s.layer, s.cosine);
    }
    // the same token and text on both sides: every stage is 1
    let same = e.compare([a, a], [pa, pa], &Options::default()).expect("compare");
    assert!(same.stages.iter().all(|s| (f64::from(s.cosine) - 1.0).abs() <= COSINE_TOLERANCE), "{same:?}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn compare_names_a_position_outside_either_window() {
    let e = engine();
    let t = analyze(&e, "bank account").tokens.len();
    let err = e.compare(["bank account", "river bank"], [t, 0], &Options::default()).expect_err("out of range");
    assert!(err.to_string().contains(&format!("the first position must be a token index below {t}, found {t}")), "{err}");
    let err = e.compare(["bank account", "river bank"], [0, 99], &Options::default()).expect_err("out of range");
    assert!(err.to_string().contains("the second position must be a token index below"), "{err}");
}
