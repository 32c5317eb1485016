//! `Tokenizer::from_json` on arbitrary bytes: it must return Ok or a readable Err, never panic, hang or
//! allocate without bound. Whatever it accepts must then encode and decode text losslessly.
#![no_main]

use attention_explorer::tokenizer::Tokenizer;
use libfuzzer_sys::fuzz_target;

const PROBES: [&str; 4] = ["the cat sat on the mat", "  x\u{0}\u{7f} 12345", "👩‍👩‍👧 שלום e\u{301}", "<|endoftext|>a"];

fuzz_target!(|data: &[u8]| {
    let Ok(tok) = Tokenizer::from_json(data) else { return };
    for text in PROBES {
        let tokens = tok.encode(text);
        let ids: Vec<u32> = tokens.iter().map(|t| t.id).collect();
        assert!(ids.iter().all(|&id| (id as usize) < tok.vocab_size()), "an id outside the vocabulary for {text:?}");
        assert_eq!(tok.decode(&ids), text, "accepted tokenizer does not round-trip");
        for t in &tokens {
            assert!(t.start <= t.end && t.end <= text.len(), "token span {}..{} outside {text:?}", t.start, t.end);
            assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end), "span not on char boundaries");
        }
    }
});
