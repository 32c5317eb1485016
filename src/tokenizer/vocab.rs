//! A tokenizer from token and merge lists, as a GGUF file's `tokenizer.ggml.*` metadata gives them
//! (`tokenizer.ggml.tokens`, `.merges`, `.token_type`), for the same encoding the Python `tokenizers`
//! library gives when built from those lists:
//!
//! ```python
//! tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
//! tok.pre_tokenizer = Sequence([Digits(individual_digits=True), ByteLevel(add_prefix_space=False)])
//! tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for the special ones])
//! ```
//!
//! Ordinary tokens are byte-level strings (GPT-2's byte ↔ char table); special tokens (GGUF's
//! control tokens, such as `<|im_start|>`) are literal text, cut out of the input before anything
//! else, as added tokens are.

use super::load::byte_level_bytes;
use super::{pack, AddedTokens, IdMap, PairMap, Tokenizer, TokenizerError, MAX_VOCAB, NO_TOKEN};
use crate::json::quote;

impl Tokenizer {
    /// Builds a byte-level BPE tokenizer: `tokens[id]` is token `id`'s string, `special[id]` says
    /// whether it is a special token (matched literally in the text, never made by merges), `merges`
    /// are (left, right) pairs in priority order whose concatenation is a token, and `digits` puts
    /// `Digits(individual_digits)` before the byte-level split. A byte that has no ordinary token
    /// of its own is dropped from any text, as the library drops it (there is no unknown token).
    pub fn from_vocab(tokens: &[&str], special: &[bool], merges: &[(&str, &str)], digits: bool) -> Result<Tokenizer, TokenizerError> {
        let fail = |message: String| Err(TokenizerError::new(message));
        if tokens.len() > MAX_VOCAB || tokens.len() != special.len() {
            return fail(format!(
                "expected at most {MAX_VOCAB} tokens and a special flag for each, found {} tokens and {} flags",
                tokens.len(),
                special.len()
            ));
        }
        let mut by_id: Vec<Vec<u8>> = Vec::with_capacity(tokens.len());
        let mut ids = IdMap::with_capacity_and_hasher(tokens.len(), Default::default());
        let mut added: Vec<(String, u32)> = Vec::new();
        for (id, (&piece, &is_special)) in tokens.iter().zip(special).enumerate() {
            let id = id as u32;
            if is_special {
                if piece.is_empty() {
                    return fail(format!("token {id} is a special token with no text: expected a non-empty one"));
                }
                added.push((piece.to_string(), id));
                by_id.push(piece.as_bytes().to_vec());
                // the library's BPE vocabulary holds it too (under its byte-level reading, if it has one)
                if let Ok(bytes) = byte_level_bytes(piece) {
                    ids.entry(bytes).or_insert(id);
                }
                continue;
            }
            let bytes = match byte_level_bytes(piece) {
                Ok(bytes) => bytes,
                Err(c) => {
                    return fail(format!(
                        "token {id} {}: expected byte-level characters only, found U+{:04X} {}",
                        quote(piece),
                        u32::from(c),
                        quote(c.encode_utf8(&mut [0; 4]))
                    ))
                }
            };
            if let Some(first) = ids.insert(bytes.clone(), id).filter(|&first| !special[first as usize]) {
                return fail(format!("token {id} {}: expected each token once, found it also as token {first}", quote(piece)));
            }
            by_id.push(bytes);
        }
        // a byte with no ordinary token is dropped from the text, as the library drops it
        let mut byte_ids = [NO_TOKEN; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            if let Some(&id) = ids.get([b as u8].as_slice()).filter(|&&id| !special[id as usize]) {
                *slot = id;
            }
        }
        let mut merge_map = PairMap::with_capacity_and_hasher(merges.len(), Default::default());
        for (rank, &(a, b)) in merges.iter().enumerate() {
            let lookup = |s: &str| byte_level_bytes(s).ok().and_then(|bytes| ids.get(&bytes).copied());
            let merged = format!("{a}{b}");
            match (lookup(a), lookup(b), lookup(&merged)) {
                (Some(l), Some(r), Some(n)) => {
                    merge_map.insert((l, r), (rank as u32, n));
                }
                _ => {
                    return fail(format!(
                        "merge {rank} {} + {}: expected both parts and {} among the tokens",
                        quote(a),
                        quote(b),
                        quote(&merged)
                    ))
                }
            }
        }
        let added_matcher = AddedTokens::new(&added).map_err(|(first, again)| {
            TokenizerError::new(format!(
                "special token {} {}: expected each special token's text once, found it also as token {}",
                added[again].1,
                quote(&added[again].0),
                added[first].1
            ))
        })?;
        let (bytes, spans) = pack(by_id.into_iter());
        Ok(Tokenizer { bytes, spans, ids, byte_ids, merges: merge_map, added, added_matcher, digits, ignore_merges: false })
    }
}
