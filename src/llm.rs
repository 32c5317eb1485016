//! A large model's engine: a Llama-family GGUF file ([`crate::llama`]) with its tokenizer, whose
//! analyses stay inside wasm. A 30-layer × 9-head trace is tens of megabytes, so instead of sending
//! it to JavaScript, [`Llm::analyze`] keeps it and returns a compact [`Summary`] (the tokens, the
//! prediction, and for every head a few numbers measured on this text and a small thumbnail of its
//! weights), and [`Llm::view`] hands out one step of one head of one layer at a time.
//!
//! Limits: [`budget::LARGE`] (a large model runs in a Web Worker and its trace is not copied), and
//! [`MAX_FILE_BYTES`] for the file.

use serde::Serialize;

mod gallery;
mod view;

pub use gallery::{HeadSummary, THUMBNAIL};
pub use view::{View, STEPS};

use crate::budget;
use crate::config::{Config, Positions};
use crate::gguf::llama::{self as gguf_llama, TokenizerData};
use crate::heads::HeadProfile;
use crate::llama::{Llama, LlamaTrace};
use crate::message::{self, float_text};
use crate::model::{top_indices, AnalyzeError};
use crate::tokenizer::Tokenizer;
use crate::trace::{record_cut, Candidate, Matrix, Options, Prediction, TokenInfo};
use crate::{last_tokens, text_tail, token_infos, LoadError, MAX_TEXT_UNITS};

/// The largest GGUF file accepted: 1 GiB (wasm32 addresses 4 GiB; the file stays in memory beside
/// the trace, the tokenizer and the page's own copy).
pub const MAX_FILE_BYTES: usize = 1 << 30;

/// "expected a GGUF file of at most 1,073,741,824 bytes (1 GB), found 1,073,741,825 bytes".
pub fn too_large(bytes: usize) -> String {
    format!(
        "expected a GGUF file of at most {} bytes ({}), found {} bytes",
        message::thousands(MAX_FILE_BYTES as u64),
        message::bytes(MAX_FILE_BYTES as u64),
        message::thousands(bytes as u64)
    )
}

/// A loaded large model and its last analysis.
#[derive(Clone, Debug)]
pub struct Llm {
    pub model: Llama,
    pub tokenizer: Tokenizer,
    /// A head profile measured on held-out text (`heads.json`), if one was given.
    pub heads: Option<HeadProfile>,
    /// The start token every analysis begins with (`tokenizer.ggml.add_bos_token`), if any.
    pub bos: Option<u32>,
    /// The most tokens one analysis reads (the context, or fewer if the budget says so).
    pub max_tokens: usize,
    last: Option<Analysis>,
}

/// The last analysis: what [`Llm::view`] reads.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub ids: Vec<u32>,
    pub options: Options,
    pub trace: LlamaTrace,
    pub predict: Prediction,
}

/// What [`Llm::analyze`] returns to JavaScript: everything but the trace's matrices.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub model: String,
    pub options: Options,
    /// Tokens in the whole input, the start token included (if the model has one).
    pub total_tokens: usize,
    /// Tokens of the text left out at its start (the window keeps the last `max_tokens`).
    pub dropped_tokens: usize,
    pub max_tokens: usize,
    /// UTF-16 code units cut from the start of the text before tokenizing (beyond `MAX_TEXT_UNITS`).
    pub text_cut: usize,
    /// Why fewer tokens were analysed than the text and context allow, or the text was cut; or null.
    pub notice: Option<String>,
    /// Bytes of f32 data the analysis holds inside wasm for [`Llm::view`].
    pub trace_bytes: usize,
    pub tokens: Vec<TokenInfo>,
    pub predict: PredictSummary,
    /// Every head, layer-major (`heads[layer * n_heads + head]`).
    pub heads: Vec<HeadSummary>,
}

/// The prediction without its (1, V) matrices (those come with `view(…, "predict")`).
#[derive(Clone, Debug, Serialize)]
pub struct PredictSummary {
    pub position: usize,
    pub temperature: f32,
    pub top: Vec<Candidate>,
}

impl Llm {
    /// Loads and checks a GGUF file (a Llama-family model with a `gpt2`/`smollm` tokenizer) and,
    /// optionally, its head profile. The model keeps `file` and reads its quantised weights in place.
    pub fn load(file: Vec<u8>, heads: Option<&[u8]>) -> Result<Llm, LoadError> {
        if file.len() > MAX_FILE_BYTES {
            return Err(LoadError::Weights(too_large(file.len())));
        }
        let (layout, tokenizer, bos) = {
            let parsed = gguf_llama::load(&file).map_err(|e| LoadError::Weights(e.to_string()))?;
            let tokenizer = tokenizer(&parsed.tokenizer)?;
            let bos = match (parsed.tokenizer.add_bos, parsed.tokenizer.bos) {
                (Some(true), None) => {
                    return Err(LoadError::Tokenizer(
                        "tokenizer.ggml.add_bos_token is true, but there is no tokenizer.ggml.bos_token_id".into(),
                    ))
                }
                (Some(true), bos) => bos,
                _ => None,
            };
            (Llama::layout(&parsed), tokenizer, bos)
        };
        let model = layout.with_file(file);
        let max_tokens = budget::llama_window(&model.config);
        if max_tokens <= usize::from(bos.is_some()) {
            let t = 1 + usize::from(bos.is_some());
            return Err(LoadError::Weights(format!("{}; no text can be analysed with it", budget::llama_over_budget(&model.config, t))));
        }
        let mut llm = Llm { model, tokenizer, heads: None, bos, max_tokens, last: None };
        if let Some(profile) = heads {
            llm.heads = Some(HeadProfile::parse(profile, &llm.model.name, &llm.config()).map_err(LoadError::Heads)?);
        }
        Ok(llm)
    }

    /// The model's dimensions in the tiny model's terms (for the options, the head profile and
    /// `info()`); `ln_eps` is RMSNorm's ε. [`Llama::config`] has `n_kv_heads` too.
    pub fn config(&self) -> Config {
        let c = &self.model.config;
        Config {
            vocab_size: c.vocab_size,
            d_model: c.d_model,
            n_layers: c.n_layers,
            n_heads: c.n_heads,
            d_head: c.d_head,
            d_mlp: c.d_mlp,
            context: c.context,
            ln_eps: c.rms_eps,
            positions: Positions::Rotary { base: c.rope_base },
            bos_id: self.bos,
        }
    }

    /// How many tokens the model would see for the last `MAX_TEXT_UNITS` of `text` without a
    /// context limit, the start token included (0 for a text with no tokens). No forward pass.
    pub fn count_tokens(&self, text: &str) -> usize {
        let n = self.tokenizer.encode(text_tail(text).0).len();
        n + usize::from(n > 0 && self.bos.is_some())
    }

    /// The last analysis, if there is one.
    pub fn last(&self) -> Option<&Analysis> {
        self.last.as_ref()
    }

    /// Analyses `text` (its last `MAX_TEXT_UNITS` units, then its last `max_tokens` tokens), keeps
    /// the trace for [`Llm::view`] in place of the previous one, and returns the summary. On an
    /// error before the forward pass (options, empty text) the previous analysis stays; once the
    /// forward pass is due, the previous analysis is dropped first, to make room.
    pub fn analyze(&mut self, text: &str, options: &Options) -> Result<Summary, AnalyzeError> {
        let (tail, cut) = text_tail(text);
        let mut summary = self.analyze_tail(tail, options)?;
        record_cut(&mut summary.text_cut, &mut summary.tokens, &mut summary.notice, cut, MAX_TEXT_UNITS);
        Ok(summary)
    }

    fn analyze_tail(&mut self, text: &str, options: &Options) -> Result<Summary, AnalyzeError> {
        let cfg = self.config();
        options.check(&cfg)?;
        if options.neighbours {
            return Err(AnalyzeError::BadOption("`neighbours` is not offered for a large model: expected false".into()));
        }
        let all = self.tokenizer.encode(text);
        if all.is_empty() {
            return Err(AnalyzeError::Empty);
        }
        let starts = usize::from(self.bos.is_some());
        let (window, dropped) = last_tokens(&all, self.bos, self.max_tokens);
        let t = window.len();
        // predict_position past the tokens analysed means the last token, as in the tiny engine
        let options = Options { predict_position: options.predict_position.filter(|&p| p < t), ..options.clone() }.canonical();
        let wanted = (all.len() + starts).min(cfg.context);
        let notice = (wanted > t).then(|| {
            let why = budget::llama_over_budget(&self.model.config, wanted);
            format!("{why}: only the last {} tokens are analysed", message::thousands(t as u64))
        });
        let ids: Vec<u32> = window.iter().map(|tok| tok.id).collect();
        let tokens = token_infos(&self.tokenizer, text, &window);

        let cost = budget::llama_cost(&self.model.config, t as u64)
            .ok_or_else(|| AnalyzeError::Budget(budget::llama_over_budget(&self.model.config, t)))?;
        self.last = None;
        reserve(cost.peak_bytes, t)?;
        let trace = self.model.forward(&ids, &options);
        let position = options.predict_position.unwrap_or(t - 1);
        let predict = self.predict(&trace, position, &options);
        check_finite(&trace, &predict)?;
        let heads = gallery::summaries(&self.model.config, &trace, &ids);
        let summary = Summary {
            model: self.model.name.clone(),
            options: options.clone(),
            total_tokens: all.len() + starts,
            dropped_tokens: dropped,
            max_tokens: self.max_tokens,
            text_cut: 0,
            notice,
            trace_bytes: cost.trace_bytes as usize,
            tokens,
            predict: PredictSummary { position, temperature: predict.temperature, top: predict.top.clone() },
            heads,
        };
        self.last = Some(Analysis { ids, options, trace, predict });
        Ok(summary)
    }

    /// The vector at `position` predicts the next token: probs (V) = softmax(logits / τ).
    fn predict(&self, trace: &LlamaTrace, position: usize, o: &Options) -> Prediction {
        let last = trace.layers.last().map_or(&trace.embeddings, |l| &l.output);
        let (normed, logits) = self.model.logits(last.row(position));
        let mut probs = logits.clone();
        probs.data.iter_mut().for_each(|z| *z /= o.temperature);
        crate::kernels::softmax_rows(&mut probs.data, 1, probs.cols, false);
        let top = top_indices(&probs.data, o.top_k)
            .into_iter()
            .map(|i| Candidate { id: i as u32, text: self.tokenizer.token_display(i as u32), logit: logits.data[i], prob: probs.data[i] })
            .collect();
        Prediction { position, temperature: o.temperature, normed, logits, probs, top }
    }
}

/// The tokenizer of a GGUF file's `tokenizer.ggml.*` data: control (3) and user-defined (4) tokens
/// are special, matched literally in the text; `smollm` splits digits one by one first.
fn tokenizer(data: &TokenizerData) -> Result<Tokenizer, LoadError> {
    let special: Vec<bool> = match &data.token_types {
        Some(types) => types.iter().map(|&ty| ty == 3 || ty == 4).collect(),
        None => vec![false; data.tokens.len()],
    };
    Tokenizer::from_vocab(&data.tokens, &special, &data.merges, data.pre == "smollm").map_err(|e| LoadError::Tokenizer(e.to_string()))
}

/// Makes sure `bytes` more can be allocated now, so that the analysis does not run out of memory
/// halfway (on wasm32 an allocation failure aborts): the memory is reserved and released, and stays
/// with the allocator for the analysis to use.
fn reserve(bytes: u64, t: usize) -> Result<(), AnalyzeError> {
    let refuse = || {
        AnalyzeError::Budget(format!(
            "an analysis of {} tokens needs {} of memory, and no more could be had (close other tabs, or analyse a shorter text)",
            message::thousands(t as u64),
            message::bytes(bytes)
        ))
    };
    let n = usize::try_from(bytes).map_err(|_| refuse())?;
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(n).map_err(|_| refuse())
}

/// Refuses a trace with NaN or ∞ (weights too large for f32 arithmetic), naming where it first went wrong.
fn check_finite(trace: &LlamaTrace, predict: &Prediction) -> Result<(), AnalyzeError> {
    let bad = |m: &Matrix| m.data.iter().copied().find(|v| !v.is_finite());
    for (l, layer) in trace.layers.iter().enumerate() {
        for (h, head) in layer.heads.iter().enumerate() {
            if let Some(v) = bad(&head.weights) {
                return Err(AnalyzeError::Overflow(format!(
                    "{} in the attention weights of layer {}, head {}",
                    float_text(v),
                    l + 1,
                    h + 1
                )));
            }
        }
        if let Some(v) = bad(&layer.output) {
            return Err(AnalyzeError::Overflow(format!("{} in the output of layer {}", float_text(v), l + 1)));
        }
    }
    match bad(&predict.probs) {
        Some(v) => Err(AnalyzeError::Overflow(format!("{} in the next-token probabilities", float_text(v)))),
        None => Ok(()),
    }
}
