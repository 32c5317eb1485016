//! SmolLM2-135M (models/smollm2-135m.Q4_1.gguf, fetched by `./build.sh setup`) against the float64
//! NumPy reference's golden file tests/fixtures/smollm2/golden.json (3 sentences; layers 0, 1, 15
//! and 29; every intermediate; the last position's probabilities), to ≤ 1e-3 of each matrix's
//! scale (tests/support/llama_golden.rs says why that measure). Skipped, with a note, without the file.
//! In Chromium: tests/web_llm.rs.

mod support;

use attention_explorer::llm::Llm;
use support::llama_golden::{assert_within, compare};

const GOLDEN: &str = include_str!("fixtures/smollm2/golden.json");

fn smollm2() -> Option<Vec<u8>> {
    let path =
        std::env::var("SMOLLM2_GGUF").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/models/smollm2-135m.Q4_1.gguf").to_string());
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(_) => {
            println!("skipped: no SmolLM2 GGUF at {path} (./build.sh setup fetches it; or set SMOLLM2_GGUF)");
            None
        }
    }
}

#[test]
fn smollm2_matches_the_float64_reference() {
    let Some(bytes) = smollm2() else { return };
    let mut llm = Llm::load(bytes, None).expect("SmolLM2 loads");
    let golden: serde_json::Value = serde_json::from_str(GOLDEN).expect("golden.json");
    let worst = compare(&mut llm, &golden);
    assert_within(&worst, 1e-3, "SmolLM2");
}

#[test]
fn the_capital_of_france_is_paris() {
    let Some(bytes) = smollm2() else { return };
    let mut llm = Llm::load(bytes, None).expect("SmolLM2 loads");
    let s = llm.analyze("The capital of France is", &Default::default()).expect("analysis");
    assert_eq!(s.predict.top[0].text, " Paris");
    assert!(s.predict.top[0].prob > 0.7, "{:?}", s.predict.top[0]);
}

const PARITY: &str = include_str!("fixtures/smollm2/tokenizer.json");

/// The tokenizer built from the file's metadata gives the Python `tokenizers` library's ids (built
/// from the same lists, tests/reference/gguf_reference.py --tokenize) for 200 varied texts: digits,
/// contractions, whitespace runs, scripts, emoji, code, special tokens, bytes the vocabulary lacks.
#[test]
fn smollm2_tokenizer_matches_the_library() {
    let Some(bytes) = smollm2() else { return };
    let llm = Llm::load(bytes, None).expect("SmolLM2 loads");
    let parity: serde_json::Value = serde_json::from_str(PARITY).expect("tokenizer.json");
    let texts = parity["texts"].as_array().expect("texts");
    let ids = parity["ids"].as_array().expect("ids");
    assert_eq!(texts.len(), 200);
    for (text, want) in texts.iter().zip(ids) {
        let text = text.as_str().expect("a text");
        let want: Vec<u32> = want.as_array().expect("ids").iter().map(|v| v.as_u64().expect("an id") as u32).collect();
        assert_eq!(llm.tokenizer.encode_ids(text), want, "{text:?}");
    }
}
