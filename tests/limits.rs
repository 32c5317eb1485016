//! Slow paths from crafted or long input (issue 13, finding 3), natively and in headless Chromium:
//! added tokens are found in one pass whatever their number, their ids and contents are checked at
//! load, and huge texts are cut to `MAX_TEXT_UNITS` before the tokenizer sees them.

use attention_explorer::tokenizer::Tokenizer;
use attention_explorer::trace::Options;
use attention_explorer::{text_tail, Engine, MAX_TEXT_UNITS};
use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const TINY: &[u8] = include_bytes!("fixtures/tiny/tokenizer.json");

/// Milliseconds on a monotonic clock (`performance.now()` in the browser).
fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| js_sys::Reflect::get(&p, &"now".into()).ok().map(|f| (p, f)))
        .and_then(|(p, f)| js_sys::Function::from(f).call0(&p).ok())
        .and_then(|t| t.as_f64())
        .unwrap_or_else(js_sys::Date::now);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
    }
}

/// The error of a tokenizer that must be refused (without printing the whole tokenizer if it loads).
fn refused(r: Result<Tokenizer, attention_explorer::tokenizer::TokenizerError>, what: &str) -> String {
    match r {
        Ok(_) => panic!("{what}: expected the tokenizer to be refused, it loaded"),
        Err(e) => e.to_string(),
    }
}

/// The tiny tokenizer with `n` more added tokens, from `make(i)` → (content, id).
fn with_added(n: usize, make: impl Fn(usize) -> (String, usize)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(TINY).expect("json");
    let list = v["added_tokens"].as_array_mut().expect("added_tokens");
    for i in 0..n {
        let (content, id) = make(i);
        list.push(json!({"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}));
    }
    v.to_string().into_bytes()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn two_hundred_thousand_added_tokens_with_one_id_are_refused() {
    let file = with_added(200_000, |i| (format!("<t{i}>"), 0));
    let message = refused(Tokenizer::from_json(&file), "200,000 added tokens with id 0");
    assert_eq!(message, "added_tokens[1] \"<t0>\": expected a unique id, found id 0 already used by added_tokens[0]");
    let twice = with_added(2, |i| ("<same>".to_string(), 360 + i));
    let message = refused(Tokenizer::from_json(&twice), "a repeated content");
    assert_eq!(message, "added_tokens[2]: expected each content once, found \"<same>\" already in added_tokens[1]");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn two_hundred_thousand_added_tokens_are_matched_in_one_pass() {
    // each keystroke took ~1 s: every position of the text was compared with every added token
    let n = 200_000;
    let tok = Tokenizer::from_json(&with_added(n, |i| (format!("<tok{i}>"), 360 + i))).expect("loads");
    assert_eq!(tok.vocab_size(), 360 + n);
    let sentence = "the cat <tok17> sat on <tok199999> the <tok mat <|endoftext|> and <tok1234>x. ";
    let text = sentence.repeat(4000 / sentence.len() + 1);
    let start = now_ms();
    let ids = tok.encode_ids(&text);
    let elapsed = now_ms() - start;
    for (content, id) in [("<tok17>", 377usize), ("<tok199999>", 360 + 199_999), ("<tok1234>", 360 + 1234), ("<|endoftext|>", 0)] {
        assert_eq!(tok.id_of(content).map(|x| x as usize), Some(id));
        assert_eq!(ids.iter().filter(|&&x| x as usize == id).count(), text.matches(content).count(), "{content}");
    }
    assert_eq!(tok.decode(&ids), text);
    // the scan it replaces compared 4,000 positions with 200,000 tokens: seconds, not milliseconds
    assert!(elapsed < 250.0, "encoding {} bytes took {elapsed:.0} ms", text.len());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_huge_text_is_cut_before_it_is_tokenized() {
    let e = Engine::builtin().expect("the built-in model");
    for (what, text) in [("2²⁰ newlines", "\n".repeat(1 << 20)), ("500,000 U+FFFD (lone surrogates from JS)", "\u{FFFD}".repeat(500_000))]
    {
        let units = text.encode_utf16().count();
        let start = now_ms();
        let trace = e.analyze(&text, &Options::default()).expect("analysis");
        let elapsed = now_ms() - start;
        assert_eq!(trace.text_cut, units - MAX_TEXT_UNITS, "{what}");
        let notice = trace.notice.as_deref().unwrap_or_default();
        assert!(notice.contains("only its last 65,536 were read"), "{what}: {notice}");
        assert_eq!(trace.tokens.last().map(|t| t.end), Some(units), "{what}: offsets index the whole text");
        assert!(trace.tokens.iter().all(|t| t.start >= trace.text_cut), "{what}");
        assert_eq!(e.count_tokens(&text), e.count_tokens(text_tail(&text).0), "{what}");
        assert!(elapsed < 2_000.0, "{what}: {elapsed:.0} ms");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_text_tail_never_splits_a_char_and_counts_utf16_units() {
    let short = "héllo 🦊";
    assert_eq!(text_tail(short), (short, 0));
    // 🦊 is 4 bytes and 2 UTF-16 units: a tail of MAX units cannot start inside it
    let text = format!("ab{}", "🦊".repeat(MAX_TEXT_UNITS / 2 + 1));
    let (tail, cut) = text_tail(&text);
    assert_eq!(tail.encode_utf16().count(), MAX_TEXT_UNITS);
    assert_eq!(cut, 2 + 2, "\"ab\" and one fox are cut");
    assert!(tail.starts_with('🦊'));
    let exact = "x".repeat(MAX_TEXT_UNITS);
    assert_eq!(text_tail(&exact), (exact.as_str(), 0));
}
