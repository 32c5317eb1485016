//! Encode/decode round trip of arbitrary UTF-8 text with the fixture tokenizers (with and without the
//! Digits pre-tokenizer): decode(encode(s)) == s, ids inside the vocabulary, spans on char boundaries,
//! in order, covering the text from its start to its end.
#![no_main]

use std::sync::OnceLock;

use attention_explorer::tokenizer::Tokenizer;
use libfuzzer_sys::fuzz_target;

fn tokenizers() -> &'static [Tokenizer; 2] {
    static T: OnceLock<[Tokenizer; 2]> = OnceLock::new();
    T.get_or_init(|| {
        let load = |bytes: &[u8]| Tokenizer::from_json(bytes).expect("the fixture tokenizer loads");
        [
            load(include_bytes!("../../tests/fixtures/tiny/tokenizer.json")),
            load(include_bytes!("../../tests/fixtures/tiny/tokenizer_bytelevel.json")),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for tok in tokenizers() {
        let tokens = tok.encode(&text);
        assert_eq!(tokens.is_empty(), text.is_empty(), "no tokens for non-empty text (or tokens for empty)");
        let ids: Vec<u32> = tokens.iter().map(|t| t.id).collect();
        assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()));
        assert_eq!(tok.decode(&ids), text, "decode(encode(s)) != s");
        let mut prev = (0, 0);
        for t in &tokens {
            assert!(t.start <= t.end && t.end <= text.len(), "span {}..{} outside the text", t.start, t.end);
            assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
            // in order, no gap; tokens inside one multi-byte char share (or overlap) its range
            assert!(t.start >= prev.0 && t.end >= prev.1 && t.start <= prev.1, "span {}..{} after {}..{}", t.start, t.end, prev.0, prev.1);
            prev = (t.start, t.end);
        }
        if let (Some(first), Some(last)) = (tokens.first(), tokens.last()) {
            assert_eq!((first.start, last.end), (0, text.len()), "the spans do not cover the text");
        }
        for t in tokens.iter().take(8) {
            let _ = tok.token_display(t.id);
        }
    }
});
