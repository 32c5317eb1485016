//! The model: its configuration, its weights, and the forward pass top to bottom.

use serde::{Deserialize, Serialize};

/// Dimensions of a model (the `config` metadata of a weights file, see `model/FORMAT.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub d_model: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub d_head: usize,
    /// Hidden width of the MLP; 0 means the layers are attention-only.
    pub d_mlp: usize,
    /// The context window: the most tokens one analysis sees.
    pub context: usize,
    pub ln_eps: f32,
}

/// LayerNorm parameters.
#[derive(Clone, Debug)]
pub struct Norm {
    pub weight: Vec<f32>, // (d_model)
    pub bias: Vec<f32>,   // (d_model)
}

/// The MLP of one layer.
#[derive(Clone, Debug)]
pub struct Mlp {
    pub ln: Norm,
    pub w_in: Vec<f32>,  // (d_model, d_mlp)
    pub b_in: Vec<f32>,  // (d_mlp)
    pub w_out: Vec<f32>, // (d_mlp, d_model)
    pub b_out: Vec<f32>, // (d_model)
}

/// One transformer layer.
#[derive(Clone, Debug)]
pub struct Layer {
    pub ln1: Norm,
    pub w_q: Vec<f32>, // (d_model, n_heads * d_head); head h = columns h*d_head..(h+1)*d_head
    pub w_k: Vec<f32>, // (d_model, n_heads * d_head)
    pub w_v: Vec<f32>, // (d_model, n_heads * d_head)
    pub w_o: Vec<f32>, // (n_heads * d_head, d_model); head h = rows h*d_head..(h+1)*d_head
    pub mlp: Option<Mlp>,
}

/// Every weight of a model, expanded to f32 and validated (see `weights.rs`).
#[derive(Clone, Debug)]
pub struct Weights {
    pub config: Config,
    /// A human-readable model name from the file's metadata.
    pub name: String,
    pub tok_emb: Vec<f32>, // (vocab_size, d_model); also the (tied) unembedding
    pub pos_emb: Vec<f32>, // (context, d_model)
    pub layers: Vec<Layer>,
    pub ln_f: Norm,
}
