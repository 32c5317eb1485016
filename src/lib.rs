//! attention-explorer: a tiny pretrained decoder-only transformer whose forward pass returns a
//! [`trace::Trace`] of every intermediate, named after the math, for the page and widget to draw.
//!
//! `src/` computes, `www/` draws. `model/FORMAT.md` specifies the weights, tokenizer and golden files.
//!
//! [`Engine`] (here) is a model with its tokenizer: it cuts the text into tokens, picks the window the
//! model reads and hands the token ids to [`model::Model::analyze`], then puts the token texts and
//! their offsets into the [`trace::Trace`].
//!
//! - [`config`]: a model's dimensions and how positions enter it.
//! - [`model`]: the weights and the forward pass top to bottom, one function per step.
//! - [`budget`]: what one analysis costs (bytes, work) from the dimensions, before it starts.
//! - [`options`]: the one validator of the analysis options, and their canonical key.
//! - [`trace`]: the intermediates the forward pass returns, with their shapes.
//! - [`kernels`]: matmul, softmax, layer norm, gelu: scalar spec and wasm simd128, one dispatch point.
//! - [`weights`]: the safetensors reader and validator, driven by one table of tensors.
//! - [`heads`]: a model's measured head profile (what each head does, and its name).
//! - [`gguf`]: the GGUF reader (metadata, tensors kept quantised) and the Llama model checks.
//! - [`llama`]: the Llama family's weights (quantised, in place in the file) and forward pass.
//! - [`llm`]: a large model's engine: analyses whose trace stays inside wasm, a per-head summary,
//!   and one head and step at a time on request.
//! - [`tokenizer`]: byte-level BPE that never fails on UTF-8 input.
//! - [`json`]: the small JSON reader the tokenizer, the weights header and the head profile share.
//! - [`message`]: numbers as messages and notices print them.
//! - `wasm` (wasm32 only): the JavaScript surface, `Explorer` and `LlmExplorer`.
//!
//! Modules depend one way: `config`, `json`, `message` and `kernels` on nothing of the crate; `trace`
//! and `budget` on `config` and `message`; `model` on those and `kernels`; `llama` and `llm` on `model`, `gguf` and `tokenizer`; `weights` and `options` on
//! `model`; `tokenizer` and `heads` on `json` (and `config`); this file and `wasm` on everything.

pub mod budget;
pub mod config;
pub mod gguf;
pub mod heads;
pub mod json;
pub mod kernels;
pub mod llama;
pub mod llm;
pub mod message;
pub mod model;
pub mod options;
pub mod tokenizer;
pub mod trace;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

use heads::HeadProfile;
use model::{Analysis, AnalyzeError, Model};
use tokenizer::{Token, Tokenizer};
use trace::{Comparison, Options, Stage, TokenInfo, Trace};

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
    Mismatch {
        tokenizer_vocab: usize,
        model_vocab: usize,
    },
    /// The weights' start token is not a token of the tokenizer.
    StartToken {
        bos_id: u32,
        tokenizer_vocab: usize,
    },
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
            Err(AnalyzeError::Overflow(m)) => {
                Err(LoadError::Weights(format!("expected values that 32-bit floats can compute with, found {m} when analysing {PROBE:?}")))
            }
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
    /// (the start token first, if the model has one) and returns every intermediate. A
    /// `predict_position` past the tokens analysed means the last token (see `Trace::options`).
    pub fn analyze(&self, text: &str, options: &Options) -> Result<Trace, AnalyzeError> {
        let cfg = self.model.config();
        options.check(cfg)?;
        let (tail, cut) = text_tail(text);
        let window = self.window(tail)?;
        let t = window.tokens.len();
        let options = Options { predict_position: options.predict_position.filter(|&p| p < t), ..options.clone() }.canonical();
        let ids: Vec<u32> = window.tokens.iter().map(|tok| tok.id).collect();
        let Analysis { forward, mut predict, map, mut neighbours } = self.model.analyze(&ids, &options)?;
        for c in &mut predict.top {
            c.text = self.tokenizer.token_display(c.id);
        }
        for n in neighbours.iter_mut().flat_map(|n| n.before.iter_mut().chain(n.after.iter_mut())).flatten() {
            n.text = self.tokenizer.token_display(n.id);
        }
        let tokens = token_infos(&self.tokenizer, tail, &window.tokens);
        let mut trace = Trace {
            model: self.model.weights.name.clone(),
            config: cfg.clone(),
            score_divisor: self.model.score_divisor(&options),
            options,
            total_tokens: window.total_tokens,
            dropped_tokens: window.dropped_tokens,
            max_tokens: window.max_tokens,
            text_cut: 0,
            notice: window.notice,
            trace_bytes: budget::cost(cfg, t as u64).map_or(usize::MAX, |c| c.trace_bytes as usize),
            tokens,
            token_embeddings: forward.token_embeddings,
            position_embeddings: forward.position_embeddings,
            embeddings: forward.embeddings,
            layers: forward.layers,
            predict,
            map,
            neighbours,
        };
        trace.cut_text(cut, MAX_TEXT_UNITS);
        Ok(trace)
    }

    /// The tokens one analysis of `text` reads: the last `max_tokens` (the context, or fewer if the
    /// work budget says so), the start token first if the model has one, then the end of the text.
    fn window(&self, text: &str) -> Result<Window, AnalyzeError> {
        let cfg = self.model.config();
        let max_tokens = budget::window(cfg);
        if max_tokens == 0 {
            return Err(AnalyzeError::Budget(budget::over_budget(cfg, 1)));
        }
        let all = self.tokenizer.encode(text);
        if all.is_empty() {
            return Err(AnalyzeError::Empty);
        }
        let starts = usize::from(cfg.bos_id.is_some());
        if max_tokens <= starts {
            return Err(AnalyzeError::Budget(budget::over_budget(cfg, 1 + starts)));
        }
        let (tokens, dropped) = last_tokens(&all, cfg.bos_id, max_tokens);
        // the budget, not the context, left tokens out: say why
        let wanted = (all.len() + starts).min(cfg.context);
        let notice = (wanted > tokens.len()).then(|| budget::notice(cfg, wanted, tokens.len()));
        Ok(Window { total_tokens: all.len() + starts, dropped_tokens: dropped, max_tokens, notice, tokens })
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

/// The tokens one analysis reads, and how they relate to the whole text (`Trace`'s fields of the
/// same names).
struct Window {
    tokens: Vec<Token>,
    total_tokens: usize,
    dropped_tokens: usize,
    max_tokens: usize,
    notice: Option<String>,
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

/// The tokens one analysis reads of `all` (not empty): the last `max_tokens` (more than the start
/// token), the start token first if the model has one (`bos`), zero-width just before the first token
/// kept; and how many tokens of the text were left out at its start.
pub(crate) fn last_tokens(all: &[Token], bos: Option<u32>, max_tokens: usize) -> (Vec<Token>, usize) {
    let starts = usize::from(bos.is_some());
    let dropped = all.len().saturating_sub(max_tokens - starts);
    let start = bos.map(|id| Token { id, start: all[dropped].start, end: all[dropped].start });
    (start.into_iter().chain(all[dropped..].iter().copied()).collect(), dropped)
}

/// What JavaScript is told of each token of `window` (tokens of `text`): id, display text, UTF-16 span,
/// and whether it is a special (added) token.
pub(crate) fn token_infos(tokenizer: &Tokenizer, text: &str, window: &[Token]) -> Vec<TokenInfo> {
    let spans = utf16_spans(text, window.iter().map(|tok| (tok.start, tok.end)));
    window
        .iter()
        .zip(spans)
        .map(|(tok, (start, end))| TokenInfo {
            id: tok.id,
            text: tokenizer.token_display(tok.id),
            start,
            end,
            special: tokenizer.is_added(tok.id),
        })
        .collect()
}

/// Converts byte spans of `text` (in order, on char boundaries) to UTF-16 code-unit spans.
pub(crate) fn utf16_spans(text: &str, spans: impl Iterator<Item = (usize, usize)>) -> Vec<(usize, usize)> {
    let mut chars = text.char_indices().peekable();
    let mut units = 0usize;
    let mut at = |byte: usize| {
        while let Some(&(i, c)) = chars.peek() {
            if i >= byte {
                break;
            }
            units += c.len_utf16();
            chars.next();
        }
        units
    };
    spans.map(|(s, e)| (at(s), at(e))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_spans_count_surrogate_pairs() {
        let text = "a🦊é";
        // bytes: a=0..1, 🦊=1..5, é=5..7; UTF-16: a=0..1, 🦊=1..3, é=3..4
        let spans = utf16_spans(text, [(0, 1), (1, 5), (5, 7)].into_iter());
        assert_eq!(spans, vec![(0, 1), (1, 3), (3, 4)]);
    }
}
