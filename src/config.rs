//! A model's dimensions and how positions enter it: what every other module sizes itself by. Read
//! from a weights file's `config` metadata (`weights.rs`) and checked there (`weights::check_config`).

use serde::Serialize;

/// Dimensions of a model (the `config` metadata of a weights file, see `model/FORMAT.md`).
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// How a token's position enters the model.
    pub positions: Positions,
    /// The start token every analysis begins with (`<|endoftext|>`), if the model was trained with one.
    pub bos_id: Option<u32>,
}

/// How a token's position enters the model. In JS: `{ kind: "learned" }` or `{ kind: "rope", base }`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Positions {
    /// A learned table `pos_emb` (context, d_model) added to the token embeddings.
    Learned,
    /// Rotary positions (RoPE): each head's queries and keys are turned by their position, pair by
    /// pair, with angle t·base^(−2i/d_head) for pair i at position t; the embeddings have no position part.
    #[serde(rename = "rope")]
    Rotary { base: f32 },
}
