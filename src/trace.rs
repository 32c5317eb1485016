//! The trace: every intermediate of one analysis, named after the math (ARCHITECTURE.md's vocabulary).
//!
//! Shapes use T = tokens analysed (≤ context), D = d_model, Dh = d_head, F = d_mlp, V = vocab_size.
//! Matrices are row-major; in attention grids the row is the query (the token that looks) and the
//! column is the key (the token looked at).

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::config::Config;
use crate::message::thousands;

/// A row-major f32 matrix. In JS it arrives as `{ shape: [rows, cols], data: Float32Array }`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    /// A (rows×cols) matrix of zeros. Panics, naming the shape, if rows·cols overflows `usize` (32 bits
    /// on wasm32): callers bound their shapes first (`budget.rs`), so this is a bug, never a wrap.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix { rows, cols, data: vec![0.0; elements(rows, cols)] }
    }

    pub fn from_vec(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), elements(rows, cols), "Matrix::from_vec: expected rows·cols = {rows}·{cols} elements");
        Matrix { rows, cols, data }
    }

    pub fn row(&self, i: usize) -> &[f32] {
        assert!(i < self.rows, "Matrix::row: expected a row below {}, found {i}", self.rows);
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.cols + j]
    }
}

/// rows·cols, checked: panics with the shape instead of wrapping.
fn elements(rows: usize, cols: usize) -> usize {
    match rows.checked_mul(cols) {
        Some(n) => n,
        None => panic!("a matrix of {rows}×{cols} elements does not fit in usize ({} bits)", usize::BITS),
    }
}

impl Serialize for Matrix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Matrix", 2)?;
        st.serialize_field("shape", &[self.rows, self.cols])?;
        st.serialize_field("data", &F32s(&self.data))?;
        st.end()
    }
}

/// f32 data: a `Float32Array` when serialised for JS by serde-wasm-bindgen, a plain sequence elsewhere.
struct F32s<'a>(&'a [f32]);

/// A `Vec<f32>` field as [`F32s`] (`#[serde(serialize_with = "f32s")]`).
fn f32s<S: Serializer>(v: &[f32], s: S) -> Result<S::Ok, S::Error> {
    F32s(v).serialize(s)
}

impl Serialize for F32s<'_> {
    #[cfg(target_arch = "wasm32")]
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_wasm_bindgen::preserve::serialize(&js_sys::Float32Array::from(self.0), s)
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// What the user asked for: ablations and the prediction's settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Options {
    /// Divide scores by √d_head (switch off to see why it is there).
    pub scale: bool,
    /// Apply the causal mask (switch off to let tokens look ahead).
    pub causal: bool,
    /// Heads switched off, as `[layer, head]` pairs: their ΔE is zero.
    pub disabled_heads: Vec<(usize, usize)>,
    /// Softmax temperature τ for the next-token prediction (> 0).
    pub temperature: f32,
    /// Which position predicts: a token index below the context (default: the last token). Past the
    /// tokens of a shorter text, the last token predicts (`Trace::options` then says null).
    pub predict_position: Option<usize>,
    /// How many next-token candidates to list.
    pub top_k: usize,
    /// Also list each token's nearest vocabulary embeddings before and after the layers.
    pub neighbours: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scale: true,
            causal: true,
            disabled_heads: Vec::new(),
            temperature: 1.0,
            predict_position: None,
            top_k: 10,
            neighbours: false,
        }
    }
}

/// One token of the analysed window.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TokenInfo {
    pub id: u32,
    /// The token as a user should read it (leading space included).
    pub text: String,
    /// Where it came from in the input text, in UTF-16 code units (JS string indices). The start token
    /// is not in the text: its span is empty, just before the first token of the text it precedes.
    pub start: usize,
    pub end: usize,
    /// A special token of the tokenizer, not text: the start token `<|endoftext|>` that a model with a
    /// start token sees first, or one typed literally.
    pub special: bool,
}

/// One attention head of one layer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HeadTrace {
    /// False when switched off by an ablation: its `delta` is then all zeros.
    pub enabled: bool,
    pub queries: Matrix, // (T, Dh)  Q_h = normed · W_Q[:, h]
    pub keys: Matrix,    // (T, Dh)  K_h = normed · W_K[:, h]
    /// Rotary models only (None otherwise): Q_h and K_h with each pair (x[2i], x[2i+1]) at position t
    /// turned by t·base^(−2i/Dh); the scores use these.
    pub rotated_queries: Option<Matrix>, // (T, Dh)
    pub rotated_keys: Option<Matrix>, // (T, Dh)
    pub values: Matrix,  // (T, Dh)  V_h = normed · W_V[:, h]
    pub scores: Matrix,  // (T, T)   Q_h · K_hᵀ (rotated, in a rotary model)
    pub scaled: Matrix,  // (T, T)   scores / √Dh (or scores, if scaling is switched off)
    pub masked: Matrix,  // (T, T)   scaled with −∞ where key > query (unless the mask is switched off)
    /// (T) max_k masked[q, k]: what the softmax of row q subtracts first.
    #[serde(serialize_with = "f32s")]
    pub masked_row_max: Vec<f32>,
    /// (T) Σ_k exp(masked[q, k] − masked_row_max[q]): what it then divides by (so
    /// exp(masked[q, k] − max) = weights[q, k] · masked_row_sum_exp[q]).
    #[serde(serialize_with = "f32s")]
    pub masked_row_sum_exp: Vec<f32>,
    pub weights: Matrix, // (T, T)   softmax of each row of masked
    /// (T) Σ_k weights[q, k] (1 up to rounding).
    #[serde(serialize_with = "f32s")]
    pub weights_row_sum: Vec<f32>,
    pub mixed: Matrix, // (T, Dh)  weights · V_h
    pub delta: Matrix, // (T, D)   mixed · W_O[h, :]: this head's share of ΔE
}

/// The MLP of one layer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MlpTrace {
    pub normed: Matrix, // (T, D)  LN(updated; ln2)
    pub hidden: Matrix, // (T, F)  gelu(normed · W_in + b_in)
    pub out: Matrix,    // (T, D)  hidden · W_out + b_out
}

/// One layer: attention, then (if the model has one) the MLP.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerTrace {
    pub input: Matrix,  // (T, D)  E entering the layer
    pub normed: Matrix, // (T, D)  LN(E; ln1)
    pub heads: Vec<HeadTrace>,
    pub delta: Matrix,   // (T, D)  ΔE = Σ_h head delta
    pub updated: Matrix, // (T, D)  E + ΔE
    pub mlp: Option<MlpTrace>,
    pub output: Matrix, // (T, D)  updated + MLP out (= updated without an MLP)
    /// How far each token's vector turned, as the cosine of the angle between before and after:
    /// attention's move E → E + ΔE, then the MLP's E + ΔE → E′ (all 1 without an MLP).
    pub cos_updated: Matrix, // (T, 1)  cos(input_i, updated_i)
    pub cos_output: Matrix, // (T, 1)  cos(updated_i, output_i)
}

/// A next-token candidate.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub id: u32,
    pub text: String,
    pub logit: f32,
    pub prob: f32,
}

/// What one position predicts comes next.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Prediction {
    pub position: usize,
    pub temperature: f32,
    pub normed: Matrix, // (1, D)  LN(E′_position; ln_f)
    pub logits: Matrix, // (1, V)  normed · W_Eᵀ
    pub probs: Matrix,  // (1, V)  softmax(logits / τ)
    pub top: Vec<Candidate>,
}

/// 2-D coordinates on the embedding map: a fixed projection (the two leading principal components of
/// the token-embedding table), the same for every analysis of one model.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MapTrace {
    pub embeddings: Matrix,   // (T, 2)  E
    pub updated: Vec<Matrix>, // (T, 2)  each layer's E + ΔE (after attention, before the MLP)
    pub layers: Vec<Matrix>,  // (T, 2)  each layer's output E′
}

/// One token in two contexts: the cosine between its vector in the first text and in the second,
/// after each sub-step (`Engine::compare`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// The token index compared in each text's analysed window.
    pub positions: [usize; 2],
    /// `embeddings` first, then per layer `updated` (E + ΔE) and `output` (E′).
    pub stages: Vec<Stage>,
}

/// The cosine between the two contexts' vectors after one sub-step.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Stage {
    /// The trace field compared: "embeddings", "updated" or "output".
    pub name: &'static str,
    /// The layer of `updated` and `output` (0-based); None for `embeddings`.
    pub layer: Option<usize>,
    pub cosine: f32,
}

/// A vocabulary token near a vector: cosine similarity with its token-embedding row, both measured
/// from the mean embedding row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Neighbour {
    pub id: u32,
    pub text: String,
    pub similarity: f32,
}

/// Nearest vocabulary tokens per position, before (E) and after (final E′) the layers.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Neighbours {
    pub before: Vec<Vec<Neighbour>>,
    pub after: Vec<Vec<Neighbour>>,
}

/// Everything one analysis computed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Trace {
    pub model: String,
    pub config: Config,
    /// The options as applied: canonical (`Options::canonical`), and `predict_position` null when the
    /// position asked for is past the tokens analysed (a text shorter than the one it was chosen for):
    /// the last token then predicts.
    pub options: Options,
    /// What the scaling step divided every head's scores by: √d_head, or 1 with scaling switched off.
    pub score_divisor: f32,
    /// Tokens in the whole input, the start token included (if the model has one); only the last
    /// `context` are analysed (the start token and the last `context − 1` of the text).
    pub total_tokens: usize,
    /// How many tokens of the text at its start were left out because the text is longer than
    /// `max_tokens`.
    pub dropped_tokens: usize,
    /// The most tokens one analysis of this model reads: its context, or fewer if the work budget
    /// says so (`budget.rs`).
    pub max_tokens: usize,
    /// UTF-16 code units cut from the start of the text before tokenizing (texts longer than
    /// `MAX_TEXT_UNITS`); token offsets still index the whole text.
    pub text_cut: usize,
    /// Why fewer tokens were analysed than the text and context would allow, or the text was cut:
    /// a sentence for the reader, or null.
    pub notice: Option<String>,
    /// Bytes of f32 data in this trace (what JavaScript's trace cache counts).
    pub trace_bytes: usize,
    pub tokens: Vec<TokenInfo>,              // (T)  the start token first, if the model has one
    pub token_embeddings: Matrix,            // (T, D)  W_E[ids]
    pub position_embeddings: Option<Matrix>, // (T, D)  P[0..T]; None (JS null) with rotary positions
    pub embeddings: Matrix,                  // (T, D)  E = W_E[ids] + P (= W_E[ids] with rotary positions)
    pub layers: Vec<LayerTrace>,
    pub predict: Prediction,
    pub map: MapTrace,
    pub neighbours: Option<Neighbours>,
}

impl Trace {
    /// Records that `units` UTF-16 code units were cut from the start of the text before it reached
    /// the tokenizer: token offsets move by as much, and the notice says so.
    pub fn cut_text(&mut self, units: usize, limit: usize) {
        record_cut(&mut self.text_cut, &mut self.tokens, &mut self.notice, units, limit);
    }
}

/// Records in an analysis's fields that `units` UTF-16 code units were cut from the start of the
/// text (texts longer than `limit` units): token offsets move by as much, and the notice says so.
pub fn record_cut(text_cut: &mut usize, tokens: &mut [TokenInfo], notice: &mut Option<String>, units: usize, limit: usize) {
    if units == 0 {
        return;
    }
    *text_cut += units;
    for t in tokens {
        t.start += units;
        t.end += units;
    }
    let said =
        format!("the text is longer than {} characters: only its last {} were read", thousands(limit as u64), thousands(limit as u64));
    *notice = Some(match notice.take() {
        Some(n) => format!("{said}; {n}"),
        None => said,
    });
}
