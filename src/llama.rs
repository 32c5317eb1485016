//! The Llama family (SmolLM2, Llama, …) from a GGUF file: its weights, kept quantised, and its
//! forward pass top to bottom. The twin of `model.rs`'s tiny GPT-style model, step for step:
//!
//! | step        | tiny GPT-style (`model.rs`)        | Llama family (here)                                  |
//! |-------------|------------------------------------|------------------------------------------------------|
//! | embed       | W_E[ids] + P (or rotary: W_E[ids]) | W_E[ids], dequantised rows                           |
//! | norm        | LayerNorm (`norm`)                 | RMSNorm ([`rms_norm`])                               |
//! | Q, K, V     | one K and V per query head         | n_kv_heads K and V heads; query head h reads K/V head h / (n_heads / n_kv_heads) |
//! | rotate      | [`Rotary`] (rotary models)         | [`Rotary`] with the file's base, on adjacent pairs   |
//! | scores…mix  | [`attend`]                         | [`attend`]                                           |
//! | delta       | Σ_h mixed_h · W_O[h]               | concat_h(mixed_h) · W_Oᵀ                              |
//! | MLP         | GELU (`mlp`)                       | SwiGLU ([`swiglu_mlp`])                              |
//! | predict     | tied W_E                           | `output.weight`, or tied W_E                         |
//!
//! GGUF's llama converter permutes the rows of W_Q and W_K so that rotating adjacent pairs
//! (x[2i], x[2i+1]) of the file's rows is Hugging Face's rotation of half-split pairs: the rows are
//! used as they are (`tests/reference/gguf_reference.py` does the same and predicts " Paris").
//!
//! The weights stay as the file has them: [`Llama`] owns the file's bytes, and each quantised matrix
//! is a byte range of it that the kernels read block by block (`kernels::matmul_bt_dequant`,
//! approach (a): exact to f32). Only norms, and matrices stored as F32 or F16, are f32 vectors.

use std::ops::Range;

use crate::gguf::llama::{LlamaConfig, LlamaFile};
use crate::gguf::{Tensor, TensorType};
use crate::kernels::{self, quant::QuantFormat};
use crate::model::{attend, Attention, Rotary};
use crate::trace::{Matrix, Options};

/// A weight matrix W of `rows` rows of `cols` (GGUF shape [cols, rows]): y = x·Wᵀ.
#[derive(Clone, Debug)]
pub enum Linear {
    /// Quantised blocks, in place in the file: `bytes` is the matrix's range of [`Llama::file`].
    Quant { format: QuantFormat, bytes: Range<usize>, rows: usize, cols: usize },
    /// F32 or F16 in the file, widened to f32 once at load.
    Float { data: Vec<f32>, rows: usize, cols: usize },
}

impl Linear {
    fn from_tensor(t: &Tensor) -> Linear {
        let (rows, cols) = (t.rows(), t.cols());
        match t.ty {
            TensorType::Quant(format) => Linear::Quant { format, bytes: t.offset..t.offset + t.data.len(), rows, cols },
            TensorType::F32 | TensorType::F16 => Linear::Float { data: t.to_f32(), rows, cols },
        }
    }

    pub fn rows(&self) -> usize {
        match self {
            Linear::Quant { rows, .. } | Linear::Float { rows, .. } => *rows,
        }
    }
}

/// One layer's weights.
#[derive(Clone, Debug)]
pub struct LlamaLayer {
    pub attn_norm: Vec<f32>, // (D)
    pub attn_q: Linear,      // (H·Dh, D)
    pub attn_k: Linear,      // (G·Dh, D)
    pub attn_v: Linear,      // (G·Dh, D)
    pub attn_output: Linear, // (D, H·Dh)
    pub ffn_norm: Vec<f32>,  // (D)
    pub ffn_gate: Linear,    // (F, D)
    pub ffn_up: Linear,      // (F, D)
    pub ffn_down: Linear,    // (D, F)
}

/// A loaded Llama-family model. Shapes: T tokens, D = d_model, H = n_heads, G = n_kv_heads,
/// Dh = d_head, F = d_mlp, V = vocab_size. (`Debug` shows the file's size, not its bytes.)
#[derive(Clone)]
pub struct Llama {
    /// `general.name`, or "llama" when the file has none.
    pub name: String,
    pub config: LlamaConfig,
    /// The GGUF file's bytes: the quantised matrices are ranges of it.
    file: Vec<u8>,
    pub token_embd: Linear, // (V, D)
    pub layers: Vec<LlamaLayer>,
    pub output_norm: Vec<f32>, // (D)
    /// None: the output is tied to `token_embd`.
    pub output: Option<Linear>, // (V, D)
}

impl std::fmt::Debug for Llama {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llama")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("file_bytes", &self.file.len())
            .finish_non_exhaustive()
    }
}

/// One layer's intermediates (its input is the previous layer's `output`, or the embeddings).
#[derive(Clone, Debug)]
pub struct LlamaLayerTrace {
    pub normed: Matrix,               // (T, D)   RMSNorm(E) · attn_norm
    pub queries: Vec<Matrix>,         // H × (T, Dh)  normed · W_Q[h]ᵀ
    pub keys: Vec<Matrix>,            // G × (T, Dh)  normed · W_K[g]ᵀ
    pub values: Vec<Matrix>,          // G × (T, Dh)  normed · W_V[g]ᵀ
    pub rotated_queries: Vec<Matrix>, // H × (T, Dh)
    pub rotated_keys: Vec<Matrix>,    // G × (T, Dh)
    /// Per query head h, against key/value head [`LlamaConfig::kv_head`]`(h)`: scores, scaled,
    /// masked, weights (T, T) and mixed (T, Dh).
    pub heads: Vec<Attention>,
    pub delta: Matrix,   // (T, D)  concat_h(mixed_h) · W_Oᵀ, a switched-off head's mixed counted as 0
    pub updated: Matrix, // (T, D)  E + ΔE
    pub mlp: SwigluTrace,
    pub output: Matrix, // (T, D)  updated + mlp.out
}

/// The SwiGLU MLP of one layer.
#[derive(Clone, Debug)]
pub struct SwigluTrace {
    pub normed: Matrix, // (T, D)  RMSNorm(updated) · ffn_norm
    pub hidden: Matrix, // (T, F)  silu(normed · W_gateᵀ) ⊙ (normed · W_upᵀ)
    pub out: Matrix,    // (T, D)  hidden · W_downᵀ
}

/// The forward pass's intermediates.
#[derive(Clone, Debug)]
pub struct LlamaTrace {
    pub embeddings: Matrix, // (T, D)  W_E[ids]
    pub layers: Vec<LlamaLayerTrace>,
}

/// A model whose quantised matrices are byte ranges of a file it does not hold yet.
#[derive(Debug)]
pub struct Layout(Llama);

impl Layout {
    /// The model, holding `file`: the same bytes [`Llama::layout`] was given, parsed.
    pub fn with_file(self, file: Vec<u8>) -> Llama {
        Llama { file, ..self.0 }
    }
}

impl LlamaConfig {
    /// The key/value head query head `h` reads: h / (n_heads / n_kv_heads).
    pub fn kv_head(&self, h: usize) -> usize {
        h / (self.n_heads / self.n_kv_heads)
    }
}

impl Llama {
    /// The model's layout from a checked file ([`crate::gguf::llama::load`]): every tensor found,
    /// norms and F32/F16 matrices widened, quantised matrices as byte ranges of the file, which
    /// [`Layout::with_file`] then hands over (the parsed file borrows it until then).
    pub fn layout(parsed: &LlamaFile) -> Layout {
        let t = &parsed.tensors;
        let norm = |x: &Tensor| x.to_f32();
        let layers = t
            .layers
            .iter()
            .map(|l| LlamaLayer {
                attn_norm: norm(&l.attn_norm),
                attn_q: Linear::from_tensor(&l.attn_q),
                attn_k: Linear::from_tensor(&l.attn_k),
                attn_v: Linear::from_tensor(&l.attn_v),
                attn_output: Linear::from_tensor(&l.attn_output),
                ffn_norm: norm(&l.ffn_norm),
                ffn_gate: Linear::from_tensor(&l.ffn_gate),
                ffn_up: Linear::from_tensor(&l.ffn_up),
                ffn_down: Linear::from_tensor(&l.ffn_down),
            })
            .collect();
        let name = match parsed.gguf.get("general.name").and_then(|v| v.as_str()) {
            Some(n) if !n.trim().is_empty() => n.trim().chars().take(200).collect(),
            _ => "llama".to_string(),
        };
        Layout(Llama {
            name,
            config: parsed.config.clone(),
            token_embd: Linear::from_tensor(&t.token_embd),
            layers,
            output_norm: norm(&t.output_norm),
            output: t.output.as_ref().map(Linear::from_tensor),
            file: Vec::new(),
        })
    }

    /// Bytes of the GGUF file the model holds.
    pub fn file_bytes(&self) -> usize {
        self.file.len()
    }

    /// The forward pass for token ids (each below `vocab_size`), top to bottom.
    pub fn forward(&self, ids: &[u32], options: &Options) -> LlamaTrace {
        let c = &self.config;
        debug_assert!(ids.iter().all(|&id| (id as usize) < c.vocab_size));
        let embeddings = self.embed(ids);
        // the rotary angles of positions 0..T, shared by every head of every layer
        let rotary = Rotary::new(c.rope_base, ids.len(), c.d_head);
        let mut layers: Vec<LlamaLayerTrace> = Vec::with_capacity(c.n_layers);
        for l in 0..c.n_layers {
            let input = layers.last().map_or(&embeddings, |prev| &prev.output);
            let layer = self.layer(l, input, &rotary, options);
            layers.push(layer);
        }
        LlamaTrace { embeddings, layers }
    }

    /// embeddings (T,D) = W_E[ids]: each token's row, dequantised. No position part: positions come
    /// in at the rotation.
    fn embed(&self, ids: &[u32]) -> Matrix {
        let d = self.config.d_model;
        let mut e = Matrix::zeros(ids.len(), d);
        for (row, &id) in e.data.chunks_exact_mut(d).zip(ids) {
            self.row(&self.token_embd, id as usize, row);
        }
        e
    }

    /// One layer: RMSNorm, grouped-query causal self-attention with rotary positions, the residual
    /// update, then the SwiGLU MLP and its residual.
    fn layer(&self, l: usize, input: &Matrix, rotary: &Rotary, o: &Options) -> LlamaLayerTrace {
        let c = &self.config;
        let w = &self.layers[l];
        let (h_count, g_count, dh) = (c.n_heads, c.n_kv_heads, c.d_head);

        // normed (T,D) = RMSNorm(E) · attn_norm
        let normed = rms_norm(input, &w.attn_norm, c.rms_eps);
        // queries (T,H·Dh) = normed · W_Qᵀ; keys, values (T,G·Dh) = normed · W_Kᵀ, normed · W_Vᵀ; per head (T,Dh)
        let queries = split_heads(&self.linear(&w.attn_q, &normed), h_count, dh);
        let keys = split_heads(&self.linear(&w.attn_k, &normed), g_count, dh);
        let values = split_heads(&self.linear(&w.attn_v, &normed), g_count, dh);

        // rotated_queries, rotated_keys (T,Dh): each adjacent pair at position t turned by t·base^(−2i/Dh)
        let rotated_queries: Vec<Matrix> = queries.iter().map(|q| rotary.rotate(q)).collect();
        let rotated_keys: Vec<Matrix> = keys.iter().map(|k| rotary.rotate(k)).collect();

        // scores … mixed per query head h, with the keys and values of its key/value head
        let heads: Vec<Attention> =
            (0..h_count).map(|h| attend(&rotated_queries[h], &rotated_keys[c.kv_head(h)], &values[c.kv_head(h)], o)).collect();

        // delta (T,D) = concat_h(mixed_h) (T,H·Dh) · W_Oᵀ; a switched-off head contributes nothing
        let enabled: Vec<bool> = (0..h_count).map(|h| !o.disabled_heads.contains(&(l, h))).collect();
        let delta = self.linear(&w.attn_output, &concat_heads(&heads, &enabled, dh));

        // updated (T,D) = E + ΔE: the residual update
        let updated = sum(input, &delta);
        let mlp = self.swiglu_mlp(w, &updated);
        // output (T,D) = updated + mlp.out
        let output = sum(&updated, &mlp.out);
        LlamaLayerTrace { normed, queries, keys, values, rotated_queries, rotated_keys, heads, delta, updated, mlp, output }
    }

    /// The SwiGLU MLP: normed = RMSNorm(x)·ffn_norm; hidden (T,F) = silu(normed·W_gateᵀ) ⊙
    /// (normed·W_upᵀ); out (T,D) = hidden · W_downᵀ. The twin of `model.rs`'s GELU `mlp`.
    pub fn swiglu_mlp(&self, w: &LlamaLayer, x: &Matrix) -> SwigluTrace {
        let normed = rms_norm(x, &w.ffn_norm, self.config.rms_eps);
        let mut hidden = self.linear(&w.ffn_gate, &normed);
        let up = self.linear(&w.ffn_up, &normed);
        kernels::swiglu(&mut hidden.data, &up.data);
        let out = self.linear(&w.ffn_down, &hidden);
        SwigluTrace { normed, hidden, out }
    }

    /// Query head `h`'s share of layer `l`'s ΔE: delta_h (T,D) = mixed_h (T,Dh) · W_O[:, h·Dh..(h+1)·Dh]ᵀ,
    /// computed as concat(…) · W_Oᵀ with every other head's columns 0 (exactly their contribution).
    pub fn head_delta(&self, l: usize, h: usize, mixed: &Matrix) -> Matrix {
        let (n, dh) = (self.config.n_heads, self.config.d_head);
        let mut concat = Matrix::zeros(mixed.rows, n * dh);
        for (row, m) in concat.data.chunks_exact_mut(n * dh).zip(mixed.data.chunks_exact(dh)) {
            row[h * dh..(h + 1) * dh].copy_from_slice(m);
        }
        self.linear(&self.layers[l].attn_output, &concat)
    }

    /// logits (1,V) = RMSNorm(x)·output_norm · W_outᵀ, with W_out = `output.weight` or the tied
    /// W_E; returns (normed (1,D), logits).
    pub fn logits(&self, x: &[f32]) -> (Matrix, Matrix) {
        let normed = rms_norm(&Matrix::from_vec(1, x.len(), x.to_vec()), &self.output_norm, self.config.rms_eps);
        let logits = self.linear(self.output.as_ref().unwrap_or(&self.token_embd), &normed);
        (normed, logits)
    }

    /// y (T, rows) = x (T, cols) · Wᵀ, reading quantised weights in place.
    fn linear(&self, w: &Linear, x: &Matrix) -> Matrix {
        match w {
            Linear::Quant { format, bytes, rows, cols } => {
                let mut y = Matrix::zeros(x.rows, *rows);
                kernels::matmul_bt_dequant(&x.data, &self.file[bytes.clone()], *format, &mut y.data, x.rows, *cols, *rows);
                y
            }
            Linear::Float { data, rows, cols } => {
                let mut y = Matrix::zeros(x.rows, *rows);
                kernels::matmul_bt(&x.data, data, &mut y.data, x.rows, *cols, *rows);
                y
            }
        }
    }

    /// dst (cols) ← row r of W (dequantised).
    fn row(&self, w: &Linear, r: usize, dst: &mut [f32]) {
        match w {
            Linear::Quant { format, bytes, cols, .. } => {
                let size = format.row_bytes(*cols).unwrap_or(0);
                let at = bytes.start + r * size;
                kernels::dequantize_row(*format, &self.file[at..at + size], dst);
            }
            Linear::Float { data, cols, .. } => dst.copy_from_slice(&data[r * cols..(r + 1) * cols]),
        }
    }
}

/// out (T,D) = RMSNorm of each row of x, times gamma: the twin of `model.rs`'s LayerNorm `norm`.
pub fn rms_norm(x: &Matrix, gamma: &[f32], eps: f32) -> Matrix {
    let mut out = Matrix::zeros(x.rows, x.cols);
    kernels::rms_norm(&x.data, gamma, &mut out.data, x.rows, x.cols, eps);
    out
}

/// x (T, n·Dh) cut into its n heads, each (T,Dh).
fn split_heads(x: &Matrix, n: usize, dh: usize) -> Vec<Matrix> {
    (0..n)
        .map(|h| Matrix::from_vec(x.rows, dh, x.data.chunks_exact(x.cols).flat_map(|row| &row[h * dh..(h + 1) * dh]).copied().collect()))
        .collect()
}

/// concat (T, H·Dh): each enabled head's mixed side by side (a switched-off head's columns stay 0).
fn concat_heads(heads: &[Attention], enabled: &[bool], dh: usize) -> Matrix {
    let t = heads.first().map_or(0, |h| h.mixed.rows);
    let width = heads.len() * dh;
    let mut out = Matrix::zeros(t, width);
    for (h, head) in heads.iter().enumerate().filter(|&(h, _)| enabled[h]) {
        for (row, m) in out.data.chunks_exact_mut(width).zip(head.mixed.data.chunks_exact(dh)) {
            row[h * dh..(h + 1) * dh].copy_from_slice(m);
        }
    }
    out
}

/// a + b elementwise.
fn sum(a: &Matrix, b: &Matrix) -> Matrix {
    let mut out = a.clone();
    out.data.iter_mut().zip(&b.data).for_each(|(x, y)| *x += y);
    out
}
