//! The Llama family on the tiny Llama (tests/fixtures/gguf/tiny-llama.gguf: 2 layers, 2 query heads
//! sharing 1 key/value head, Q4_1/Q4_0/Q8_0 weights, F32 and F16 norms) against the float64 NumPy
//! reference's golden file (tests/fixtures/gguf/tiny-llama.golden.json, written by
//! `tests/reference/gguf_reference.py --layers 0,1 tests/fixtures/gguf/tiny-llama.gguf OUT TEXT…`),
//! natively and in Chromium; and what the engine promises beside the numbers.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod support;

use attention_explorer::budget;
use attention_explorer::gguf::llama::LlamaConfig;
use attention_explorer::llm::{Llm, STEPS};
use attention_explorer::model::AnalyzeError;
use attention_explorer::trace::Options;
use support::llama_golden::{assert_within, compare};

const TINY: &[u8] = include_bytes!("fixtures/gguf/tiny-llama.gguf");
const GOLDEN: &str = include_str!("fixtures/gguf/tiny-llama.golden.json");

fn tiny() -> Llm {
    Llm::load(TINY.to_vec(), None).expect("the tiny Llama loads")
}

/// Every intermediate within 1e-4 of each matrix's scale (measured: at most 2.3e-5; the reference is
/// float64, rounded to f32 when written).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_tiny_llama_matches_the_float64_reference() {
    let golden: serde_json::Value = serde_json::from_str(GOLDEN).expect("golden json");
    let mut llm = tiny();
    assert_within(&compare(&mut llm, &golden), 1e-4, "tiny Llama");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_summary_has_every_head_and_the_view_every_step() {
    let mut llm = tiny();
    assert!(llm.view(0, 0, "weights").unwrap_err().contains("there is no analysis to view"));
    let s = llm.analyze("ab abc de ab abc de", &Options::default()).expect("analysis");
    let t = s.tokens.len();
    assert_eq!(s.heads.len(), 2 * 2);
    assert_eq!((s.heads[3].layer, s.heads[3].head, s.heads[3].kv_head), (1, 1, 0));
    for h in &s.heads {
        assert_eq!((h.thumbnail.rows, h.thumbnail.cols), (t.min(24), t.min(24)));
        let fractions = [h.prev, h.self_, h.start, h.duplicate, h.induction];
        assert!(fractions.iter().all(|x| x.is_some_and(|v| (0.0..=1.0 + 1e-6).contains(&v))), "{h:?}");
    }
    assert_eq!(s.trace_bytes as u64, budget::llama_cost(&llm.model.config, t as u64).expect("a cost").trace_bytes);
    for step in STEPS {
        let v = llm.view(1, 1, step).unwrap_or_else(|e| panic!("{step}: {e}"));
        assert!(!v.matrices.is_empty(), "{step}");
        assert_eq!(v.top.is_some(), step == "predict");
    }
    let w = llm.view(1, 1, "weights").expect("weights");
    let a = llm.last().expect("analysis");
    assert_eq!(*w.matrices["weights"], a.trace.layers[1].heads[1].weights);
    // a head's share of ΔE: the shares of all heads add up to the layer's ΔE
    let shares: Vec<_> = (0..2).map(|h| llm.view(0, h, "delta").expect("delta").matrices["delta"].clone().into_owned()).collect();
    let layer = &a.trace.layers[0].delta;
    for (i, want) in layer.data.iter().enumerate() {
        let got = shares[0].data[i] + shares[1].data[i];
        assert!((got - want).abs() <= 1e-4 * want.abs().max(1.0), "element {i}: {got} vs {want}");
    }
    let err = |l, h, step| llm.view(l, h, step).unwrap_err();
    assert_eq!(err(2, 0, "weights"), "layer 2, head 0 does not exist: the model has layers 0..2 and heads 0..2");
    assert!(err(0, 2, "weights").contains("layer 0, head 2 does not exist"));
    assert!(err(0, 0, "nope").starts_with("unknown step `nope`: expected one of embed, queries"));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_switched_off_head_contributes_nothing() {
    let mut llm = tiny();
    let on = llm.analyze("ab abc", &Options::default()).expect("analysis");
    let o = Options { disabled_heads: vec![(0, 0), (0, 1)], ..Options::default() };
    let off = llm.analyze("ab abc", &o).expect("analysis");
    let a = llm.last().expect("analysis");
    assert!(a.trace.layers[0].delta.data.iter().all(|&v| v == 0.0), "layer 0's ΔE with both heads off");
    assert_eq!(a.trace.layers[0].updated, a.trace.embeddings);
    assert!(llm.view(0, 0, "delta").expect("delta").matrices["delta"].data.iter().all(|&v| v == 0.0));
    assert_ne!(on.predict.top[0].logit, off.predict.top[0].logit);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bad_requests_keep_the_previous_analysis() {
    let mut llm = tiny();
    llm.analyze("ab", &Options::default()).expect("analysis");
    assert_eq!(llm.analyze("", &Options::default()).unwrap_err(), AnalyzeError::Empty);
    let neighbours = Options { neighbours: true, ..Options::default() };
    assert!(llm.analyze("ab", &neighbours).unwrap_err().to_string().contains("`neighbours` is not offered for a large model"));
    assert_eq!(llm.last().expect("still there").ids, vec![259]);
}

/// `predict_position` past the tokens analysed means the last token, as in the tiny engine (a
/// widget's position survives a shorter text).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_prediction_position_past_the_text_is_the_last_token() {
    let mut llm = tiny();
    let last = llm.analyze("ab", &Options::default()).expect("analysis");
    let far = llm.analyze("ab", &Options { predict_position: Some(5), ..Options::default() }).expect("analysis");
    assert_eq!(far.predict.position, last.predict.position);
    assert_eq!(far.predict.top[0].id, last.predict.top[0].id);
}

/// SmolLM2's shape: 64 tokens fit the large-model budget (the brief's floor), and the numbers
/// budget.rs's doc comment quotes are these.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn smollm2_fits_the_large_model_budget() {
    let c = LlamaConfig {
        n_layers: 30,
        d_model: 576,
        n_heads: 9,
        n_kv_heads: 3,
        d_head: 64,
        d_mlp: 1536,
        vocab_size: 49152,
        context: 8192,
        rope_base: 1e5,
        rms_eps: 1e-5,
    };
    let k = budget::llama_cost(&c, 64).expect("a cost");
    assert!(k.trace_bytes <= budget::LARGE.trace_bytes && k.peak_bytes <= budget::LARGE.peak_bytes && k.work <= budget::LARGE.work);
    assert_eq!((k.trace_bytes >> 20, k.work / 100_000_000), (71, 69), "{k:?}");
    assert_eq!(budget::llama_window(&c), 81);
    let why = budget::llama_over_budget(&c, 82);
    assert!(why.starts_with("this model's trace for 82 tokens would need 97.3 MB; the limit is 96 MB"), "{why}");
}

/// A file above the limit is refused before it is parsed (natively only: 1 GiB of wasm memory is
/// not for a test).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn files_above_the_limit_are_refused_by_size() {
    let too_big = vec![0u8; attention_explorer::llm::MAX_FILE_BYTES + 1];
    let e = Llm::load(too_big, None).unwrap_err().to_string();
    assert_eq!(e, "the weights file cannot be used: expected a GGUF file of at most 1,073,741,824 bytes (1 GB), found 1,073,741,825 bytes");
}
