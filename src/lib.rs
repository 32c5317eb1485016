//! attention-explorer: a tiny pretrained decoder-only transformer whose forward pass returns a
//! [`trace::Trace`] of every intermediate, named after the math, for the page and widget to draw.
//!
//! `src/` computes, `www/` draws. `model/FORMAT.md` specifies the weights, tokenizer and golden files.
//!
//! - [`model`]: `Config`, the weights, and the forward pass top to bottom, one function per step.
//! - [`budget`]: what one analysis costs (bytes, work) from the dimensions, before it starts.
//! - [`options`]: the one validator of the analysis options, and their canonical key.
//! - [`trace`]: the intermediates the forward pass returns, with their shapes.
//! - [`kernels`]: matmul, softmax, layer norm, gelu: scalar spec and wasm simd128, one dispatch point.
//! - [`weights`]: the safetensors reader and validator.
//! - [`heads`]: a model's measured head profile (what each head does, and its name).
//! - [`gguf`]: the GGUF reader (metadata, tensors kept quantised) and the Llama model checks.
//! - [`tokenizer`]: byte-level BPE that never fails on UTF-8 input.
//! - `wasm` (wasm32 only): the JavaScript surface, `Explorer`.

pub mod budget;
pub mod gguf;
pub mod heads;
pub mod kernels;
pub mod model;
pub mod options;
pub mod tokenizer;
pub mod trace;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

use heads::HeadProfile;
use model::{AnalyzeError, Model};
use tokenizer::Tokenizer;
use trace::{Comparison, Options, Stage, Trace};

/// The model compiled into the binary (see `model/MODEL.md`).
#[cfg(feature = "builtin-model")]
pub const BUILTIN_WEIGHTS: &[u8] = include_bytes!(concat!(env!("BUILTIN_MODEL_DIR"), "/model.safetensors"));
#[cfg(feature = "builtin-model")]
pub const BUILTIN_TOKENIZER: &[u8] = include_bytes!(concat!(env!("BUILTIN_MODEL_DIR"), "/tokenizer.json"));
/// The built-in model's head profile (`model/heads.json`), if the build found one (see build.rs).
#[cfg(all(feature = "builtin-model", builtin_heads))]
pub const BUILTIN_HEADS: Option<&[u8]> = Some(include_bytes!(concat!(env!("BUILTIN_MODEL_DIR"), "/heads.json")));
#[cfg(all(feature = "builtin-model", not(builtin_heads)))]
pub const BUILTIN_HEADS: Option<&[u8]> = None;

/// A model and the tokenizer that goes with it, checked against each other, and the model's head
/// profile if it has one.
#[derive(Clone, Debug)]
pub struct Engine {
    pub model: Model,
    pub tokenizer: Tokenizer,
    pub heads: Option<HeadProfile>,
}

/// Vocabulary tokens placed on the embedding map.
#[derive(Clone, Debug, serde::Serialize)]
pub struct VocabMap {
    pub ids: Vec<u32>,
    pub texts: Vec<String>,
    pub coords: trace::Matrix, // (n, 2)
}

/// Why a model could not be loaded.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadError {
    Weights(String),
    Tokenizer(String),
    /// The tokenizer's ids do not fit the weights' vocabulary.
    Mismatch { tokenizer_vocab: usize, model_vocab: usize },
    /// The weights' start token is not a token of the tokenizer.
    StartToken { bos_id: u32, tokenizer_vocab: usize },
    /// The head profile does not describe this model.
    Heads(String),
    /// The crate was built without the `builtin-model` feature.
    NoBuiltin,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Weights(m) => write!(f, "the weights file cannot be used: {m}"),
            LoadError::Tokenizer(m) => write!(f, "the tokenizer file cannot be used: {m}"),
            LoadError::Mismatch { tokenizer_vocab, model_vocab } => write!(
                f,
                "the tokenizer does not match the weights: the weights have {model_vocab} token embeddings, \
                 the tokenizer has {tokenizer_vocab} tokens"
            ),
            LoadError::StartToken { bos_id, tokenizer_vocab } => write!(
                f,
                "the tokenizer does not match the weights: the weights start every text with token id {bos_id}, \
                 the tokenizer has ids 0..{tokenizer_vocab} only"
            ),
            LoadError::Heads(m) => write!(f, "the head profile cannot be used: {m}"),
            LoadError::NoBuiltin => write!(f, "this build has no built-in model: load a weights and a tokenizer file"),
        }
    }
}

impl std::error::Error for LoadError {}

impl Engine {
    /// Loads and validates a weights file and a tokenizer file.
    pub fn load(weights: &[u8], tokenizer: &[u8]) -> Result<Engine, LoadError> {
        let weights = weights::load(weights).map_err(|e| LoadError::Weights(e.to_string()))?;
        let tokenizer = Tokenizer::from_json(tokenizer).map_err(|e| LoadError::Tokenizer(e.to_string()))?;
        let (tokenizer_vocab, model_vocab) = (tokenizer.vocab_size(), weights.config.vocab_size);
        if tokenizer_vocab > model_vocab {
            return Err(LoadError::Mismatch { tokenizer_vocab, model_vocab });
        }
        if let Some(bos_id) = weights.config.bos_id.filter(|&id| id as usize >= tokenizer_vocab) {
            return Err(LoadError::StartToken { bos_id, tokenizer_vocab });
        }
        let engine = Engine { model: Model::new(weights), tokenizer, heads: None };
        // Finite but huge values overflow in the forward pass: refuse such a model now, not on every analysis.
        const PROBE: &str = "The cat sat on the mat.";
        match engine.analyze(PROBE, &Options::default()) {
            Err(AnalyzeError::Overflow(m)) => Err(LoadError::Weights(format!(
                "expected values that 32-bit floats can compute with, found {m} when analysing {PROBE:?}"
            ))),
            _ => Ok(engine),
        }
    }

    /// The same engine with a head profile (a `heads.json` file), checked against the model.
    pub fn with_heads(mut self, profile: &[u8]) -> Result<Engine, LoadError> {
        let w = &self.model.weights;
        self.heads = Some(HeadProfile::parse(profile, &w.name, &w.config).map_err(LoadError::Heads)?);
        Ok(self)
    }

    /// The model compiled into the binary, with its head profile if the build has one.
    pub fn builtin() -> Result<Engine, LoadError> {
        #[cfg(feature = "builtin-model")]
        return match BUILTIN_HEADS {
            Some(profile) => Engine::load(BUILTIN_WEIGHTS, BUILTIN_TOKENIZER)?.with_heads(profile),
            None => Engine::load(BUILTIN_WEIGHTS, BUILTIN_TOKENIZER),
        };
        #[cfg(not(feature = "builtin-model"))]
        Err(LoadError::NoBuiltin)
    }

    /// The first `n` whole-word tokens of the vocabulary (BPE ids follow merge order, so these are the
    /// most frequent words), with their embedding-map coordinates.
    pub fn vocab_map(&self, n: usize) -> VocabMap {
        let d = self.model.config().d_model;
        let is_word = |id: u32| {
            let word = self.tokenizer.token_bytes(id).and_then(|b| std::str::from_utf8(b).ok()).map(|s| s.trim_start());
            word.is_some_and(|w| w.chars().count() >= 2 && w.chars().all(char::is_alphabetic))
        };
        let ids: Vec<u32> = (0..self.model.config().vocab_size as u32).filter(|&id| is_word(id)).take(n).collect();
        let mut rows = trace::Matrix::zeros(ids.len(), d);
        for (row, &id) in rows.data.chunks_exact_mut(d).zip(&ids) {
            row.copy_from_slice(&self.model.weights.tok_emb[id as usize * d..(id as usize + 1) * d]);
        }
        let texts = ids.iter().map(|&id| self.tokenizer.token_display(id)).collect();
        VocabMap { coords: self.model.project(&rows), ids, texts }
    }

    /// Tokenizes `text` (its last [`MAX_TEXT_UNITS`]), runs the model on its last `max_tokens` tokens
    /// (the start token first, if the model has one) and returns every intermediate.
    pub fn analyze(&self, text: &str, options: &Options) -> Result<Trace, AnalyzeError> {
        let (tail, cut) = text_tail(text);
        let mut trace = self.model.analyze(&self.tokenizer, tail, options)?;
        trace.cut_text(cut, MAX_TEXT_UNITS);
        Ok(trace)
    }

    /// One token in two contexts: analyses both texts with the same options and gives the cosine
    /// between row `positions[0]` of the first and row `positions[1]` of the second after each
    /// sub-step (E, then each layer's E + ΔE and E′). Positions index the analysed windows.
    pub fn compare(&self, texts: [&str; 2], positions: [usize; 2], options: &Options) -> Result<Comparison, AnalyzeError> {
        let a = self.analyze(texts[0], options)?;
        let b = self.analyze(texts[1], options)?;
        for (which, (trace, &p)) in ["first", "second"].iter().zip([&a, &b].into_iter().zip(&positions)) {
            if p >= trace.tokens.len() {
                let t = trace.tokens.len();
                return Err(AnalyzeError::BadOption(format!("the {which} position must be a token index below {t}, found {p}")));
            }
        }
        let [pa, pb] = positions;
        let cos = |x: &trace::Matrix, y: &trace::Matrix| model::cosine(x.row(pa), y.row(pb));
        let mut stages = vec![Stage { name: "embeddings", layer: None, cosine: cos(&a.embeddings, &b.embeddings) }];
        for (l, (la, lb)) in a.layers.iter().zip(&b.layers).enumerate() {
            stages.push(Stage { name: "updated", layer: Some(l), cosine: cos(&la.updated, &lb.updated) });
            stages.push(Stage { name: "output", layer: Some(l), cosine: cos(&la.output, &lb.output) });
        }
        Ok(Comparison { positions, stages })
    }


    /// The most tokens one analysis reads: the context, or fewer if the work budget says so.
    pub fn max_tokens(&self) -> usize {
        budget::window(self.model.config())
    }

    /// How many tokens the model would see for the last [`MAX_TEXT_UNITS`] of `text` without a context
    /// limit: the text's tokens, plus the start token if the model has one (a trace's `total_tokens`; 0
    /// for a text with no tokens). No forward pass.
    pub fn count_tokens(&self, text: &str) -> usize {
        let n = self.tokenizer.encode(text_tail(text).0).len();
        n + usize::from(n > 0 && self.model.config().bos_id.is_some())
    }
}

/// The most text one analysis reads, in UTF-16 code units (JavaScript's string length): longer texts
/// are cut from the start before anything else happens, so that no tokenizer path ever sees more. The
/// analysis reads at most a few thousand tokens (`budget.rs`), which this holds many times over.
pub const MAX_TEXT_UNITS: usize = 1 << 16;

/// The end of `text` holding at most [`MAX_TEXT_UNITS`] UTF-16 code units, on a char boundary, and
/// how many units were cut from its start: a walk back over the kept part and a count of the cut one,
/// nothing that grows faster than the text.
pub fn text_tail(text: &str) -> (&str, usize) {
    // a char has at least as many UTF-8 bytes as UTF-16 units: a text this short cannot be too long
    if text.len() <= MAX_TEXT_UNITS {
        return (text, 0);
    }
    let mut units = 0usize;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        if units + c.len_utf16() > MAX_TEXT_UNITS {
            break;
        }
        units += c.len_utf16();
        start = i;
    }
    let head = &text[..start];
    if head.is_empty() {
        return (text, 0);
    }
    (&text[start..], head.encode_utf16().count())
}
