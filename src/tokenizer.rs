//! Byte-level BPE: text → tokens and back (see `model/FORMAT.md`).
//!
//! INTERIM (lead, 23:58): the minimal interface `model.rs` compiles against, so the crate builds while
//! the parsers engineer writes the real BPE here. Replace this whole file; keep these signatures
//! (`Token`, `Tokenizer::encode`, `Tokenizer::token_display`, `Tokenizer::from_json`).

/// One token of an encoded text: its id and the byte span of `text` it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub id: u32,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug)]
pub struct Tokenizer {
    vocab_size: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TokenizerError(pub String);

impl std::fmt::Display for TokenizerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Tokenizer {
    pub fn from_json(_bytes: &[u8]) -> Result<Tokenizer, TokenizerError> {
        Err(TokenizerError("tokenizer.json reading is not written yet".into()))
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    pub fn encode(&self, text: &str) -> Vec<Token> {
        text.char_indices().map(|(i, c)| Token { id: (c as u32) % 256, start: i, end: i + c.len_utf8() }).collect()
    }

    pub fn encode_ids(&self, text: &str) -> Vec<u32> {
        self.encode(text).into_iter().map(|t| t.id).collect()
    }

    pub fn token_display(&self, id: u32) -> String {
        format!("<{id}>")
    }
}
