//! The byte-level BPE tokenizer: same ids as the Python `tokenizers` library, lossless round trips on
//! every kind of text, char-aligned offsets, and errors (never panics) on malformed tokenizer files.

use attention_explorer::tokenizer::{Token, Tokenizer};
use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const TINY: &[u8] = include_bytes!("fixtures/tiny/tokenizer.json");
const TINY_PARITY: &str = include_str!("fixtures/tiny/tokenizer_parity.json");
const BYTELEVEL: &[u8] = include_bytes!("fixtures/tiny/tokenizer_bytelevel.json");
const BYTELEVEL_PARITY: &str = include_str!("fixtures/tiny/tokenizer_bytelevel_parity.json");
const SHIPPED: &[u8] = include_bytes!("../model/tokenizer.json");
const SHIPPED_PARITY: &str = include_str!("../model/tokenizer_parity.json");

fn tiny() -> Tokenizer {
    Tokenizer::from_json(TINY).expect("the tiny tokenizer loads")
}

/// Seeded xorshift, so the random tests are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Checks everything an encoding promises: ids decode to `text`, each token's bytes are the input's
/// bytes at its position, and its offsets are the char-aligned hull of those bytes.
fn check_encoding(tok: &Tokenizer, text: &str) -> Vec<Token> {
    let tokens = tok.encode(text);
    let ids: Vec<u32> = tokens.iter().map(|t| t.id).collect();
    assert_eq!(tok.decode(&ids), text, "round trip of {text:?}");
    assert_eq!(tok.encode_ids(text), ids);
    let mut at = 0;
    for t in &tokens {
        let bytes = tok.token_bytes(t.id).expect("every encoded id has bytes");
        assert_eq!(&text.as_bytes()[at..at + bytes.len()], bytes, "token {t:?} of {text:?}");
        let (lo, hi) = (at, at + bytes.len());
        assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end), "{t:?} of {text:?}");
        assert!(t.start <= lo && hi <= t.end, "{t:?} should contain bytes {lo}..{hi} of {text:?}");
        // the smallest such range: no char boundary strictly inside start..lo or hi..end
        assert!((t.start + 1..=lo).all(|p| !text.is_char_boundary(p)), "{t:?} starts too early in {text:?}");
        assert!((hi..t.end).all(|p| !text.is_char_boundary(p)), "{t:?} ends too late in {text:?}");
        at = hi;
    }
    assert_eq!(at, text.len());
    tokens
}

fn parity(tok: &Tokenizer, file: &str) -> usize {
    let cases: Value = serde_json::from_str(file).expect("parity file parses");
    let cases = cases.as_array().expect("array of cases");
    for case in cases {
        let text = case["text"].as_str().expect("text");
        let expected: Vec<u32> = case["ids"].as_array().expect("ids").iter().map(|x| x.as_u64().expect("id") as u32).collect();
        assert_eq!(tok.encode_ids(text), expected, "ids of {text:?}");
        check_encoding(tok, text);
    }
    cases.len()
}

// ---------------------------------------------------------------- parity with the Python library

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn same_ids_as_the_python_library_digits_and_pair_merges() {
    assert!(parity(&tiny(), TINY_PARITY) >= 200);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn same_ids_as_the_python_library_byte_level_and_string_merges() {
    let tok = Tokenizer::from_json(BYTELEVEL).expect("the ByteLevel-only tokenizer loads");
    assert!(parity(&tok, BYTELEVEL_PARITY) >= 200);
    // the two pre-tokenizers really differ on digits: the second merges them
    assert_eq!(tok.encode_ids("2026").len(), 2);
    assert_eq!(tiny().encode_ids("2026").len(), 4);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn same_ids_as_the_python_library_for_the_shipped_model() {
    let tok = Tokenizer::from_json(SHIPPED).expect("model/tokenizer.json loads");
    assert!(parity(&tok, SHIPPED_PARITY) >= 200);
    assert_eq!(tok.id_of("<|endoftext|>"), Some(0));
    // the shipped tokenizer is the one the model was trained with: its words merge
    assert!(tok.encode_ids(" the fox and the dog").len() <= 6);
}

// ---------------------------------------------------------------- round trips and offsets

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn round_trips_on_every_kind_of_text() {
    let tok = tiny();
    let texts = [
        "",
        "The quick brown fox jumps over the lazy dog.",
        "Crème brûlée, naïve café, Ångström, Æsop, straße",
        "中文字符和日本語のテキスト、한국어",
        "😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷",
        "مرحبا بالعالم — שלום עולם",
        "e\u{301} a\u{300}\u{301}\u{302} \u{301}leading combining",
        "\0 nul \u{1}\u{2}\u{7f} bell\u{7} escape\u{1b}[0m",
        "   \t\t\n\n\r\n  \u{a0}\u{3000}\u{2028}\u{85}  ",
        "<|endoftext|><|endoftext|>",
        "\u{feff}\u{200b}\u{200d}\u{fffd}\u{10ffff}\u{e000}",
        "it's we'll they've I'M 'S '''s",
    ];
    for text in texts {
        check_encoding(&tok, text);
    }
    assert!(tok.encode("").is_empty());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn round_trips_on_random_text_from_all_planes() {
    let tok = tiny();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..300 {
        let len = rng.below(60);
        let text: String = (0..len)
            .map(|_| match rng.below(5) {
                0 => char::from(rng.below(128) as u8),
                1 => [' ', '\t', '\n', '\u{a0}', '\u{3000}', '\''][rng.below(6)],
                2 => char::from_u32(rng.below(0x800) as u32).unwrap_or('x'),
                3 => char::from_u32(0x1F300 + rng.below(0x300) as u32).unwrap_or('y'),
                _ => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
            })
            .collect();
        check_encoding(&tok, &text);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_token_holding_part_of_a_char_spans_the_whole_char() {
    let tok = tiny();
    // the tiny vocab merges "a" with the first byte of "ï" (C3 AF), leaving AF on its own
    let tokens = check_encoding(&tok, "naïve");
    let spans: Vec<(usize, usize)> = tokens.iter().map(|t| (t.start, t.end)).collect();
    assert_eq!(spans, [(0, 1), (1, 4), (2, 4), (4, 6)]);
    assert_eq!(tok.token_bytes(tokens[1].id), Some(&b"a\xc3"[..]));
    assert_eq!(tok.token_display(tokens[1].id), "a<0xC3>");
    assert_eq!(tok.token_display(tokens[2].id), "<0xAF>");
    // a 4-byte emoji split into single bytes: each token spans the whole emoji
    let tokens = check_encoding(&tok, "😀");
    assert_eq!(tokens.len(), 4);
    assert!(tokens.iter().all(|t| (t.start, t.end) == (0, 4)));
    assert_eq!(tok.decode(&[tokens[0].id]), "\u{fffd}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn added_tokens_are_matched_literally() {
    let tok = tiny();
    let eot = tok.id_of("<|endoftext|>").expect("special token");
    assert_eq!(eot, 0);
    let tokens = check_encoding(&tok, "a<|endoftext|>b");
    assert_eq!(tokens[1], Token { id: eot, start: 1, end: 14 });
    assert_eq!(tokens.len(), 3);
    assert!(!tok.encode_ids("<|endoftext|").contains(&eot));
    assert!(!tok.encode_ids("<|endoftex t|>").contains(&eot));
    assert_eq!(tok.token_display(eot), "<|endoftext|>");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn vocabulary_lookups() {
    let tok = tiny();
    assert_eq!(tok.vocab_size(), 360);
    let the = tok.id_of(" the").expect("\" the\" is a token");
    assert_eq!(tok.token_bytes(the), Some(&b" the"[..]));
    assert_eq!(tok.token_display(the), " the");
    assert_eq!(tok.encode_ids(" the"), [the]);
    assert_eq!(tok.id_of(" no such token here"), None);
    assert_eq!(tok.token_bytes(360), None);
    assert_eq!(tok.token_display(360), "<unknown id 360>");
    assert_eq!(tok.decode(&[360, the, u32::MAX]), " the");
    let newline = tok.id_of("\n").expect("every byte is a token");
    assert_eq!(tok.token_display(newline), "<0x0A>");
    assert_eq!(tok.token_bytes(tok.id_of("\u{0}").expect("NUL")), Some(&[0u8][..]));
    for b in 0..=255u8 {
        let id = tok.encode_ids(&String::from_utf8_lossy(&[b])).len();
        assert!(id >= 1);
    }
}

/// The heap-based merge loop against the textbook one (merge the leftmost lowest-rank pair, repeat),
/// on random single words, so the two can only agree if the priorities are right.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn merges_match_the_textbook_algorithm() {
    let tok = tiny();
    let json: Value = serde_json::from_slice(TINY).expect("json");
    let vocab = json["model"]["vocab"].as_object().expect("vocab");
    let ranks: Vec<(String, String)> = json["model"]["merges"]
        .as_array()
        .expect("merges")
        .iter()
        .map(|m| (m[0].as_str().expect("left").to_string(), m[1].as_str().expect("right").to_string()))
        .collect();
    let naive = |word: &str| -> Vec<u32> {
        let mut parts: Vec<String> = word.chars().map(String::from).collect();
        loop {
            let best = (0..parts.len().saturating_sub(1))
                .filter_map(|i| ranks.iter().position(|(a, b)| *a == parts[i] && *b == parts[i + 1]).map(|r| (r, i)))
                .min();
            let Some((_, i)) = best else { break };
            let right = parts.remove(i + 1);
            parts[i].push_str(&right);
        }
        parts.iter().map(|p| vocab[p.as_str()].as_u64().expect("id") as u32).collect()
    };
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let letters = ['e', 't', 'h', 'a', 'o', 'n', 'r', 's', 'i', 'd', 'l', 'w'];
    for _ in 0..300 {
        let word: String = (0..1 + rng.below(40)).map(|_| letters[rng.below(letters.len())]).collect();
        assert_eq!(tok.encode_ids(&word), naive(&word), "word {word:?}");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn long_inputs_encode_and_round_trip() {
    let tok = tiny();
    let sentence = "The fox sat at the edge of the field, 12 boats, café 😀 — and then\n";
    let mut text = String::new();
    while text.chars().count() < 10_000 {
        text.push_str(sentence);
    }
    check_encoding(&tok, &text);
    // one 200 KB "word" and one 200 KB run of spaces: the merge loop must not go quadratic
    let word = "thethe".repeat(200_000 / 6);
    let tokens = tok.encode(&word);
    assert_eq!(tok.decode(&tokens.iter().map(|t| t.id).collect::<Vec<_>>()), word);
    let spaces = " ".repeat(200_000);
    assert_eq!(tok.decode(&tok.encode_ids(&spaces)), spaces);
}

// ---------------------------------------------------------------- malformed tokenizer files

fn tiny_json() -> Value {
    serde_json::from_slice(TINY).expect("json")
}

fn error_of(v: &Value) -> String {
    match Tokenizer::from_json(v.to_string().as_bytes()) {
        Ok(_) => panic!("expected the tokenizer to be refused, it loaded"),
        Err(e) => e.to_string(),
    }
}

fn assert_refused(v: &Value, parts: &[&str]) {
    let message = error_of(v);
    for part in parts {
        assert!(message.contains(part), "message {message:?} should contain {part:?}");
    }
}

fn with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut v = tiny_json();
    edit(&mut v);
    v
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn malformed_json_is_refused() {
    for bytes in [&b""[..], b"{", b"not json", b"\xff\xfe", &TINY[..TINY.len() / 2]] {
        let message = Tokenizer::from_json(bytes).expect_err("refused").to_string();
        assert!(message.contains("expected JSON, found invalid JSON"), "{message}");
    }
    assert_refused(&json!([1, 2]), &["expected a JSON object, found an array"]);
    assert_refused(&json!({}), &["pre_tokenizer: expected ByteLevel or Sequence[Digits, ByteLevel], found nothing"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn unsupported_pipelines_are_refused() {
    assert_refused(&with(|v| v["normalizer"] = json!({"type": "NFC"})), &["normalizer: expected null (no normalizer), found NFC"]);
    assert_refused(
        &with(|v| v["pre_tokenizer"] = json!({"type": "Whitespace"})),
        &["expected ByteLevel or Sequence[Digits, ByteLevel], found Whitespace"],
    );
    assert_refused(
        &with(|v| v["pre_tokenizer"] = json!({"type": "ByteLevel", "add_prefix_space": true, "use_regex": true})),
        &["pre_tokenizer.add_prefix_space: expected false, found true"],
    );
    assert_refused(
        &with(|v| v["pre_tokenizer"] = json!({"type": "ByteLevel", "add_prefix_space": false, "use_regex": false})),
        &["pre_tokenizer.use_regex: expected true, found false"],
    );
    assert_refused(
        &with(|v| v["pre_tokenizer"]["pretokenizers"][0]["individual_digits"] = json!(false)),
        &["pre_tokenizer.Digits.individual_digits: expected true, found false"],
    );
    assert_refused(
        &with(|v| v["pre_tokenizer"]["pretokenizers"] = json!([{"type": "Punctuation"}, {"type": "ByteLevel"}])),
        &["expected Sequence[Digits, ByteLevel], found Sequence[Punctuation, ByteLevel]"],
    );
    assert_refused(
        &with(|v| v["post_processor"] = json!({"type": "TemplateProcessing"})),
        &["post_processor: expected null or ByteLevel, found TemplateProcessing"],
    );
    assert_refused(&with(|v| v["decoder"] = json!({"type": "WordPiece"})), &["decoder: expected null or ByteLevel, found WordPiece"]);
    assert_refused(&with(|v| v["model"]["type"] = json!("WordPiece")), &["model.type: expected \"BPE\", found \"WordPiece\""]);
    assert_refused(&with(|v| v["model"]["dropout"] = json!(0.1)), &["model.dropout: expected null (no dropout), found 0.1"]);
    assert_refused(&with(|v| v["model"]["unk_token"] = json!("<unk>")), &["model.unk_token: expected null", "found \"<unk>\""]);
    assert_refused(
        &with(|v| v["model"]["continuing_subword_prefix"] = json!("##")),
        &["model.continuing_subword_prefix: expected null, found \"##\""],
    );
    assert_refused(&with(|v| v["model"]["byte_fallback"] = json!(true)), &["model.byte_fallback: expected false, found true"]);
    assert_refused(&with(|v| v["model"] = json!(3)), &["model: expected an object, found 3"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn broken_vocabularies_are_refused() {
    assert_refused(&with(|v| v["model"]["vocab"] = json!([])), &["model.vocab: expected an object of token → id, found an array"]);
    // "Ġ" is the space byte: without it, " " cannot be encoded
    let euro = with(|v| v["model"]["vocab"]["a€"] = json!(360));
    assert_refused(&euro, &["model.vocab[\"a€\"]: expected byte-level characters only, found U+20AC \"€\""]);
    let missing_byte = with(|v| {
        let vocab = v["model"]["vocab"].as_object_mut().expect("vocab");
        let id = vocab.remove("Ġ").expect("Ġ");
        vocab.insert("ĠĠĠĠĠĠĠĠ".into(), id);
    });
    assert_refused(&missing_byte, &["expected a token for every byte, found none for byte 0x20 (\"Ġ\")"]);
    let duplicate = with(|v| v["model"]["vocab"]["Ġ"] = json!(5));
    assert_refused(&duplicate, &["expected a unique id, found id 5 used twice"]);
    let gap = with(|v| v["model"]["vocab"]["Ġ"] = json!(360));
    let message = error_of(&gap);
    assert!(message.contains("expected the ids 0..361 to have no gaps, found no token with id"), "{message}");
    assert_refused(
        &with(|v| v["model"]["vocab"]["Ġ"] = json!(1u64 << 40)),
        &["model.vocab[\"Ġ\"]: expected an id in 0..361, found 1099511627776"],
    );
    assert_refused(&with(|v| v["model"]["vocab"]["Ġ"] = json!(-1)), &["expected an id in 0..361, found -1"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn broken_merges_and_added_tokens_are_refused() {
    assert_refused(&with(|v| v["model"]["merges"] = json!({})), &["model.merges: expected an array, found an object"]);
    assert_refused(&with(|v| v["model"]["merges"][0] = json!("h e x")), &["model.merges[0]: expected \"left right\", found \"h e x\""]);
    assert_refused(&with(|v| v["model"]["merges"][1] = json!(["a"])), &["model.merges[1]: expected [\"left\", \"right\"], found [\"a\"]"]);
    assert_refused(&with(|v| v["model"]["merges"][2] = json!(7)), &["model.merges[2]: expected a string or a pair, found 7"]);
    assert_refused(
        &with(|v| v["model"]["merges"][3] = json!(["q", "zz"])),
        &["model.merges[3] \"q\" + \"zz\": expected both parts and \"qzz\" in the vocab, found no \"zz\""],
    );
    assert_refused(&with(|v| v["model"]["merges"][3] = json!(["q", "z"])), &["found no \"qz\""]);
    assert_refused(
        &with(|v| v["added_tokens"][0]["lstrip"] = json!(true)),
        &["added_tokens[0] \"<|endoftext|>\".lstrip: expected false, found true"],
    );
    assert_refused(&with(|v| v["added_tokens"][0]["id"] = json!(9999)), &["added_tokens[0]: expected an id in 0..361, found 9999"]);
    assert_refused(
        &with(|v| v["added_tokens"][0]["content"] = json!("")),
        &["added_tokens[0]: expected a non-empty `content`, found \"\""],
    );
    assert_refused(&with(|v| v["added_tokens"] = json!("x")), &["added_tokens: expected an array, found \"x\""]);
}

/// Seeded random damage to tokenizer.json (truncations, byte flips) must only ever produce errors.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn random_damage_never_panics() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let (mut loaded, mut refused) = (0, 0);
    for round in 0..300 {
        let mut bytes = TINY.to_vec();
        if round % 2 == 0 {
            bytes.truncate(rng.below(TINY.len()));
        } else {
            for _ in 0..3 {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
        }
        match Tokenizer::from_json(&bytes) {
            Ok(tok) => {
                loaded += 1;
                check_encoding(&tok, "The fox, 12 cafés 😀 <|endoftext|>");
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(refused >= 150, "refused {refused}, loaded {loaded}");
}
