//! The forward pass against golden vectors from an independent implementation: the NumPy reference
//! (`tests/reference/reference.py`) for the tiny seeded models, the trainer's JAX forward pass for the
//! shipped model. Runs natively and in headless Chromium (simd128 kernels).
//!
//! Each case goes through the engine as a user's text does: its ids (the start token first, for a model
//! with one) must be the golden ids, then every intermediate must match, the rotated queries and keys
//! of a rotary model included.
//!
//! Tolerance: `|ours − golden| ≤ tol · max(1, |golden|)`, with `tol` read from the golden file (1e-4).

use attention_explorer::model::Positions;
use attention_explorer::trace::{HeadTrace, Matrix, Options};
use attention_explorer::Engine;
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

/// Picks a head's rotated queries or keys.
type Pick = fn(&HeadTrace) -> &Option<Matrix>;

/// The rotated queries or keys of every head, concatenated, or None if the model does not rotate.
fn rotated(heads: &[HeadTrace], pick: Pick) -> Option<Vec<f32>> {
    heads.iter().map(|h| pick(h).clone()).collect::<Option<Vec<Matrix>>>().map(|ms| concat(ms.into_iter()))
}

/// Runs every golden case through the engine (tokenizer, start token, forward pass, prediction) and
/// compares the ids and every intermediate.
fn check_golden(model_bytes: &[u8], tokenizer: &[u8], golden: &str) -> usize {
    let engine = Engine::load(model_bytes, tokenizer).unwrap_or_else(|e| panic!("the model must load: {e}"));
    let rope = matches!(engine.model.config().positions, Positions::Rotary { .. });
    let bos = engine.model.config().bos_id;
    let golden: Value = serde_json::from_str(golden).expect("golden.json is JSON");
    let tol = golden["tolerance"].as_f64().expect("a tolerance") as f32;
    let cases = golden["cases"].as_array().expect("cases");
    assert!(cases.len() >= 5, "expected at least 5 golden cases, found {}", cases.len());
    for case in cases {
        let text = case["text"].as_str().expect("text");
        let ids: Vec<u32> = case["ids"].as_array().expect("ids").iter().map(|v| v.as_u64().expect("id") as u32).collect();
        let fwd = engine.analyze(text, &Options::default()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let ours: Vec<u32> = fwd.tokens.iter().map(|tok| tok.id).collect();
        assert_eq!(ours, ids, "token ids of {text:?}, the start token included");
        assert_eq!(fwd.dropped_tokens, 0, "{text:?} fits the context");
        if let Some(bos) = bos {
            assert!(fwd.tokens[0].id == bos && fwd.tokens[0].special, "{text:?} starts with the start token");
        }
        assert_eq!(fwd.position_embeddings.is_none(), rope, "{text:?}: a position table exactly with learned positions");
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
            let picks: [(&str, Pick); 2] = [("rotated_queries", |h| &h.rotated_queries), ("rotated_keys", |h| &h.rotated_keys)];
            for (name, pick) in picks {
                match (rotated(&ours.heads, pick), want.get(name)) {
                    (Some(r), Some(w)) => check(&at(name), &r, w, tol),
                    (None, None) => {}
                    (r, _) => panic!("{}: present on one side only (ours: {})", at(name), r.is_some()),
                }
                assert_eq!(want.get(name).is_some(), rope, "{}: in the golden file exactly for a rotary model", at(name));
            }
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
        let p = &fwd.predict;
        assert_eq!((p.position, p.temperature), (t - 1, 1.0));
        check(&format!("{text:?} logits_last"), &p.logits.data, &case["logits_last"], tol);
        check(&format!("{text:?} probs_last"), &p.probs.data, &case["probs_last"], tol);
    }
    cases.len()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn tiny_model_matches_numpy_reference() {
    let n = check_golden(include_bytes!("fixtures/tiny/model.safetensors"), TINY_TOKENIZER, include_str!("fixtures/tiny/golden.json"));
    assert!(n >= 5);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn tiny_attention_only_model_matches_numpy_reference() {
    let n = check_golden(
        include_bytes!("fixtures/tiny/attn_only.safetensors"),
        TINY_TOKENIZER,
        include_str!("fixtures/tiny/golden_attn_only.json"),
    );
    assert!(n >= 5);
}

/// Rotary positions and the start token: the reference's ids begin with bos_id, its layers carry
/// rotated_queries and rotated_keys.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn tiny_rotary_model_with_a_start_token_matches_numpy_reference() {
    let n = check_golden(include_bytes!("fixtures/tiny/rope.safetensors"), TINY_TOKENIZER, include_str!("fixtures/tiny/golden_rope.json"));
    assert!(n >= 5);
}

const TINY_TOKENIZER: &[u8] = include_bytes!("fixtures/tiny/tokenizer.json");

#[cfg(feature = "builtin-model")]
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn builtin_model_matches_its_reference() {
    let golden = include_str!(concat!(env!("BUILTIN_MODEL_DIR"), "/golden.json"));
    let n = check_golden(attention_explorer::BUILTIN_WEIGHTS, attention_explorer::BUILTIN_TOKENIZER, golden);
    assert!(n >= 5);
}
