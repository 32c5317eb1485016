//! Reading a Hugging Face `tokenizer.json` (see `model/FORMAT.md`) into a [`Tokenizer`], phase by
//! phase, each refusing what it cannot use with a message that says what was expected and found:
//!
//! 1. [`pipeline`]: no normalizer, a `ByteLevel` pre-tokenizer (optionally after `Digits`), and a
//!    `ByteLevel` or no post-processor and decoder;
//! 2. [`bpe_model`]: a BPE model without dropout, unknown token, prefixes, suffixes or byte fallback;
//! 3. [`vocab`]: byte-level strings → ids, each id and each string once, a token for every byte;
//! 4. [`merges`]: "left right" strings or pairs, in priority order, every part in the vocabulary;
//! 5. [`added_tokens`]: literal strings with their own ids, each id and each content once;
//! 6. [`finish`]: no gaps in the ids, one automaton for the added tokens, the bytes of every token.

use crate::json::{quote, Json};

use super::added::AddedTokens;
use super::{IdMap, PairMap, Tokenizer, TokenizerError, MAX_VOCAB};

impl Tokenizer {
    /// Reads a Hugging Face `tokenizer.json` of the kind `model/FORMAT.md` describes.
    pub fn from_json(bytes: &[u8]) -> Result<Tokenizer, TokenizerError> {
        let root = match Json::parse(bytes) {
            Ok(v) => v,
            Err(e) => return err(format!("tokenizer.json: expected JSON, found invalid JSON ({e})")),
        };
        if root.as_object().is_none() {
            return err(format!("tokenizer.json: expected a JSON object, found {}", root.describe()));
        }
        let digits = pipeline(&root)?;
        let (model, ignore_merges) = bpe_model(&root)?;
        let added_list = root.get("added_tokens");
        let Vocab { mut by_id, ids, count } = vocab(model, added_list)?;
        let byte_ids = byte_ids(&ids)?;
        let merges = merges(model, &ids)?;
        let added = added_tokens(added_list, count, &mut by_id)?;
        finish(by_id, Parts { ids, byte_ids, merges, added, digits, ignore_merges })
    }
}

/// Normalizer, pre-tokenizer, post-processor, decoder; whether numeric chars are split off first.
fn pipeline(root: &Json) -> Result<bool, TokenizerError> {
    expect_field(root, "tokenizer", "normalizer", is_null, "null (no normalizer)")?;
    let digits = match root.get("pre_tokenizer") {
        Some(p) if type_is(p, "ByteLevel") => {
            check_byte_level(p, "pre_tokenizer")?;
            false
        }
        Some(p) if type_is(p, "Sequence") => match p.get("pretokenizers").and_then(Json::as_array).unwrap_or(&[]) {
            [d, b] if type_is(d, "Digits") && type_is(b, "ByteLevel") => {
                expect_field(d, "pre_tokenizer.Digits", "individual_digits", is_true, "true")?;
                check_byte_level(b, "pre_tokenizer.ByteLevel")?;
                true
            }
            list => {
                let found: Vec<String> = list.iter().map(Json::describe).collect();
                return err(format!("pre_tokenizer: expected Sequence[Digits, ByteLevel], found Sequence[{}]", found.join(", ")));
            }
        },
        other => {
            return err(format!("pre_tokenizer: expected ByteLevel or Sequence[Digits, ByteLevel], found {}", describe_or_nothing(other)))
        }
    };
    for key in ["post_processor", "decoder"] {
        match root.get(key) {
            None | Some(Json::Null) => {}
            Some(p) if type_is(p, "ByteLevel") => {}
            Some(other) => return err(format!("{key}: expected null or ByteLevel, found {}", other.describe())),
        }
    }
    Ok(digits)
}

/// The BPE model object, its options checked; and its `ignore_merges`.
fn bpe_model(root: &Json) -> Result<(&Json, bool), TokenizerError> {
    let model = match root.get("model") {
        Some(m) if m.as_object().is_some() => m,
        other => return err(format!("model: expected an object, found {}", describe_or_nothing(other))),
    };
    expect_field(model, "model", "type", |v| v.as_str() == Some("BPE"), "\"BPE\"")?;
    expect_field(model, "model", "dropout", |v| is_null(v) || v.as_f64() == Some(0.0), "null (no dropout)")?;
    expect_field(model, "model", "unk_token", is_null, "null (byte-level BPE needs no unknown token)")?;
    expect_field(model, "model", "continuing_subword_prefix", is_null_or_empty, "null")?;
    expect_field(model, "model", "end_of_word_suffix", is_null_or_empty, "null")?;
    expect_field(model, "model", "byte_fallback", is_false, "false")?;
    let ignore_merges = match model.get("ignore_merges") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(other) => return err(format!("model.ignore_merges: expected true or false, found {}", other.describe())),
    };
    Ok((model, ignore_merges))
}

/// The vocabulary as read: each id's bytes (None where no token has the id yet), bytes → id, and
/// how many ids there may be (vocabulary and added tokens).
struct Vocab {
    by_id: Vec<Option<Vec<u8>>>,
    ids: IdMap,
    count: usize,
}

/// `model.vocab`: byte-level strings → ids, each once. Ids must run 0..count with no gaps (checked
/// in [`finish`]), so no id can reach `count`: that bounds the allocation too.
fn vocab(model: &Json, added_list: Option<&Json>) -> Result<Vocab, TokenizerError> {
    let Some(vocab) = model.get("vocab").and_then(Json::as_object) else {
        return err(format!("model.vocab: expected an object of token → id, found {}", describe_or_nothing(model.get("vocab"))));
    };
    if vocab.len() > MAX_VOCAB {
        return err(format!("model.vocab: expected at most {MAX_VOCAB} tokens, found {}", vocab.len()));
    }
    let added_count = added_list.and_then(Json::as_array).map_or(0, <[Json]>::len);
    if added_count > MAX_VOCAB {
        return err(format!("added_tokens: expected at most {MAX_VOCAB} tokens, found {added_count}"));
    }
    let count = vocab.len() + added_count;
    let mut by_id: Vec<Option<Vec<u8>>> = Vec::new();
    let mut ids = IdMap::with_capacity_and_hasher(vocab.len(), Default::default());
    for (piece, id) in vocab {
        let id = match id.as_u64().and_then(|id| usize::try_from(id).ok()) {
            Some(id) if id < count => id,
            _ => return err(format!("model.vocab[{}]: expected an id in 0..{count}, found {}", quote(piece), id.describe())),
        };
        let bytes = match byte_level_bytes(piece) {
            Ok(bytes) => bytes,
            Err(c) => {
                return err(format!(
                    "model.vocab[{}]: expected byte-level characters only, found U+{:04X} {}",
                    quote(piece),
                    u32::from(c),
                    quote(c.encode_utf8(&mut [0; 4]))
                ))
            }
        };
        if by_id.len() <= id {
            by_id.resize(id + 1, None);
        }
        if by_id[id].is_some() {
            return err(format!("model.vocab[{}]: expected a unique id, found id {id} used twice", quote(piece)));
        }
        by_id[id] = Some(bytes.clone());
        if ids.insert(bytes, id as u32).is_some() {
            return err(format!("model.vocab: expected each token once, found {} twice", quote(piece)));
        }
    }
    Ok(Vocab { by_id, ids, count })
}

/// The id of the token for each single byte: every byte must have one.
fn byte_ids(ids: &IdMap) -> Result<[u32; 256], TokenizerError> {
    let mut byte_ids = [0u32; 256];
    for (b, slot) in byte_ids.iter_mut().enumerate() {
        let b = b as u8;
        match ids.get([b].as_slice()) {
            Some(&id) => *slot = id,
            None => {
                return err(format!(
                    "model.vocab: expected a token for every byte, found none for byte 0x{b:02X} ({})",
                    quote(byte_to_char(b).encode_utf8(&mut [0; 4]))
                ))
            }
        }
    }
    Ok(byte_ids)
}

/// `model.merges`: "a b" strings or ["a", "b"] pairs, in priority order, as (left, right) → (rank,
/// merged id); both parts and their concatenation must be in the vocabulary.
fn merges(model: &Json, ids: &IdMap) -> Result<PairMap, TokenizerError> {
    let Some(merge_list) = model.get("merges").and_then(Json::as_array) else {
        return err(format!("model.merges: expected an array, found {}", describe_or_nothing(model.get("merges"))));
    };
    let mut merges = PairMap::with_capacity_and_hasher(merge_list.len(), Default::default());
    for (rank, m) in merge_list.iter().enumerate() {
        let (a, b) = merge_parts(rank, m)?;
        let merged = format!("{a}{b}");
        let lookup = |s: &str| byte_level_bytes(s).ok().and_then(|bytes| ids.get(&bytes).copied());
        match (lookup(a), lookup(b), lookup(&merged)) {
            (Some(l), Some(r), Some(n)) => {
                merges.insert((l, r), (rank as u32, n));
            }
            (l, r, _) => {
                let missing = if l.is_none() {
                    a
                } else if r.is_none() {
                    b
                } else {
                    merged.as_str()
                };
                return err(format!(
                    "model.merges[{rank}] {} + {}: expected both parts and {} in the vocab, found no {}",
                    quote(a),
                    quote(b),
                    quote(&merged),
                    quote(missing)
                ));
            }
        }
    }
    Ok(merges)
}

/// The two parts of merge `rank`: `"left right"` or `["left", "right"]`.
fn merge_parts(rank: usize, m: &Json) -> Result<(&str, &str), TokenizerError> {
    match m {
        Json::String(s) => match s.split(' ').collect::<Vec<_>>()[..] {
            [a, b] => Ok((a, b)),
            _ => err(format!("model.merges[{rank}]: expected \"left right\", found {}", quote(s))),
        },
        Json::Array(pair) => match &pair[..] {
            [Json::String(a), Json::String(b)] => Ok((a.as_str(), b.as_str())),
            _ => {
                let found: Vec<String> = pair.iter().map(Json::describe).collect();
                err(format!("model.merges[{rank}]: expected [\"left\", \"right\"], found [{}]", found.join(", ")))
            }
        },
        other => err(format!("model.merges[{rank}]: expected a string or a pair, found {}", other.describe())),
    }
}

/// `added_tokens`: literal strings with their own ids (below `count`), each id and each content once
/// (contents are checked by the automaton in [`finish`]); their bytes go into `by_id`.
fn added_tokens(list: Option<&Json>, count: usize, by_id: &mut Vec<Option<Vec<u8>>>) -> Result<Vec<(String, u32)>, TokenizerError> {
    let mut added: Vec<(String, u32)> = Vec::new();
    let Some(list) = list else { return Ok(added) };
    let Some(list) = list.as_array() else {
        return err(format!("added_tokens: expected an array, found {}", list.describe()));
    };
    // which added token holds each id (ids are below `count`, so this is bounded like `by_id`)
    let mut added_at: Vec<Option<usize>> = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let id = match t.get("id").and_then(Json::as_u64).and_then(|id| usize::try_from(id).ok()) {
            Some(id) if id < count => id,
            _ => return err(format!("added_tokens[{i}]: expected an id in 0..{count}, found {}", describe_or_nothing(t.get("id")))),
        };
        let content = match t.get("content").and_then(Json::as_str) {
            Some(c) if !c.is_empty() => c,
            other => {
                return err(format!(
                    "added_tokens[{i}]: expected a non-empty `content`, found {}",
                    other.map_or("nothing".to_string(), quote)
                ))
            }
        };
        for flag in ["single_word", "lstrip", "rstrip"] {
            expect_field(t, &format!("added_tokens[{i}] {}", quote(content)), flag, is_false, "false")?;
        }
        if added_at.len() <= id {
            added_at.resize(id + 1, None);
        }
        if let Some(first) = added_at[id].replace(i) {
            return err(format!(
                "added_tokens[{i}] {}: expected a unique id, found id {id} already used by added_tokens[{first}]",
                quote(content)
            ));
        }
        if by_id.len() <= id {
            by_id.resize(id + 1, None);
        }
        // an added token may repeat a vocab entry (GPT-2's <|endoftext|>); its content wins
        by_id[id] = Some(content.as_bytes().to_vec());
        added.push((content.to_string(), id as u32));
    }
    Ok(added)
}

/// What the phases produced, for [`finish`].
struct Parts {
    ids: IdMap,
    byte_ids: [u32; 256],
    merges: PairMap,
    added: Vec<(String, u32)>,
    digits: bool,
    ignore_merges: bool,
}

/// Every id from 0 to the largest names a token; the added tokens' automaton; every token's bytes,
/// concatenated.
fn finish(by_id: Vec<Option<Vec<u8>>>, p: Parts) -> Result<Tokenizer, TokenizerError> {
    if let Some(gap) = by_id.iter().position(Option::is_none) {
        return err(format!("model.vocab: expected the ids 0..{} to have no gaps, found no token with id {gap}", by_id.len()));
    }
    let added_matcher = AddedTokens::new(&p.added).map_err(|(first, again)| {
        TokenizerError::new(format!(
            "added_tokens[{again}]: expected each content once, found {} already in added_tokens[{first}]",
            quote(&p.added[again].0)
        ))
    })?;
    let (bytes, spans) = super::pack(by_id.into_iter().flatten());
    Ok(Tokenizer {
        bytes,
        spans,
        ids: p.ids,
        byte_ids: p.byte_ids,
        merges: p.merges,
        added_matcher,
        added: p.added,
        digits: p.digits,
        ignore_merges: p.ignore_merges,
    })
}

/// The GPT-2 byte ↔ char table: bytes `!..~`, `¡..¬`, `®..ÿ` are themselves; the other 68 bytes map,
/// in order, to U+0100 onwards (so the space 0x20 is `Ġ` U+0120).
fn byte_to_char(b: u8) -> char {
    if is_printable_byte(b) {
        char::from(b)
    } else {
        let rank = (0..b).filter(|&x| !is_printable_byte(x)).count() as u32;
        char::from_u32(256 + rank).unwrap_or('\u{FFFD}')
    }
}

fn is_printable_byte(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

/// The bytes a byte-level vocabulary string stands for, or the first char that is not byte-level.
pub(super) fn byte_level_bytes(piece: &str) -> Result<Vec<u8>, char> {
    piece.chars().map(|c| char_to_byte(c).ok_or(c)).collect()
}

/// The inverse of [`byte_to_char`].
fn char_to_byte(c: char) -> Option<u8> {
    let n = u32::from(c);
    match u8::try_from(n) {
        Ok(b) if is_printable_byte(b) => Some(b),
        _ if (256..256 + 68).contains(&n) => (0u8..=255).filter(|&x| !is_printable_byte(x)).nth((n - 256) as usize),
        _ => None,
    }
}

fn err<T>(message: String) -> Result<T, TokenizerError> {
    Err(TokenizerError::new(message))
}

fn describe_or_nothing(v: Option<&Json>) -> String {
    v.map_or("nothing".to_string(), Json::describe)
}

/// `obj[key]` must be absent or pass `accept`.
fn expect_field(obj: &Json, section: &str, key: &str, accept: fn(&Json) -> bool, expected: &str) -> Result<(), TokenizerError> {
    match obj.get(key) {
        None => Ok(()),
        Some(v) if accept(v) => Ok(()),
        Some(v) => err(format!("{section}.{key}: expected {expected}, found {}", v.describe())),
    }
}

fn is_null(v: &Json) -> bool {
    *v == Json::Null
}
fn is_false(v: &Json) -> bool {
    *v == Json::Bool(false)
}
fn is_true(v: &Json) -> bool {
    *v == Json::Bool(true)
}
fn is_null_or_empty(v: &Json) -> bool {
    *v == Json::Null || v.as_str() == Some("")
}

fn type_is(v: &Json, name: &str) -> bool {
    v.get("type").and_then(Json::as_str) == Some(name)
}

/// Checks a `ByteLevel` pre-tokenizer: no prefix space, GPT-2 regex on.
fn check_byte_level(p: &Json, section: &str) -> Result<(), TokenizerError> {
    expect_field(p, section, "add_prefix_space", is_false, "false")?;
    expect_field(p, section, "use_regex", is_true, "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_alphabet_is_a_bijection() {
        let chars: Vec<char> = (0..=255u8).map(byte_to_char).collect();
        assert_eq!(chars[usize::from(b' ')], 'Ġ');
        assert_eq!(chars[usize::from(b'\n')], 'Ċ');
        assert_eq!(chars[usize::from(b'A')], 'A');
        for (b, &c) in chars.iter().enumerate() {
            assert_eq!(char_to_byte(c), Some(b as u8));
        }
        assert_eq!(char_to_byte('€'), None);
        assert_eq!(char_to_byte('\u{144}'), None); // just past the 68 remapped bytes
    }
}
