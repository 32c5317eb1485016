//! Byte-level BPE: text → tokens and back, reading a Hugging Face `tokenizer.json` (see
//! `model/FORMAT.md`), with the same ids as the Python `tokenizers` library.
//!
//! Encoding, as the library does it:
//! 1. **Added tokens** (such as `<|endoftext|>`) are cut out of the text first, matched literally,
//!    leftmost-longest, by one Aho–Corasick pass (`tokenizer/added.rs`): the cost does not grow with
//!    their number. Each has its own id and its own content (repeats are refused at load).
//! 2. **Pre-tokenizer**: optionally `Digits` (every numeric char on its own), then the GPT-2 regex
//!    `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, written out by
//!    hand in [`split_words`] with the library's exact character classes (`tokenizer/unicode_tables.rs`,
//!    generated from the library by `tests/reference/unicode_tables.py`).
//! 3. **BPE** on the UTF-8 bytes of each word: start from one token per byte, then repeatedly merge
//!    the adjacent pair with the lowest merge rank (leftmost first among equal ranks), using a heap:
//!    O(n log n) in the word's length, so a 1 MB word is fine.
//!
//! Every byte has a token, so any UTF-8 text encodes, and `decode(encode(s)) == s`. (The one
//! exception is a GGUF vocabulary that lacks some bytes, which [`Tokenizer::from_vocab`] accepts:
//! SmolLM2's has no token for 21 bytes, six of them control characters such as U+0004. Those bytes
//! are dropped, as the library drops them when there is no unknown token.)
//!
//! Two ways in: [`Tokenizer::from_json`] reads a `tokenizer.json`; [`Tokenizer::from_vocab`]
//! (`tokenizer/vocab.rs`) builds the same machinery from token and merge lists, as a GGUF file's
//! `tokenizer.ggml.*` metadata gives them.
//!
//! **Offsets.** A [`Token`]'s `start..end` is a byte range of the input that is always on char
//! boundaries: the smallest char-aligned range containing the bytes the token covers. A token holding
//! only part of a multi-byte char (BPE may split `é` = C3 A9 into two tokens) therefore spans the whole
//! char, and two neighbouring tokens may share that char's range.
//!
//! **Display.** [`Tokenizer::token_display`] shows a token's bytes as text (`" fox"` keeps its space);
//! bytes that are not a whole UTF-8 char on their own, and control characters, appear as `<0xE2>`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

mod added;
mod load;
mod vocab;
#[rustfmt::skip]
mod unicode_tables;

use added::AddedTokens;

/// One token of an encoded text: its id and the char-aligned byte range of the text it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub id: u32,
    pub start: usize,
    pub end: usize,
}

/// Why a `tokenizer.json` was refused: says what was expected and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenizerError(String);

impl TokenizerError {
    fn new(message: String) -> TokenizerError {
        TokenizerError(message)
    }
}

impl fmt::Display for TokenizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenizerError {}

/// The most token ids a tokenizer may have (GPT-2 has 50,257; Llama 3 128,256).
pub const MAX_VOCAB: usize = 1 << 20;

/// A fast hasher for the (u32, u32) merge keys (the default SipHash is several times slower here).
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type PairMap = HashMap<(u32, u32), (u32, u32), BuildHasherDefault<PairHasher>>;
/// Token bytes → id, with the same hasher (std's SipHash and its random keys cost about 2 KB of wasm,
/// and a tokenizer file is not an attacker choosing keys against a running server).
type IdMap = HashMap<Vec<u8>, u32, BuildHasherDefault<PairHasher>>;

/// A byte-level BPE tokenizer.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    /// The bytes of every token, concatenated; token `id` is `bytes[spans[id].0..spans[id].1]`.
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
    /// Bytes of a model-vocabulary token → its id.
    ids: IdMap,
    /// The id of the token for each single byte, [`NO_TOKEN`] for a byte the vocabulary lacks
    /// (only [`Tokenizer::from_vocab`] allows that: such bytes are dropped, as the library drops them).
    byte_ids: [u32; 256],
    /// (left id, right id) → (rank, merged id).
    merges: PairMap,
    /// Added tokens, matched literally before pre-tokenization: (content, id), in file order.
    added: Vec<(String, u32)>,
    /// The same, as one automaton that finds them all in one pass (`tokenizer/added.rs`).
    added_matcher: AddedTokens,
    /// `Sequence[Digits{individual_digits}, ByteLevel]`: numeric chars are split off one by one.
    digits: bool,
    /// The BPE model's `ignore_merges`: a word that is itself in the vocab is one token.
    ignore_merges: bool,
}

impl Tokenizer {
    /// The number of token ids (model vocabulary and added tokens).
    pub fn vocab_size(&self) -> usize {
        self.spans.len()
    }

    /// The bytes token `id` stands for, or `None` for an id outside the vocabulary.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let &(a, b) = self.spans.get(id as usize)?;
        self.bytes.get(a..b)
    }

    /// The id of the token whose bytes are exactly `piece` (`id_of(" fox")`), added tokens included.
    pub fn id_of(&self, piece: &str) -> Option<u32> {
        self.added.iter().find(|(content, _)| content == piece).map(|&(_, id)| id).or_else(|| self.ids.get(piece.as_bytes()).copied())
    }

    /// Whether `id` is an added (special) token such as `<|endoftext|>`, not a piece of text.
    pub fn is_added(&self, id: u32) -> bool {
        self.added.iter().any(|&(_, a)| a == id)
    }

    /// A token as a person should see it: its text, leading space included (`" fox"`). Bytes that do
    /// not form a whole UTF-8 char, and control characters, are written `<0xE2>`. An unknown id is
    /// written `<unknown id 123>`.
    pub fn token_display(&self, id: u32) -> String {
        let Some(bytes) = self.token_bytes(id) else {
            return format!("<unknown id {id}>");
        };
        let mut out = String::new();
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c.is_control() {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("<0x{b:02X}>"));
                    }
                } else {
                    out.push(c);
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("<0x{b:02X}>"));
            }
        }
        out
    }

    /// Decodes ids back to text. Lossless for any whole encoding (`decode(&encode_ids(s)) == s`);
    /// a sequence that cuts a multi-byte char gets U+FFFD for the broken bytes; unknown ids are skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            if let Some(b) = self.token_bytes(id) {
                bytes.extend_from_slice(b);
            }
        }
        match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// The token ids of `text`.
    pub fn encode_ids(&self, text: &str) -> Vec<u32> {
        self.encode(text).into_iter().map(|t| t.id).collect()
    }

    /// Tokenizes `text` (never fails: every byte has a token).
    pub fn encode(&self, text: &str) -> Vec<Token> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        let mut words = Vec::new();
        let mut scratch = Scratch::default();
        let mut emit_text = |segment_start: usize, segment_end: usize, out: &mut Vec<Token>| {
            words.clear();
            let segment = &text[segment_start..segment_end];
            if self.digits {
                split_digits_then_words(segment, segment_start, &mut words);
            } else {
                split_words(segment, segment_start, &mut words);
            }
            for &(a, b) in &words {
                self.bpe(text, a, b, out, &mut scratch);
            }
        };
        let mut at = 0;
        while let Some((start, content_len, id)) = self.next_added(text, at) {
            emit_text(at, start, &mut out);
            out.push(Token { id, start, end: start + content_len });
            at = start + content_len;
        }
        emit_text(at, text.len(), &mut out);
        out
    }

    /// The leftmost added token at or after byte `from` (the longest if several start there).
    fn next_added(&self, text: &str, from: usize) -> Option<(usize, usize, u32)> {
        if self.added_matcher.is_empty() {
            return None;
        }
        self.added_matcher.find(text.as_bytes(), from)
    }

    /// BPE on the bytes `text[a..b]` of one word, appending its tokens with char-aligned offsets.
    fn bpe(&self, text: &str, a: usize, b: usize, out: &mut Vec<Token>, s: &mut Scratch) {
        let word = &text.as_bytes()[a..b];
        let aligned = |start: usize, end: usize| Token { id: 0, start: floor_boundary(text, start), end: ceil_boundary(text, end) };
        if self.ignore_merges {
            if let Some(&id) = self.ids.get(word) {
                out.push(Token { id, ..aligned(a, b) });
                return;
            }
        }
        // one symbol per byte that has a token, linked left-right; a merged-away symbol has len 0
        s.symbols.clear();
        for (i, &byte) in word.iter().enumerate() {
            let id = self.byte_ids[byte as usize];
            if id == NO_TOKEN {
                continue;
            }
            let k = s.symbols.len();
            s.symbols.push(Symbol { id, start: i, len: 1, prev: k.wrapping_sub(1), next: k + 1 });
        }
        let n = s.symbols.len();
        s.heap.clear();
        for i in 1..n {
            if let Some(&(rank, new_id)) = self.merges.get(&(s.symbols[i - 1].id, s.symbols[i].id)) {
                s.heap.push(Reverse((rank, i - 1, new_id)));
            }
        }
        while let Some(Reverse((rank, pos, new_id))) = s.heap.pop() {
            let left = s.symbols[pos];
            if left.len == 0 || left.next >= n {
                continue;
            }
            let right = s.symbols[left.next];
            // skip stale entries: the pair at `pos` must still be the one this entry was made for
            if self.merges.get(&(left.id, right.id)) != Some(&(rank, new_id)) {
                continue;
            }
            let merged = Symbol {
                id: new_id,
                start: left.start,
                // the bytes from left's start to right's end (a dropped byte between them included)
                len: right.start + right.len - left.start,
                prev: left.prev,
                next: right.next,
            };
            s.symbols[pos] = merged;
            s.symbols[left.next].len = 0;
            if merged.next < n {
                s.symbols[merged.next].prev = pos;
                if let Some(&(r, id)) = self.merges.get(&(new_id, s.symbols[merged.next].id)) {
                    s.heap.push(Reverse((r, pos, id)));
                }
            }
            if merged.prev < n {
                if let Some(&(r, id)) = self.merges.get(&(s.symbols[merged.prev].id, new_id)) {
                    s.heap.push(Reverse((r, merged.prev, id)));
                }
            }
        }
        let mut i = 0;
        while i < n {
            let sym = s.symbols[i];
            out.push(Token { id: sym.id, ..aligned(a + sym.start, a + sym.start + sym.len) });
            i = sym.next;
        }
    }
}

/// Every token's bytes concatenated, and each token's span in them, in id order.
fn pack(tokens: impl Iterator<Item = Vec<u8>>) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut bytes = Vec::new();
    let mut spans = Vec::new();
    for token in tokens {
        spans.push((bytes.len(), bytes.len() + token.len()));
        bytes.extend_from_slice(&token);
    }
    (bytes, spans)
}

/// `byte_ids` of a byte the vocabulary has no token for.
const NO_TOKEN: u32 = u32::MAX;

/// One BPE symbol: a token covering `len` bytes from `start`, in a doubly linked list by index
/// (`prev` is `usize::MAX` for the first symbol, `next` is the number of symbols after the last).
#[derive(Clone, Copy, Debug)]
struct Symbol {
    id: u32,
    start: usize,
    len: usize,
    prev: usize,
    next: usize,
}

/// Buffers reused across the words of one `encode` call.
#[derive(Default)]
struct Scratch {
    symbols: Vec<Symbol>,
    heap: BinaryHeap<Reverse<(u32, usize, u32)>>,
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The four character classes the GPT-2 regex distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Letter,
    Number,
    Space,
    Other,
}

/// Whether `c` is in a table of packed ranges `start << 11 | (len - 1)` (see `unicode_tables.rs`).
fn in_table(table: &[u32], c: char) -> bool {
    let c = u32::from(c);
    // the last range starting at or before c
    let after = table.partition_point(|&e| e >> 11 <= c);
    after > 0 && table.get(after - 1).is_some_and(|&e| c - (e >> 11) <= (e & 0x7ff))
}

fn class(c: char) -> Class {
    if c.is_ascii() {
        return match c {
            'a'..='z' | 'A'..='Z' => Class::Letter,
            '0'..='9' => Class::Number,
            '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' => Class::Space,
            _ => Class::Other,
        };
    }
    if in_table(unicode_tables::LETTER, c) {
        Class::Letter
    } else if in_table(unicode_tables::NUMBER, c) {
        Class::Number
    } else if in_table(unicode_tables::WHITE_SPACE, c) {
        Class::Space
    } else {
        Class::Other
    }
}

/// `char::is_numeric` as the library's `Digits` pre-tokenizer saw it.
fn is_numeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        in_table(unicode_tables::NUMERIC, c)
    }
}

/// `Digits{individual_digits: true}` then the GPT-2 regex: each numeric char is a word of its own.
fn split_digits_then_words(s: &str, base: usize, out: &mut Vec<(usize, usize)>) {
    let mut from = 0;
    for (i, c) in s.char_indices() {
        if is_numeric(c) {
            split_words(&s[from..i], base + from, out);
            out.push((base + i, base + i + c.len_utf8()));
            from = i + c.len_utf8();
        }
    }
    split_words(&s[from..], base + from, out);
}

/// The GPT-2 pre-tokenizer regex, leftmost-first like Oniguruma, as byte ranges offset by `base`:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
fn split_words(s: &str, base: usize, out: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i < s.len() {
        let end = word_end(s, i);
        out.push((base + i, base + end));
        i = end;
    }
}

/// The end of the regex match that starts at byte `i` of `s` (every char matches some branch).
fn word_end(s: &str, i: usize) -> usize {
    let rest = &s.as_bytes()[i..];
    // 's|'t|'re|'ve|'m|'ll|'d
    if rest.first() == Some(&b'\'') {
        if let Some(b"re" | b"ve" | b"ll") = rest.get(1..3) {
            return i + 3;
        }
        if let Some(b's' | b't' | b'm' | b'd') = rest.get(1) {
            return i + 2;
        }
    }
    let mut chars = s[i..].chars();
    let Some(first) = chars.next() else { return s.len() };
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class
    if first == ' ' {
        if let Some(second) = chars.next() {
            let k = class(second);
            if k != Class::Space {
                return run_end(s, i + 1, k);
            }
        }
    }
    let k = class(first);
    let end = run_end(s, i, k);
    if k != Class::Space || end == s.len() {
        return end;
    }
    // `\s+(?!\S)`: a run of spaces followed by a non-space gives back its last char (if it has two
    // or more; a single one is then matched by `\s+` alone)
    let last = s[i..end].chars().next_back().map_or(0, char::len_utf8);
    if end - last > i {
        end - last
    } else {
        end
    }
}

/// The end of the run of chars of class `k` starting at byte `i`.
fn run_end(s: &str, i: usize, k: Class) -> usize {
    s[i..].char_indices().find(|&(_, c)| class(c) != k).map_or(s.len(), |(j, _)| i + j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_chars() -> impl Iterator<Item = char> {
        (0..=0x10FFFF).filter_map(char::from_u32)
    }

    #[test]
    fn tables_are_sorted_and_disjoint() {
        for table in [unicode_tables::LETTER, unicode_tables::NUMBER, unicode_tables::WHITE_SPACE, unicode_tables::NUMERIC] {
            for pair in table.windows(2) {
                let end = (pair[0] >> 11) + (pair[0] & 0x7ff);
                assert!(end < pair[1] >> 11, "{:x} overlaps {:x}", pair[0], pair[1]);
            }
        }
    }

    /// The tables come from the tokenizers library; Rust's own Unicode data (a newer version, with
    /// different but related properties) bounds them: L ⊆ Alphabetic, N ⊆ numeric, \s = White_Space.
    #[test]
    fn classes_agree_with_rust_unicode_data() {
        let (mut letters, mut numbers) = (0, 0);
        for c in all_chars() {
            let k = class(c);
            assert_eq!(k == Class::Space, c.is_whitespace(), "{c:?}");
            if k == Class::Letter {
                assert!(c.is_alphabetic(), "{c:?}");
                letters += 1;
            }
            if k == Class::Number {
                assert!(c.is_numeric() && is_numeric(c), "{c:?}");
                numbers += 1;
            }
        }
        assert_eq!((letters, numbers), (141_028, 1_911), "counts printed by unicode_tables.py");
    }
}
