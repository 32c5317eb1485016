//! The forward pass against golden vectors from an independent implementation: the NumPy reference
//! (`tests/reference/reference.py`) for the tiny seeded models, the trainer's JAX forward pass for the
//! shipped model. Runs natively and in headless Chromium (simd128 kernels).
//!
//! Tolerance: `|ours − golden| ≤ tol · max(1, |golden|)`, with `tol` read from the golden file (1e-4).

use attention_explorer::model::{Model, Weights};
use attention_explorer::tokenizer::Tokenizer;
use attention_explorer::trace::{Matrix, Options};
use attention_explorer::weights;
use serde_json::Value;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Flattens a JSON array of any nesting into f32s.
fn flat(v: &Value, out: &mut Vec<f32>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flat(x, out)),
        Value::Number(n) => out.push(n.as_f64().expect("a number") as f32),
        other => panic!("expected numbers in the golden file, found {other}"),
    }
}

/// Asserts `ours` matches the golden array `want` (same element count) within the tolerance.
fn check(what: &str, ours: &[f32], want: &Value, tol: f32) {
    let mut w = Vec::new();
    flat(want, &mut w);
    assert_eq!(ours.len(), w.len(), "{what}: expected {} values, computed {}", w.len(), ours.len());
    for (i, (a, b)) in ours.iter().zip(&w).enumerate() {
        let err = (a - b).abs();
        assert!(err <= tol * b.abs().max(1.0), "{what}[{i}]: golden {b}, computed {a} (error {err}, tolerance {tol})");
    }
}

fn concat(ms: impl Iterator<Item = Matrix>) -> Vec<f32> {
    ms.flat_map(|m| m.data).collect()
}

/// Runs every golden case through the model and compares every intermediate.
fn check_golden(model_bytes: &[u8], golden: &str, tokenizer: Option<&Tokenizer>) -> usize {
    let w: Weights = weights::load(model_bytes).unwrap_or_else(|e| panic!("the model must load: {e}"));
    let model = Model::new(w);
    let golden: Value = serde_json::from_str(golden).expect("golden.json is JSON");
    let tol = golden["tolerance"].as_f64().expect("a tolerance") as f32;
    let cases = golden["cases"].as_array().expect("cases");
    assert!(cases.len() >= 5, "expected at least 5 golden cases, found {}", cases.len());
    for case in cases {
        let text = case["text"].as_str().expect("text");
        let ids: Vec<u32> = case["ids"].as_array().expect("ids").iter().map(|v| v.as_u64().expect("id") as u32).collect();
        if let Some(tok) = tokenizer {
            assert_eq!(tok.encode_ids(text), ids, "token ids of {text:?}");
        }
        let fwd = model.forward(&ids, &Options::default());
        let t = ids.len();
        check(&format!("{text:?} embeddings"), &fwd.embeddings.data, &case["embeddings"], tol);
        let layers = case["layers"].as_array().expect("layers");
        assert_eq!(layers.len(), fwd.layers.len());
        for (l, (ours, want)) in fwd.layers.iter().zip(layers).enumerate() {
            let at = |name: &str| format!("{text:?} layer {l} {name}");
            check(&at("normed"), &ours.normed.data, &want["normed"], tol);
            let heads = || ours.heads.iter();
            check(&at("queries"), &concat(heads().map(|h| h.queries.clone())), &want["queries"], tol);
            check(&at("keys"), &concat(heads().map(|h| h.keys.clone())), &want["keys"], tol);
            check(&at("values"), &concat(heads().map(|h| h.values.clone())), &want["values"], tol);
            check(&at("scores"), &concat(heads().map(|h| h.scores.clone())), &want["scores"], tol);
            check(&at("scaled"), &concat(heads().map(|h| h.scaled.clone())), &want["scaled"], tol);
            check(&at("weights"), &concat(heads().map(|h| h.weights.clone())), &want["weights"], tol);
            check(&at("mixed"), &concat(heads().map(|h| h.mixed.clone())), &want["mixed"], tol);
            check(&at("delta"), &ours.delta.data, &want["delta"], tol);
            check(&at("updated"), &ours.updated.data, &want["updated"], tol);
            match (&ours.mlp, &want["mlp_out"]) {
                (Some(m), w) if !w.is_null() => check(&at("mlp_out"), &m.out.data, w, tol),
                (None, Value::Null) => {}
                (ours, _) => panic!("{}: the MLP is present on one side only (ours: {})", at("mlp_out"), ours.is_some()),
            }
            check(&at("output"), &ours.output.data, &want["output"], tol);
            for h in heads() {
                for i in 0..t {
                    for j in 0..t {
                        let m = h.masked.at(i, j);
                        if j > i {
                            assert_eq!(m, f32::NEG_INFINITY, "{}: masked[{i}][{j}] above the diagonal", at("masked"));
                            assert_eq!(h.weights.at(i, j), 0.0, "{}: weights[{i}][{j}] above the diagonal", at("weights"));
                        } else {
                            assert_eq!(m, h.scaled.at(i, j), "{}: masked[{i}][{j}] on or below the diagonal", at("masked"));
                        }
                    }
                }
            }
        }
        let last = fwd.layers.last().map_or(&fwd.embeddings, |l| &l.output);
        let p = model.predict(last.row(t - 1), t - 1, 1.0, 10);
        check(&format!("{text:?} logits_last"), &p.logits.data, &case["logits_last"], tol);
        check(&format!("{text:?} probs_last"), &p.probs.data, &case["probs_last"], tol);
    }
    cases.len()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn tiny_model_matches_numpy_reference() {
    let tok = Tokenizer::from_json(include_bytes!("fixtures/tiny/tokenizer.json")).expect("tiny tokenizer");
    let n = check_golden(include_bytes!("fixtures/tiny/model.safetensors"), include_str!("fixtures/tiny/golden.json"), Some(&tok));
    assert!(n >= 5);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn tiny_attention_only_model_matches_numpy_reference() {
    let n = check_golden(include_bytes!("fixtures/tiny/attn_only.safetensors"), include_str!("fixtures/tiny/golden_attn_only.json"), None);
    assert!(n >= 5);
}

#[cfg(feature = "builtin-model")]
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn builtin_model_matches_its_reference() {
    let tok = Tokenizer::from_json(attention_explorer::BUILTIN_TOKENIZER).expect("shipped tokenizer");
    let n = check_golden(attention_explorer::BUILTIN_WEIGHTS, include_str!(concat!(env!("BUILTIN_MODEL_DIR"), "/golden.json")), Some(&tok));
    assert!(n >= 5);
}
