//! `Tokenizer::from_vocab`: the tokenizer from token and merge lists (a GGUF file's metadata). Expected
//! ids are the Python `tokenizers` library's for the same lists (built as tests/reference/
//! gguf_reference.py builds SmolLM2's); SmolLM2's own 200-text parity is in tests/llm_golden.rs.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use attention_explorer::tokenizer::Tokenizer;

/// GPT-2's byte-level char for each byte.
fn alphabet() -> Vec<String> {
    let printable = |b: u32| (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b);
    let mut next = 0x100;
    (0..256u32)
        .map(|b| {
            let c = if printable(b) {
                b
            } else {
                next += 1;
                next - 1
            };
            char::from_u32(c).expect("a char").to_string()
        })
        .collect()
}

/// `<|s|>` (special, id 0), every byte but 0x04 (ids 1..=255, byte b at b + 1 below 4, b after),
/// then `!?`, `ab`, `Ġab` (256, 257, 258) made by three merges.
fn lists() -> (Vec<String>, Vec<bool>) {
    let bytes = alphabet();
    let mut tokens = vec!["<|s|>".to_string()];
    tokens.extend(bytes.iter().enumerate().filter(|&(b, _)| b != 4).map(|(_, c)| c.clone()));
    tokens.extend(["!?", "ab", "Ġab"].map(String::from));
    let special = (0..tokens.len()).map(|i| i == 0).collect();
    (tokens, special)
}

fn build(tokens: &[String], special: &[bool], merges: &[(&str, &str)]) -> Result<Tokenizer, String> {
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    Tokenizer::from_vocab(&refs, special, merges, true).map_err(|e| e.to_string())
}

const MERGES: [(&str, &str); 3] = [("!", "?"), ("a", "b"), ("Ġ", "ab")];

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn ids_match_the_library_and_missing_bytes_are_dropped() {
    let (tokens, special) = lists();
    let t = build(&tokens, &special, &MERGES).expect("builds");
    // the library drops a byte it has no token for; its neighbours in the same word then merge
    assert_eq!(t.encode_ids("!\u{4}?"), vec![256]);
    assert_eq!(t.encode_ids("a\u{4}b"), vec![97, 98]);
    assert_eq!(t.encode_ids(" ab<|s|>12"), vec![258, 0, 49, 50]);
    assert_eq!(t.encode_ids("\u{4}"), Vec::<u32>::new());
    assert_eq!(t.encode_ids("x<|s|"), vec![120, 60, 124, 115, 124]);
    assert!(t.is_added(0) && !t.is_added(256));
    assert_eq!(t.token_display(0), "<|s|>");
    // a token spanning a dropped byte covers it
    let spans: Vec<(usize, usize)> = t.encode("!\u{4}?").iter().map(|k| (k.start, k.end)).collect();
    assert_eq!(spans, vec![(0, 3)]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bad_lists_are_refused_with_what_was_found() {
    let (tokens, special) = lists();
    let mut bad = tokens.clone();
    bad[100] = "héllo\u{2603}".into();
    assert_eq!(
        build(&bad, &special, &MERGES).unwrap_err(),
        "token 100 \"héllo☃\": expected byte-level characters only, found U+2603 \"☃\""
    );
    let mut twice = tokens.clone();
    twice[257] = "a".into();
    assert!(build(&twice, &special, &[]).unwrap_err().starts_with("token 257 \"a\": expected each token once, found it also as token 97"));
    assert_eq!(
        build(&tokens, &special, &[("a", "c")]).unwrap_err(),
        "merge 0 \"a\" + \"c\": expected both parts and \"ac\" among the tokens"
    );
    assert!(build(&tokens, &special[..3], &[]).unwrap_err().contains("a special flag for each"));
    let mut empty = tokens.clone();
    empty[0] = String::new();
    assert_eq!(build(&empty, &special, &[]).unwrap_err(), "token 0 is a special token with no text: expected a non-empty one");
}
