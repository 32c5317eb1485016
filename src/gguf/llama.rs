//! A Llama model in a GGUF file: its configuration (`llama.*` metadata), its tensors and its
//! tokenizer's data (`tokenizer.ggml.*`), each checked so that the forward pass and the tokenizer
//! can index without surprises. [`load`] does it all; the pieces are public for tests and tools.
//!
//! Tensor shapes are GGUF's, innermost first: a projection from d_in to d_out is [d_in, d_out], i.e.
//! d_out rows of d_in, so y = x·Wᵀ. For layer l (`blk.l.`), with h = n_heads, g = n_kv_heads:
//!
//! | tensor                       | shape                 | tensor                 | shape           |
//! |------------------------------|-----------------------|------------------------|-----------------|
//! | token_embd.weight            | [d_model, vocab]      | blk.l.attn_norm.weight | [d_model]       |
//! | output_norm.weight           | [d_model]             | blk.l.ffn_norm.weight  | [d_model]       |
//! | output.weight (absent: tied) | [d_model, vocab]      | blk.l.ffn_gate.weight  | [d_model, d_mlp]|
//! | blk.l.attn_q.weight          | [d_model, h·d_head]   | blk.l.ffn_up.weight    | [d_model, d_mlp]|
//! | blk.l.attn_k/attn_v.weight   | [d_model, g·d_head]   | blk.l.ffn_down.weight  | [d_mlp, d_model]|
//! | blk.l.attn_output.weight     | [h·d_head, d_model]   |                        |                 |
//!
//! Norms are F32 or F16; matrices any type [`super::TensorType`] has. Mind that llama.cpp's converter
//! permutes the rows of attn_q and attn_k so that RoPE rotates adjacent pairs (the forward pass's
//! business, not this reader's).

use std::collections::HashMap;

use super::{Gguf, GgufError, Tensor, TensorType, Value};

/// Upper bounds on the dimensions, far above any model a browser can hold, so that sizes computed
/// from them cannot overflow (each product of two of them fits in u64, and in usize once the
/// tensors they describe are known to be in the file).
pub const MAX_LAYERS: usize = 512;
pub const MAX_D_MODEL: usize = 1 << 16;
pub const MAX_HEADS: usize = 1024;
pub const MAX_D_MLP: usize = 1 << 18;
pub const MAX_VOCAB: usize = 1 << 20;
pub const MAX_CONTEXT: usize = 1 << 24;

/// The configuration of a Llama model.
#[derive(Clone, Debug, PartialEq)]
pub struct LlamaConfig {
    pub n_layers: usize,
    pub d_model: usize,
    pub n_heads: usize,
    /// Key/value heads: n_heads / n_kv_heads query heads share each (grouped-query attention).
    pub n_kv_heads: usize,
    /// d_model / n_heads; `rope.dimension_count`, `attention.key_length` and `value_length` must
    /// equal it when present (every dimension of a head is rotated).
    pub d_head: usize,
    /// The SwiGLU MLP's hidden size (`feed_forward_length`).
    pub d_mlp: usize,
    pub vocab_size: usize,
    /// The context the model was trained with (`context_length`).
    pub context: usize,
    /// RoPE base θ (`rope.freq_base`, default 10,000): pair i of a head turns by pos·θ^(−2i/d_head).
    pub rope_base: f32,
    /// RMSNorm ε (`attention.layer_norm_rms_epsilon`).
    pub rms_eps: f32,
}

/// One layer's tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct LlamaLayer<'a> {
    pub attn_norm: Tensor<'a>,
    pub attn_q: Tensor<'a>,
    pub attn_k: Tensor<'a>,
    pub attn_v: Tensor<'a>,
    pub attn_output: Tensor<'a>,
    pub ffn_norm: Tensor<'a>,
    pub ffn_gate: Tensor<'a>,
    pub ffn_up: Tensor<'a>,
    pub ffn_down: Tensor<'a>,
}

/// Every tensor of the model, shapes checked against the config.
#[derive(Clone, Debug, PartialEq)]
pub struct LlamaTensors<'a> {
    pub token_embd: Tensor<'a>,
    pub layers: Vec<LlamaLayer<'a>>,
    pub output_norm: Tensor<'a>,
    /// None when the output is tied to `token_embd`.
    pub output: Option<Tensor<'a>>,
}

/// The tokenizer's data: a byte-level BPE (`gpt2`) with the `smollm` pre-tokenizer (digits split one
/// by one, then GPT-2's byte-level splitting), checked: the tokens are distinct, every merge joins
/// two tokens into a third, every special id is a token.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenizerData<'a> {
    /// `tokenizer.ggml.pre`: "smollm".
    pub pre: &'a str,
    /// Token strings by id (byte-level: bytes mapped to printable characters, as GPT-2 does).
    pub tokens: Vec<&'a str>,
    /// Id of each token string.
    pub ids: HashMap<&'a str, u32>,
    /// Token types by id (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte), if given.
    pub token_types: Option<Vec<i32>>,
    /// Merges in priority order: (left, right), whose concatenation is a token.
    pub merges: Vec<(&'a str, &'a str)>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub unknown: Option<u32>,
    pub padding: Option<u32>,
    pub add_bos: Option<bool>,
}

/// A checked Llama model file.
#[derive(Clone, Debug, PartialEq)]
pub struct LlamaFile<'a> {
    pub gguf: Gguf<'a>,
    pub config: LlamaConfig,
    pub tensors: LlamaTensors<'a>,
    pub tokenizer: TokenizerData<'a>,
}

/// Parses `bytes` and checks it as a Llama model: config, tensors (shapes, types, finite values),
/// tokenizer data. The first problem found is the error.
pub fn load(bytes: &[u8]) -> Result<LlamaFile<'_>, GgufError> {
    let gguf = Gguf::parse(bytes)?;
    let config = read_config(&gguf)?;
    let tensors = read_tensors(&gguf, &config)?;
    let tokenizer = read_tokenizer(&gguf, config.vocab_size)?;
    Ok(LlamaFile { gguf, config, tensors, tokenizer })
}

/// The metadata integer `key`, None when absent.
fn int(g: &Gguf, key: &str) -> Result<Option<i64>, GgufError> {
    match g.get(key) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| GgufError::Model(format!("{key} must be an integer, found {}", v.describe()))),
    }
}

/// The metadata integer `key` in 1..=max (`default` when absent, an error when there is none).
fn dim(g: &Gguf, key: &str, max: usize, default: Option<usize>) -> Result<usize, GgufError> {
    match (int(g, key)?, default) {
        (None, Some(d)) => Ok(d),
        (None, None) => Err(GgufError::Model(format!("{key} is missing: a llama model needs it"))),
        (Some(v), _) if v >= 1 && v as u64 <= max as u64 => Ok(v as usize),
        (Some(v), _) => Err(GgufError::Absurd(format!("{key} = {v}, expected 1..={max}"))),
    }
}

/// The metadata float `key`, which must be finite and > 0 (`default` when absent).
fn positive(g: &Gguf, key: &str, default: Option<f64>) -> Result<f32, GgufError> {
    let v = match g.get(key) {
        None => default.ok_or_else(|| GgufError::Model(format!("{key} is missing: a llama model needs it")))?,
        Some(v) => v.as_f64().ok_or_else(|| GgufError::Model(format!("{key} must be a float, found {}", v.describe())))?,
    };
    if v.is_finite() && v > 0.0 && (v as f32).is_finite() && v as f32 > 0.0 {
        Ok(v as f32)
    } else {
        Err(GgufError::Model(format!("{key} = {v:?}, expected a finite number > 0")))
    }
}

/// Reads and checks the `llama.*` configuration.
pub fn read_config(g: &Gguf) -> Result<LlamaConfig, GgufError> {
    match g.get("general.architecture") {
        Some(Value::String("llama")) => {}
        Some(Value::String(other)) => return Err(GgufError::Unsupported(format!("architecture `{other}` is not supported (llama is)"))),
        Some(v) => return Err(GgufError::Model(format!("general.architecture must be a string, found {}", v.describe()))),
        None => return Err(GgufError::Model("general.architecture is missing (llama is supported)".into())),
    }
    if let Some(v @ Value::Array(_)) = g.get("llama.attention.head_count") {
        return Err(GgufError::Unsupported(format!(
            "per-layer head counts (llama.attention.head_count is an {}) are not supported",
            v.describe()
        )));
    }
    let n_layers = dim(g, "llama.block_count", MAX_LAYERS, None)?;
    let d_model = dim(g, "llama.embedding_length", MAX_D_MODEL, None)?;
    let d_mlp = dim(g, "llama.feed_forward_length", MAX_D_MLP, None)?;
    let n_heads = dim(g, "llama.attention.head_count", MAX_HEADS, None)?;
    let n_kv_heads = dim(g, "llama.attention.head_count_kv", MAX_HEADS, Some(n_heads))?;
    let context = dim(g, "llama.context_length", MAX_CONTEXT, None)?;
    let rope_base = positive(g, "llama.rope.freq_base", Some(10_000.0))?;
    let rms_eps = positive(g, "llama.attention.layer_norm_rms_epsilon", None)?;
    if d_model % n_heads != 0 {
        return Err(GgufError::Model(format!(
            "llama.embedding_length {d_model} is not a multiple of llama.attention.head_count {n_heads}"
        )));
    }
    if n_heads % n_kv_heads != 0 {
        return Err(GgufError::Model(format!(
            "llama.attention.head_count {n_heads} is not a multiple of llama.attention.head_count_kv {n_kv_heads}"
        )));
    }
    let d_head = d_model / n_heads;
    if d_head % 2 != 0 {
        return Err(GgufError::Model(format!("heads of {d_head} dimensions cannot be rotated in pairs (RoPE needs an even d_head)")));
    }
    for key in ["llama.attention.key_length", "llama.attention.value_length", "llama.rope.dimension_count"] {
        if let Some(v) = int(g, key)? {
            if v != d_head as i64 {
                return Err(GgufError::Unsupported(format!(
                    "{key} = {v} is not supported: only heads of embedding_length / head_count = {d_model} / {n_heads} = {d_head}, \
                     all of them rotated, are"
                )));
            }
        }
    }
    let vocab_size = match (int(g, "llama.vocab_size")?, g.get("tokenizer.ggml.tokens").and_then(Value::as_array)) {
        (Some(_), _) => dim(g, "llama.vocab_size", MAX_VOCAB, None)?,
        (None, Some(tokens)) if (1..=MAX_VOCAB).contains(&tokens.len()) => tokens.len(),
        (None, Some(tokens)) => {
            return Err(GgufError::Absurd(format!("a vocabulary of {} tokens, expected 1..={MAX_VOCAB}", tokens.len())))
        }
        (None, None) => return Err(GgufError::Model("llama.vocab_size and tokenizer.ggml.tokens are both missing".into())),
    };
    Ok(LlamaConfig { n_layers, d_model, n_heads, n_kv_heads, d_head, d_mlp, vocab_size, context, rope_base, rms_eps })
}

/// What a tensor must be: its shape and whether it is a norm (F32/F16 only).
fn expect<'a>(g: &Gguf<'a>, name: &str, shape: [usize; 2], norm: bool) -> Result<Tensor<'a>, GgufError> {
    let want: &[usize] = if norm { &shape[..1] } else { &shape };
    let t =
        g.tensor(name).ok_or_else(|| GgufError::Model(format!("tensor {name} is missing: a llama model needs it, of shape {want:?}")))?;
    if t.shape != want {
        return Err(GgufError::Model(format!("tensor {name} has shape {:?}, expected {want:?}", t.shape)));
    }
    if norm && !matches!(t.ty, TensorType::F32 | TensorType::F16) {
        return Err(GgufError::Model(format!("tensor {name} is {}, expected F32 or F16 for a norm's weights", t.ty.name())));
    }
    t.check_finite()?;
    Ok(t.clone())
}

/// Finds and checks every tensor the config calls for; refuses tensors a llama model has no use for.
pub fn read_tensors<'a>(g: &Gguf<'a>, c: &LlamaConfig) -> Result<LlamaTensors<'a>, GgufError> {
    for t in &g.tensors {
        let known = is_llama_tensor(t.name, c.n_layers);
        if t.name == "rope_freqs.weight" {
            return Err(GgufError::Unsupported("tensor rope_freqs.weight (RoPE frequency scaling) is not supported".into()));
        }
        if !known {
            return Err(GgufError::Model(format!(
                "unexpected tensor {}: a llama model with {} layers has token_embd, output_norm, output and blk.0..{} \
                 {{{}}} weights only",
                t.name,
                c.n_layers,
                c.n_layers - 1,
                LAYER.join(", ")
            )));
        }
    }
    let (d, v, f) = (c.d_model, c.vocab_size, c.d_mlp);
    let (q, kv) = (c.n_heads * c.d_head, c.n_kv_heads * c.d_head);
    let mut layers = Vec::with_capacity(c.n_layers);
    for l in 0..c.n_layers {
        let t = |name: &str, shape: [usize; 2], norm: bool| expect(g, &format!("blk.{l}.{name}.weight"), shape, norm);
        layers.push(LlamaLayer {
            attn_norm: t("attn_norm", [d, 0], true)?,
            attn_q: t("attn_q", [d, q], false)?,
            attn_k: t("attn_k", [d, kv], false)?,
            attn_v: t("attn_v", [d, kv], false)?,
            attn_output: t("attn_output", [q, d], false)?,
            ffn_norm: t("ffn_norm", [d, 0], true)?,
            ffn_gate: t("ffn_gate", [d, f], false)?,
            ffn_up: t("ffn_up", [d, f], false)?,
            ffn_down: t("ffn_down", [f, d], false)?,
        });
    }
    let output = match g.tensor("output.weight") {
        None => None,
        Some(_) => Some(expect(g, "output.weight", [d, v], false)?),
    };
    Ok(LlamaTensors {
        token_embd: expect(g, "token_embd.weight", [d, v], false)?,
        layers,
        output_norm: expect(g, "output_norm.weight", [d, 0], true)?,
        output,
    })
}

/// Layer tensor names, `blk.{l}.{name}.weight`.
const LAYER: [&str; 9] = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"];

/// Whether `name` is one of the tensors of a llama model with `n_layers` layers (exactly as spelt,
/// so "blk.01.attn_q.weight" is not a second name for layer 1).
fn is_llama_tensor(name: &str, n_layers: usize) -> bool {
    if ["token_embd.weight", "output_norm.weight", "output.weight"].contains(&name) {
        return true;
    }
    let layer = name.strip_prefix("blk.").and_then(|r| r.split_once('.')).and_then(|(l, _)| l.parse::<usize>().ok());
    layer.is_some_and(|l| l < n_layers && LAYER.iter().any(|w| format!("blk.{l}.{w}.weight") == name))
}

/// A token id from metadata `key`, if present: an integer below `vocab`.
fn token_id(g: &Gguf, key: &str, vocab: usize) -> Result<Option<u32>, GgufError> {
    match int(g, key)? {
        None => Ok(None),
        Some(id) if id >= 0 && (id as u64) < vocab as u64 => Ok(Some(id as u32)),
        Some(id) => Err(GgufError::Model(format!("{key} = {id} is not a token id (the vocabulary has {vocab} tokens)"))),
    }
}

/// Reads and checks the `tokenizer.ggml.*` data for a vocabulary of `vocab` tokens.
pub fn read_tokenizer<'a>(g: &Gguf<'a>, vocab: usize) -> Result<TokenizerData<'a>, GgufError> {
    let string = |key: &str| {
        g.get(key)
            .map(|v| v.as_str().ok_or_else(|| GgufError::Model(format!("{key} must be a string, found {}", v.describe()))))
            .transpose()
    };
    match string("tokenizer.ggml.model")? {
        Some("gpt2") => {}
        Some(other) => {
            return Err(GgufError::Unsupported(format!("tokenizer model `{other}` is not supported (gpt2, byte-level BPE, is)")))
        }
        None => return Err(GgufError::Model("tokenizer.ggml.model is missing (gpt2 is supported)".into())),
    }
    let pre = match string("tokenizer.ggml.pre")? {
        Some("smollm") => "smollm",
        Some(other) => return Err(GgufError::Unsupported(format!("pre-tokenizer `{other}` is not supported (smollm is)"))),
        None => {
            return Err(GgufError::Unsupported("tokenizer.ggml.pre is missing: the pre-tokenizer is unknown (smollm is supported)".into()))
        }
    };
    let array = |key: &str| {
        g.get(key)
            .map(|v| v.as_array().ok_or_else(|| GgufError::Model(format!("{key} must be an array, found {}", v.describe()))))
            .transpose()
    };
    let strings = |key: &str| -> Result<Vec<&'a str>, GgufError> {
        let a = array(key)?.ok_or_else(|| GgufError::Model(format!("{key} is missing: a gpt2 tokenizer needs it")))?;
        a.strings()
            .map(<[&str]>::to_vec)
            .ok_or_else(|| GgufError::Model(format!("{key} must be an array of strings, found an array of {}", a.elem_type().name())))
    };
    let tokens = strings("tokenizer.ggml.tokens")?;
    if tokens.len() != vocab {
        return Err(GgufError::Model(format!("tokenizer.ggml.tokens has {} tokens, but the model's vocabulary has {vocab}", tokens.len())));
    }
    let mut ids = HashMap::with_capacity(tokens.len());
    for (i, &t) in tokens.iter().enumerate() {
        if let Some(first) = ids.insert(t, i as u32) {
            return Err(GgufError::Model(format!("token {i} `{t}` is also token {first}: tokens must be distinct")));
        }
    }
    let token_types = match array("tokenizer.ggml.token_type")? {
        None => None,
        Some(a) => {
            let types = a.to_i64s().ok_or_else(|| {
                GgufError::Model(format!("tokenizer.ggml.token_type must be integers, found an array of {}", a.elem_type().name()))
            })?;
            if types.len() != vocab {
                return Err(GgufError::Model(format!("tokenizer.ggml.token_type has {} entries for {vocab} tokens", types.len())));
            }
            if let Some(i) = types.iter().position(|t| !(0..=6).contains(t)) {
                return Err(GgufError::Model(format!("tokenizer.ggml.token_type of token {i} is {}, expected 0..=6", types[i])));
            }
            Some(types.into_iter().map(|t| t as i32).collect())
        }
    };
    let mut merges = Vec::new();
    for (i, m) in strings("tokenizer.ggml.merges")?.into_iter().enumerate() {
        let pair = m.split_once(' ').filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains(' '));
        let Some((a, b)) = pair else {
            return Err(GgufError::Model(format!("merge {i} `{m}` is not two tokens separated by one space")));
        };
        for part in [a, b, &format!("{a}{b}")] {
            if !ids.contains_key(part) {
                return Err(GgufError::Model(format!("merge {i} `{m}`: `{part}` is not in the vocabulary")));
            }
        }
        merges.push((a, b));
    }
    let add_bos = match g.get("tokenizer.ggml.add_bos_token") {
        None => None,
        Some(v) => Some(
            v.as_bool().ok_or_else(|| GgufError::Model(format!("tokenizer.ggml.add_bos_token must be a bool, found {}", v.describe())))?,
        ),
    };
    Ok(TokenizerData {
        pre,
        tokens,
        ids,
        token_types,
        merges,
        bos: token_id(g, "tokenizer.ggml.bos_token_id", vocab)?,
        eos: token_id(g, "tokenizer.ggml.eos_token_id", vocab)?,
        unknown: token_id(g, "tokenizer.ggml.unknown_token_id", vocab)?,
        padding: token_id(g, "tokenizer.ggml.padding_token_id", vocab)?,
        add_bos,
    })
}
