//! Cases found by fuzzing (`./build.sh fuzz`, targets in `fuzz/`), pinned as ordinary tests that run
//! natively and in headless Chromium; each test is named after the target that found it.
//!
//! `model_shapes` builds weights files that are valid but extreme (values up to ±3.0e38, LayerNorm ε up
//! to 1e30, all zeros) or degenerate in shape (one head, d_head 1, context 1, one layer, no MLP). Every
//! value is finite, so the reader accepts them; it found that the forward pass then overflowed into NaN
//! attention weights and NaN probabilities, which the page drew as a grid of NaN. Now such a model is
//! refused at load with a message, an analysis that overflows anyway is an error that says where, and a
//! model that loads always gives rows of weights summing to 1 and a finite distribution.

use attention_explorer::model::{AnalyzeError, Config, Positions};
use attention_explorer::trace::{Options, Trace};
use attention_explorer::{weights, Engine};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const TOKENIZER: &[u8] = include_bytes!("fixtures/tiny/tokenizer.json");
const TOKENIZER_VOCAB: usize = 360;

/// How the tensors are filled.
#[derive(Clone, Copy, Debug)]
enum Fill {
    /// Pseudo-random in [-big, big).
    Spread(f32),
    /// +big, -big, +big, … (overflows every dot product).
    Alternating(f32),
    /// Every value 0 (LayerNorm of a constant row, all-equal scores).
    Zeros,
}

fn value(fill: Fill, name: &str, i: usize) -> f32 {
    let h = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(name.len() as u32 * 40_503);
    let unit = ((h >> 8) as f32 / (1u32 << 24) as f32) * 2.0 - 1.0;
    match fill {
        Fill::Spread(big) => unit * big,
        Fill::Alternating(big) => {
            if i.is_multiple_of(2) {
                big
            } else {
                -big
            }
        }
        Fill::Zeros => 0.0,
    }
}

/// A valid F32 safetensors file for `c`, laid out as `model/FORMAT.md` says.
fn weights_file(c: &Config, fill: Fill) -> Vec<u8> {
    let config = format!(
        "{{\"vocab_size\":{},\"d_model\":{},\"n_layers\":{},\"n_heads\":{},\"d_head\":{},\"d_mlp\":{},\"context\":{},\"ln_eps\":{:e}}}",
        c.vocab_size, c.d_model, c.n_layers, c.n_heads, c.d_head, c.d_mlp, c.context, c.ln_eps
    );
    let mut header = format!(
        "{{\"__metadata__\":{{\"format\":\"attention-explorer/1\",\"name\":\"regression\",\"config\":{}}}",
        serde_json::to_string(&config).expect("a string serialises")
    );
    let mut data = Vec::new();
    for (name, shape) in weights::required_tensors(c) {
        let begin = data.len();
        for i in 0..shape.iter().product::<usize>() {
            data.extend_from_slice(&value(fill, &name, i).to_le_bytes());
        }
        header.push_str(&format!(",\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape:?},\"data_offsets\":[{begin},{}]}}", data.len()));
    }
    header.push('}');
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

fn config(n_heads: usize, d_head: usize, n_layers: usize, d_mlp: usize, context: usize, ln_eps: f32) -> Config {
    Config {
        vocab_size: TOKENIZER_VOCAB,
        d_model: n_heads * d_head,
        n_layers,
        n_heads,
        d_head,
        d_mlp,
        context,
        ln_eps,
        positions: Positions::Learned,
        bos_id: None,
    }
}

/// Rows of weights are distributions, the prediction is a finite distribution.
fn assert_well_formed(t: &Trace, what: &str) {
    let n = t.tokens.len();
    for (l, layer) in t.layers.iter().enumerate() {
        for (hd, h) in layer.heads.iter().enumerate() {
            for q in 0..n {
                let row = h.weights.row(q);
                let sum: f32 = row.iter().sum();
                assert!(
                    row.iter().all(|w| w.is_finite() && *w >= 0.0) && (sum - 1.0).abs() < 1e-3,
                    "{what}: layer {l} head {hd} row {q}: expected a distribution, found {row:?} (sum {sum})"
                );
            }
        }
    }
    let probs = &t.predict.probs.data;
    let total: f32 = probs.iter().sum();
    assert!(
        probs.iter().all(|p| p.is_finite() && *p >= 0.0) && (total - 1.0).abs() < 1e-3,
        "{what}: expected finite probabilities summing to 1, found sum {total} (first {:?})",
        &probs[..probs.len().min(8)]
    );
}

const TEXTS: [&str; 4] = ["the cat sat on the mat", "a", "👩‍👩‍👧 e\u{301} שלום \u{0}", "<|endoftext|>x<|endoftext|>"];

/// What a model built with a fill must do.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Load, and analyse every text into a well-formed trace.
    WellFormed,
    /// Be refused at load, with a message saying its values overflow.
    Refused,
    /// Either of the above; an analysis may also be refused as an overflow, but never return NaN.
    Either,
}

fn check(c: &Config, fill: Fill, expect: Expect) {
    let what = format!("{c:?}, {fill:?}");
    let engine = match Engine::load(&weights_file(c, fill), TOKENIZER) {
        Err(e) => {
            assert_ne!(expect, Expect::WellFormed, "{what}: refused: {e}");
            let m = e.to_string();
            assert!(
                m.starts_with("the weights file cannot be used: expected values that 32-bit floats can compute with, found ")
                    && (m.contains("NaN") || m.contains("inf")),
                "{what}: the message does not say the values overflow: {m}"
            );
            return;
        }
        Ok(engine) => engine,
    };
    assert_ne!(expect, Expect::Refused, "{what}: a model whose arithmetic overflows was accepted");
    for text in TEXTS {
        for neighbours in [false, true] {
            let what = format!("{what}, {text:?}");
            match engine.analyze(text, &Options { neighbours, ..Options::default() }) {
                Ok(t) => assert_well_formed(&t, &what),
                Err(AnalyzeError::Overflow(m)) if expect == Expect::Either => assert!(m.contains(" in "), "{what}: {m}"),
                Err(e) => panic!("{what}: analysis refused: {e}"),
            }
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn model_shapes_extreme_values_are_refused_not_drawn_as_nan() {
    // found by the model_shapes target: values near f32::MAX are finite, so the reader accepted them,
    // and the forward pass overflowed into NaN weights and NaN probabilities
    let c = config(2, 4, 2, 8, 8, 1e-5);
    check(&c, Fill::Spread(3.0e38), Expect::Refused);
    check(&c, Fill::Alternating(3.0e38), Expect::Refused);
    check(&c, Fill::Spread(1e18), Expect::Either);
    check(&c, Fill::Alternating(1e3), Expect::Either);
    check(&c, Fill::Spread(1.0), Expect::WellFormed);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn model_shapes_all_zero_weights_give_uniform_attention() {
    let c = config(2, 3, 1, 0, 6, 1e-5);
    check(&c, Fill::Zeros, Expect::WellFormed);
    let engine = Engine::load(&weights_file(&c, Fill::Zeros), TOKENIZER).expect("a zero model loads");
    let t = engine.analyze("one two three", &Options::default()).expect("analyses");
    let n = t.tokens.len();
    // zero scores: each query attends equally to itself and the keys before it
    for q in 0..n {
        let row = t.layers[0].heads[0].weights.row(q);
        for (k, w) in row.iter().enumerate() {
            let want = if k <= q { 1.0 / (q + 1) as f32 } else { 0.0 };
            assert!((w - want).abs() < 1e-6, "row {q}, key {k}: expected {want}, found {w}");
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn model_shapes_degenerate_dimensions() {
    for c in [
        config(1, 1, 1, 0, 1, 1e-5), // one head of width 1, a context of one token
        config(4, 1, 3, 1, 12, 1e-12),
        config(1, 6, 1, 3, 2, 1.0),
        config(3, 2, 2, 0, 5, 1e30), // ε so large that LayerNorm flattens everything
    ] {
        check(&c, Fill::Spread(1.0), Expect::WellFormed);
        check(&c, Fill::Alternating(3.0e38), Expect::Either);
    }
}
