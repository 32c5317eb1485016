//! Reading and validating a safetensors weights file (see `model/FORMAT.md`).
//!
//! A safetensors file is an 8-byte little-endian header length `n`, `n` bytes of JSON header, then the
//! raw little-endian data. The header maps each tensor name to `{dtype, shape, data_offsets}` (offsets
//! relative to the start of the data) plus a `__metadata__` object of strings. [`load`] checks, in
//! this order, and reports the first problem it finds:
//!
//! 1. the length prefix: 8 bytes present, `n` ≤ [`MAX_HEADER_BYTES`] and within the file;
//! 2. the header: UTF-8 JSON object; `__metadata__` with `format` = [`FORMAT`] and a `config` that
//!    parses into [`Config`], passes [`check_config`] (nonzero, bounded dimensions; the positions
//!    `"learned"` or `"rope"` with its `rope_base`, an optional start token `bos_id`) and
//!    `budget::check_model` (at least one token's analysis fits the work budget);
//! 3. every tensor entry: a known name, an allowed dtype (F32, F16, I8 for 2-D tensors with a
//!    `{name}.scale` F32 `[rows]` companion), the exact shape, offsets in bounds whose length is
//!    shape × dtype size;
//! 4. no required tensor missing (`pos_emb` only with learned positions), and the tensors tile the
//!    data exactly (no overlap, no hole);
//! 5. every value finite after expansion to f32 (I8: `q as f32 * scale[row]`, in f32).
//!
//! Nothing here indexes without a bounds check or does unchecked arithmetic on numbers from the file,
//! and nothing is allocated before the shapes are known to fit in the file, so a hostile file can
//! make `load` allocate at most about 4× its own size (I8 expands to f32).

use std::fmt;

use crate::tokenizer::json::{quote, Json};

use crate::model::{Config, Layer, Mlp, Norm, Positions, Weights};

/// The `format` metadata value this reader understands.
pub const FORMAT: &str = "attention-explorer/1";
/// The largest header accepted (the real ones are a few KiB).
pub const MAX_HEADER_BYTES: u64 = 16 << 20;

/// Upper bounds on each dimension, so that a hostile `config` cannot overflow size arithmetic.
/// (Allocation is bounded by the file size anyway: every tensor must be present in the file.)
pub const MAX_VOCAB: usize = 1 << 20;
pub const MAX_D_MODEL: usize = 8192;
pub const MAX_LAYERS: usize = 256;
pub const MAX_HEADS: usize = 1024;
pub const MAX_D_MLP: usize = 65536;
pub const MAX_CONTEXT: usize = 65536;

/// Why a weights file was refused. `Display` says what was expected and what was found.
#[derive(Clone, Debug, PartialEq)]
pub enum WeightsError {
    /// The file is shorter than the 8-byte header length.
    TooShort { len: usize },
    /// The header length prefix is larger than the cap or than the rest of the file.
    HeaderLength { declared: u64, available: usize },
    /// The header is not valid UTF-8 JSON.
    HeaderJson(String),
    /// The header is JSON but not laid out as safetensors says.
    Header(String),
    /// `__metadata__` is missing a key or has the wrong value.
    Metadata {
        key: &'static str,
        expected: String,
        found: String,
    },
    /// The `config` metadata parsed, but a dimension is out of range or inconsistent.
    Config(String),
    /// A tensor the config requires is not in the file.
    MissingTensor { name: String, shape: Vec<usize> },
    /// The file has a tensor this format does not use.
    UnknownTensor { name: String },
    /// The file has a tensor this format uses, but not with this config (`pos_emb` with rotary positions).
    UnexpectedTensor { name: String, why: &'static str },
    Shape {
        name: String,
        expected: Vec<usize>,
        found: Vec<u64>,
    },
    Dtype {
        name: String,
        expected: &'static str,
        found: String,
    },
    /// A tensor's `data_offsets` are out of bounds, inverted, of the wrong length, overlap another
    /// tensor's, or leave part of the data unused.
    Offsets { name: String, detail: String },
    /// A value is NaN or infinite after expansion to f32.
    NonFinite { name: String, index: usize, value: f32 },
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use WeightsError::*;
        match self {
            TooShort { len } => write!(
                f,
                "file is {len} bytes: expected at least 8 (the header length of a safetensors file)"
            ),
            HeaderLength { declared, available } => write!(
                f,
                "header length: expected at most {} bytes (the bytes after the 8-byte length, at most {MAX_HEADER_BYTES}), found {declared}",
                (*available as u64).min(MAX_HEADER_BYTES)
            ),
            HeaderJson(e) => write!(f, "header: expected a JSON object, found invalid JSON ({e})"),
            Header(m) => write!(f, "header: {m}"),
            Metadata { key, expected, found } => {
                write!(f, "metadata `{key}`: expected {expected}, found {found}")
            }
            Config(m) => write!(f, "metadata `config`: {m}"),
            MissingTensor { name, shape } => {
                write!(f, "tensor `{name}`: expected shape {}, found no such tensor", shape_text(shape))
            }
            UnknownTensor { name } => write!(
                f,
                "tensor `{name}`: expected only the tensors model/FORMAT.md lists for this config, found this unknown one"
            ),
            UnexpectedTensor { name, why } => write!(f, "tensor `{name}`: expected no such tensor ({why}), found one"),
            Shape { name, expected, found } => {
                write!(f, "tensor `{name}`: expected shape {}, found {}", shape_text(expected), shape_text(found))
            }
            Dtype { name, expected, found } => {
                write!(f, "tensor `{name}`: expected dtype {expected}, found {found}")
            }
            Offsets { name, detail } => write!(f, "tensor `{name}`: {detail}"),
            NonFinite { name, index, value } => {
                let value = match (value.is_nan(), value.is_sign_negative()) {
                    (true, _) => "NaN",
                    (false, false) => "inf",
                    (false, true) => "-inf",
                };
                write!(f, "tensor `{name}`: expected finite values, found {value} at flat index {index}")
            }
        }
    }
}

impl std::error::Error for WeightsError {}

/// Storage types this format allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    F32,
    F16,
    I8,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::I8 => "I8",
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 => 2,
            Dtype::I8 => 1,
        }
    }
}

/// One tensor's header entry after checking.
#[derive(Clone, Debug)]
struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

/// Checks that a config's dimensions are nonzero, bounded and consistent.
pub fn check_config(c: &Config) -> Result<(), WeightsError> {
    let dims: [(&str, usize, usize); 6] = [
        ("vocab_size", c.vocab_size, MAX_VOCAB),
        ("d_model", c.d_model, MAX_D_MODEL),
        ("n_layers", c.n_layers, MAX_LAYERS),
        ("n_heads", c.n_heads, MAX_HEADS),
        ("d_head", c.d_head, MAX_D_MODEL),
        ("context", c.context, MAX_CONTEXT),
    ];
    for (key, value, max) in dims {
        if value == 0 || value > max {
            return Err(WeightsError::Config(format!(
                "expected `{key}` in 1..={max}, found {value}"
            )));
        }
    }
    if c.d_mlp > MAX_D_MLP {
        return Err(WeightsError::Config(format!(
            "expected `d_mlp` in 0..={MAX_D_MLP} (0 = attention-only), found {}",
            c.d_mlp
        )));
    }
    if c.n_heads.checked_mul(c.d_head) != Some(c.d_model) {
        return Err(WeightsError::Config(format!(
            "expected n_heads × d_head = d_model, found {} × {} ≠ {}",
            c.n_heads, c.d_head, c.d_model
        )));
    }
    if !(c.ln_eps.is_finite() && c.ln_eps > 0.0) {
        return Err(WeightsError::Config(format!(
            "expected `ln_eps` finite and above 0, found {}",
            float_text(c.ln_eps)
        )));
    }
    if let Positions::Rotary { base } = c.positions {
        if !(base.is_finite() && base > 1.0) {
            return Err(WeightsError::Config(format!(
                "expected `rope_base` finite and above 1, found {}",
                float_text(base)
            )));
        }
        if !c.d_head.is_multiple_of(2) {
            return Err(WeightsError::Config(format!(
                "expected an even `d_head` with rotary positions (they turn pairs of numbers), found {}",
                c.d_head
            )));
        }
    }
    if let Some(bos) = c.bos_id {
        if bos as usize >= c.vocab_size {
            return Err(WeightsError::Config(format!(
                "expected `bos_id` below vocab_size {}, found {bos}",
                c.vocab_size
            )));
        }
        if c.context < 2 {
            return Err(WeightsError::Config(format!(
                "expected `context` ≥ 2 with a start token (`bos_id`): it takes one place, found {}",
                c.context
            )));
        }
    }
    Ok(())
}

/// `x` for a message, without the float-formatting machinery of `{}` (about 20 KB of wasm): `NaN`,
/// `inf`, `-inf`, an integer as `-1`, anything else to 7 significant digits as `1.5e-5`.
pub(crate) fn float_text(x: f32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let magnitude = f64::from(x).abs();
    if magnitude.is_infinite() {
        return format!("{sign}inf");
    }
    if magnitude.fract() == 0.0 && magnitude < 1e15 {
        return format!("{sign}{}", magnitude as u64);
    }
    // scale into [1, 10) by powers of ten (exact enough for 7 digits), then round
    let (mut m, mut exponent) = (magnitude, 0i32);
    while m >= 10.0 {
        m /= 10.0;
        exponent += 1;
    }
    while m < 1.0 {
        m *= 10.0;
        exponent -= 1;
    }
    let mut digits = (m * 1e6).round() as u64;
    if digits >= 10_000_000 {
        digits /= 10;
        exponent += 1;
    }
    while digits % 10 == 0 && digits >= 10 {
        digits /= 10;
    }
    let text = digits.to_string();
    let (first, rest) = text.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    format!("{sign}{first}{point}{rest}e{exponent}")
}

/// The tensors of one layer, after its `layers.{i}.` prefix, in file order; the last six exist only
/// with an MLP (`d_mlp` > 0).
const LAYER: [&str; 12] = [
    "ln1.weight",
    "ln1.bias",
    "attn.w_q",
    "attn.w_k",
    "attn.w_v",
    "attn.w_o",
    "ln2.weight",
    "ln2.bias",
    "mlp.w_in",
    "mlp.b_in",
    "mlp.w_out",
    "mlp.b_out",
];

/// Every tensor a config requires, with its shape, in the order FORMAT.md lists them (`pos_emb` only
/// with learned positions).
pub fn required_tensors(c: &Config) -> Vec<(String, Vec<usize>)> {
    // n_heads·d_head = d_model for a checked config; saturating keeps an unchecked one from wrapping
    let (v, d, f, hd) = (c.vocab_size, c.d_model, c.d_mlp, c.n_heads.saturating_mul(c.d_head));
    let mut out = vec![("tok_emb".to_string(), vec![v, d])];
    if c.positions == Positions::Learned {
        out.push(("pos_emb".to_string(), vec![c.context, d]));
    }
    // one loop over the LAYER table rather than twelve pushes: the same list in less code
    let per_layer = if f > 0 { 12 } else { 6 };
    for i in 0..c.n_layers {
        for (k, suffix) in LAYER[..per_layer].iter().enumerate() {
            let shape = match k {
                2..=4 => vec![d, hd],
                5 => vec![hd, d],
                8 => vec![d, f],
                9 => vec![f],
                10 => vec![f, d],
                _ => vec![d], // the norms' weight and bias, the MLP's output bias
            };
            out.push((format!("layers.{i}.{suffix}"), shape));
        }
    }
    out.push(("ln_f.weight".to_string(), vec![d]));
    out.push(("ln_f.bias".to_string(), vec![d]));
    out
}

/// Reads and validates a safetensors weights file and expands every tensor to f32.
pub fn load(bytes: &[u8]) -> Result<Weights, WeightsError> {
    // 1. the length prefix
    let prefix: [u8; 8] = match bytes.get(..8).and_then(|s| s.try_into().ok()) {
        Some(p) => p,
        None => return Err(WeightsError::TooShort { len: bytes.len() }),
    };
    let declared = u64::from_le_bytes(prefix);
    let available = bytes.len() - 8;
    let header_len = match usize::try_from(declared) {
        Ok(n) if declared <= MAX_HEADER_BYTES && n <= available => n,
        _ => return Err(WeightsError::HeaderLength { declared, available }),
    };
    let (header_bytes, data) = bytes[8..].split_at(header_len);

    // 2. the header and its metadata
    let header = Json::parse(header_bytes).map_err(WeightsError::HeaderJson)?;
    let Some(members) = header.as_object() else {
        return Err(WeightsError::Header(format!(
            "expected a JSON object, found {}",
            kind(&header)
        )));
    };
    if members.iter().filter(|(k, _)| k == "__metadata__").count() > 1 {
        return Err(WeightsError::Header(
            "expected each name once, found `__metadata__` twice".into(),
        ));
    }
    let (config, name) = read_metadata(header.get("__metadata__"))?;
    check_config(&config)?;
    // before any tensor is read: a model none of whose analyses fits the work budget is no use
    crate::budget::check_model(&config).map_err(WeightsError::Config)?;

    // 3. every tensor entry, stored at its index in `required` (scales in `scales`)
    let required = required_tensors(&config);
    let mut entries: Vec<Option<Entry>> = vec![None; required.len()];
    let mut scales: Vec<Option<Entry>> = vec![None; required.len()];
    for (tensor, info) in members.iter().filter(|(k, _)| k != "__metadata__") {
        let (dtype, shape, begin, end) = read_entry(tensor, info, data.len())?;
        let base = tensor.strip_suffix(".scale");
        let index = tensor_index(base.unwrap_or(tensor), &config);
        if index.is_none() && base.unwrap_or(tensor) == "pos_emb" {
            return Err(WeightsError::UnexpectedTensor {
                name: tensor.clone(),
                why: "a model with rotary positions has no position table: config `positions` is \"rope\"",
            });
        }
        let (slot, expected_shape) = match (index, base) {
            (Some(i), None) => (&mut entries[i], required[i].1.clone()),
            (Some(i), Some(_)) if required[i].1.len() == 2 => (&mut scales[i], required[i].1[..1].to_vec()),
            _ => return Err(WeightsError::UnknownTensor { name: tensor.clone() }),
        };
        if slot.is_some() {
            return Err(WeightsError::Header(format!(
                "expected each name once, found `{tensor}` twice"
            )));
        }
        if shape.len() != expected_shape.len() || shape.iter().zip(&expected_shape).any(|(&a, &b)| a != b as u64) {
            return Err(WeightsError::Shape {
                name: tensor.clone(),
                expected: expected_shape,
                found: shape,
            });
        }
        let dtype = match (dtype.as_str(), base.is_some(), expected_shape.len()) {
            ("F32", _, _) => Dtype::F32,
            ("F16", false, _) => Dtype::F16,
            ("I8", false, 2) => Dtype::I8,
            _ => {
                let expected = match (base.is_some(), expected_shape.len()) {
                    (true, _) => "F32 (the scale of an I8 tensor)",
                    (false, 2) => "F32, F16 or I8",
                    (false, _) => "F32 or F16 (1-D tensors are never I8)",
                };
                return Err(WeightsError::Dtype {
                    name: tensor.clone(),
                    expected,
                    found: dtype,
                });
            }
        };
        // shape × dtype size, checked: the shape equals a config-derived one, and the config is bounded
        let numel = expected_shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
        let size = numel.and_then(|n| n.checked_mul(dtype.size()));
        if size != Some(end - begin) {
            return Err(WeightsError::Offsets {
                name: tensor.clone(),
                detail: format!(
                    "expected {} bytes ({} × {} bytes per {}), found data_offsets [{begin}, {end}] = {} bytes",
                    size.map_or("too many".to_string(), |s| s.to_string()),
                    shape_text(&expected_shape),
                    dtype.size(),
                    dtype.name(),
                    end - begin
                ),
            });
        }
        *slot = Some(Entry {
            dtype,
            shape: expected_shape,
            begin,
            end,
        });
    }

    // 4. completeness: every required tensor, each I8 tensor's scale, the data tiled exactly
    for ((tensor, shape), (entry, scale)) in required.iter().zip(entries.iter().zip(&scales)) {
        let Some(entry) = entry else {
            return Err(WeightsError::MissingTensor {
                name: tensor.clone(),
                shape: shape.clone(),
            });
        };
        match (entry.dtype, scale.is_some()) {
            (Dtype::I8, false) => {
                return Err(WeightsError::MissingTensor {
                    name: format!("{tensor}.scale"),
                    shape: shape.iter().take(1).copied().collect(),
                });
            }
            (Dtype::F32 | Dtype::F16, true) => {
                return Err(WeightsError::Dtype {
                    name: tensor.clone(),
                    expected: "I8 (the file has a scale tensor for it)",
                    found: entry.dtype.name().to_string(),
                });
            }
            _ => {}
        }
    }
    check_tiling(&required, &entries, &scales, data.len())?;

    // 5. expand to f32 and check every value
    let mut tensors = Vec::with_capacity(required.len());
    for ((tensor, _), (entry, scale)) in required.iter().zip(entries.iter().zip(&scales)) {
        if let Some(entry) = entry {
            tensors.push(expand(tensor, entry, scale.as_ref(), data)?);
        }
    }
    Ok(assemble(config, name, tensors))
}

/// The position of tensor `name` in [`required_tensors`]`(c)`, if the config requires it.
fn tensor_index(name: &str, c: &Config) -> Option<usize> {
    let per_layer = if c.d_mlp > 0 { 12 } else { 6 };
    let learned = c.positions == Positions::Learned;
    let layers_start = 1 + usize::from(learned);
    let layers_end = c.n_layers.saturating_mul(per_layer).saturating_add(layers_start);
    match name {
        "tok_emb" => Some(0),
        "pos_emb" => learned.then_some(1),
        "ln_f.weight" => Some(layers_end),
        "ln_f.bias" => Some(layers_end + 1),
        _ => {
            let (number, suffix) = name.strip_prefix("layers.")?.split_once('.')?;
            // the layer number in canonical decimal: digits, no leading zero
            let canonical = !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
                && (number == "0" || !number.starts_with('0'));
            let layer = canonical
                .then(|| {
                    number
                        .bytes()
                        .try_fold(0usize, |acc, d| acc.checked_mul(10)?.checked_add(usize::from(d - b'0')))
                })
                .flatten();
            match layer {
                Some(i) if i < c.n_layers => LAYER[..per_layer]
                    .iter()
                    .position(|s| *s == suffix)
                    .map(|k| layers_start + i * per_layer + k),
                _ => None,
            }
        }
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// `[16, 128]`, for messages.
fn shape_text<T: fmt::Display>(shape: &[T]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

/// Parses the `config` metadata string into a [`Config`]; unknown members are ignored. `positions`
/// ("learned" or "rope") and `bos_id` are optional: a file without them (format 1 as first written) has
/// learned positions and no start token; "rope" needs `rope_base`, which "learned" must not have.
fn parse_config(text: &str) -> Result<Config, String> {
    let json = Json::parse(text.as_bytes())?;
    if json.as_object().is_none() {
        return Err(format!("expected a JSON object, found {}", kind(&json)));
    }
    let dim = |key: &str| -> Result<usize, String> {
        match json.get(key) {
            None => Err(format!("missing field `{key}`")),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| format!("field `{key}`: expected a non-negative integer, found {}", v.describe())),
        }
    };
    let (vocab_size, d_model, n_layers) = (dim("vocab_size")?, dim("d_model")?, dim("n_layers")?);
    let (n_heads, d_head, d_mlp, context) = (dim("n_heads")?, dim("d_head")?, dim("d_mlp")?, dim("context")?);
    let ln_eps = match json.get("ln_eps") {
        None => return Err("missing field `ln_eps`".into()),
        Some(v) => {
            v.as_f64()
                .ok_or_else(|| format!("field `ln_eps`: expected a number, found {}", v.describe()))? as f32
        }
    };
    let positions = match json.get("positions") {
        None => "learned",
        Some(Json::String(p)) => p.as_str(),
        Some(v) => return Err(format!("field `positions`: expected \"learned\" or \"rope\", found {}", v.describe())),
    };
    let positions = match (positions, json.get("rope_base")) {
        ("learned", None) => Positions::Learned,
        ("learned", Some(_)) => return Err("field `rope_base`: expected none with learned positions, found one".into()),
        ("rope", None) => return Err("missing field `rope_base` (positions \"rope\" needs it)".into()),
        ("rope", Some(v)) => Positions::Rotary {
            base: v.as_f64().ok_or_else(|| format!("field `rope_base`: expected a number, found {}", v.describe()))? as f32,
        },
        (other, _) => return Err(format!("field `positions`: expected \"learned\" or \"rope\", found {}", quote(other))),
    };
    let bos_id = match json.get("bos_id") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("field `bos_id`: expected a token id (a non-negative integer), found {}", v.describe()))?,
        ),
    };
    Ok(Config {
        vocab_size,
        d_model,
        n_layers,
        n_heads,
        d_head,
        d_mlp,
        context,
        ln_eps,
        positions,
        bos_id,
    })
}

/// `__metadata__`: `format` must be [`FORMAT`], `config` a JSON object string, `name` optional text.
fn read_metadata(meta: Option<&Json>) -> Result<(Config, String), WeightsError> {
    let meta = match meta {
        Some(m @ Json::Object(_)) => m,
        Some(other) => {
            return Err(WeightsError::Header(format!(
                "expected `__metadata__` to be an object, found {}",
                kind(other)
            )))
        }
        None => {
            return Err(WeightsError::Metadata {
                key: "format",
                expected: format!("\"{FORMAT}\""),
                found: "no `__metadata__` in the header".into(),
            })
        }
    };
    let string = |key: &'static str| -> Result<Option<&str>, WeightsError> {
        match meta.get(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(WeightsError::Metadata {
                key,
                expected: "a string".into(),
                found: kind(other).into(),
            }),
        }
    };
    match string("format")? {
        Some(FORMAT) => {}
        found => {
            return Err(WeightsError::Metadata {
                key: "format",
                expected: format!("\"{FORMAT}\""),
                found: found.map_or("nothing".to_string(), quote),
            })
        }
    }
    let config_text = string("config")?.ok_or_else(|| WeightsError::Metadata {
        key: "config",
        expected: "a JSON object with the model's dimensions".into(),
        found: "nothing".into(),
    })?;
    let config = parse_config(config_text).map_err(|e| WeightsError::Metadata {
        key: "config",
        expected: "{\"vocab_size\":V,\"d_model\":D,\"n_layers\":L,\"n_heads\":H,\"d_head\":Dh,\"d_mlp\":F,\"context\":C,\"ln_eps\":eps} (optionally \"positions\":\"rope\" with \"rope_base\", and \"bos_id\")".into(),
        found: format!("{} ({e})", quote(config_text)),
    })?;
    let name = string("name")?.unwrap_or("unnamed model").to_string();
    Ok((config, name))
}

/// One header entry: `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}`, offsets in bounds.
fn read_entry(name: &str, info: &Json, data_len: usize) -> Result<(String, Vec<u64>, usize, usize), WeightsError> {
    let bad = |what: String| WeightsError::Header(format!("tensor `{name}`: {what}"));
    let obj = match info {
        o @ Json::Object(_) => o,
        other => {
            return Err(bad(format!(
                "expected an object with `dtype`, `shape` and `data_offsets`, found {}",
                kind(other)
            )))
        }
    };
    let dtype = match obj.get("dtype") {
        Some(Json::String(s)) => s.clone(),
        other => {
            return Err(bad(format!(
                "expected `dtype` a string, found {}",
                other.map_or("nothing", kind)
            )))
        }
    };
    let numbers = |key: &str| -> Result<Vec<u64>, WeightsError> {
        match obj.get(key) {
            Some(Json::Array(items)) => items
                .iter()
                .map(|x| {
                    x.as_u64().ok_or_else(|| {
                        bad(format!(
                            "expected `{key}` to hold non-negative integers, found {}",
                            x.describe()
                        ))
                    })
                })
                .collect(),
            other => Err(bad(format!(
                "expected `{key}` an array of integers, found {}",
                other.map_or("nothing", kind)
            ))),
        }
    };
    let shape = numbers("shape")?;
    let offsets = numbers("data_offsets")?;
    let [begin, end] = offsets[..] else {
        return Err(bad(format!(
            "expected `data_offsets` [begin, end], found {} numbers",
            offsets.len()
        )));
    };
    let in_bounds = |x: u64| usize::try_from(x).ok().filter(|&x| x <= data_len);
    match (in_bounds(begin), in_bounds(end)) {
        (Some(b), Some(e)) if b <= e => Ok((dtype, shape, b, e)),
        _ => Err(WeightsError::Offsets {
            name: name.to_string(),
            detail: format!("expected data_offsets within 0..={data_len} with begin ≤ end, found [{begin}, {end}]"),
        }),
    }
}

/// The tensors must cover the data section exactly once, as the safetensors format requires.
fn check_tiling(
    required: &[(String, Vec<usize>)],
    entries: &[Option<Entry>],
    scales: &[Option<Entry>],
    data_len: usize,
) -> Result<(), WeightsError> {
    // (begin, end, index): index < n is a tensor, n + i is the scale of tensor i
    let n = entries.len();
    let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(2 * n);
    for (i, e) in entries.iter().enumerate() {
        spans.extend(e.as_ref().map(|e| (e.begin, e.end, i)));
    }
    for (i, e) in scales.iter().enumerate() {
        spans.extend(e.as_ref().map(|e| (e.begin, e.end, n + i)));
    }
    // insertion sort: files list their tensors in data order, so this is one pass for them (and
    // it keeps the sort machinery of `sort_unstable`, several KB of wasm, out of the module)
    for i in 1..spans.len() {
        let mut j = i;
        while j > 0 && spans[j - 1] > spans[j] {
            spans.swap(j - 1, j);
            j -= 1;
        }
    }
    let name = |index: usize| match required.get(index) {
        Some((tensor, _)) => tensor.clone(),
        None => format!("{}.scale", required.get(index - n).map_or("", |(t, _)| t.as_str())),
    };
    // overlaps first (the more specific fault), then holes
    for pair in spans.windows(2) {
        if let [(b0, e0, first), (b1, e1, second)] = *pair {
            if b1 < e0 {
                return Err(WeightsError::Offsets {
                    name: name(second),
                    detail: format!(
                        "expected its bytes not to overlap another tensor's, found [{b1}, {e1}] overlapping `{}` at [{b0}, {e0}]",
                        name(first)
                    ),
                });
            }
        }
    }
    let mut covered = 0usize;
    let mut previous = None;
    for &(begin, end, index) in &spans {
        if begin > covered {
            return Err(WeightsError::Offsets {
                name: name(index),
                detail: format!(
                    "expected it to start where the previous tensor ends ({covered}), found a gap: data bytes {covered}..{begin} belong to no tensor"
                ),
            });
        }
        covered = end;
        previous = Some(index);
    }
    if covered != data_len {
        return Err(WeightsError::Offsets {
            name: previous.map_or_else(String::new, name),
            detail: format!(
                "expected the tensors to cover all {data_len} data bytes, found the last one ending at {covered}"
            ),
        });
    }
    Ok(())
}

/// Converts an IEEE 754 binary16 value to f32 (exactly: every f16 is an f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let negative = h & 0x8000 != 0;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let magnitude = match exponent {
        0 => mantissa as f32 * f32::from_bits(0x3380_0000), // subnormal: mantissa × 2⁻²⁴
        31 => f32::from_bits(0x7f80_0000 | (mantissa << 13)), // ∞ or NaN
        _ => f32::from_bits(((exponent + 112) << 23) | (mantissa << 13)),
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Expands one tensor to f32 (F16 exactly, I8 as `q as f32 * scale[row]`) and checks it is finite.
fn expand(name: &str, entry: &Entry, scale: Option<&Entry>, data: &[u8]) -> Result<Vec<f32>, WeightsError> {
    let slice = |e: &Entry| data.get(e.begin..e.end).unwrap_or(&[]);
    let values = match (entry.dtype, scale) {
        (Dtype::F32, _) => f32s(slice(entry)),
        (Dtype::F16, _) => slice(entry)
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect(),
        (Dtype::I8, Some(scale_entry)) => {
            let scale = f32s(slice(scale_entry));
            finite(&format!("{name}.scale"), &scale)?;
            let cols = entry.shape.get(1).copied().unwrap_or(1).max(1);
            slice(entry)
                .chunks_exact(cols)
                .zip(&scale)
                .flat_map(|(row, &s)| row.iter().map(move |&q| f32::from(q as i8) * s))
                .collect()
        }
        (Dtype::I8, None) => {
            return Err(WeightsError::MissingTensor {
                name: format!("{name}.scale"),
                shape: entry.shape.iter().take(1).copied().collect(),
            })
        }
    };
    finite(name, &values)?;
    Ok(values)
}

fn finite(name: &str, values: &[f32]) -> Result<(), WeightsError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(WeightsError::NonFinite {
            name: name.to_string(),
            index,
            value: values[index],
        }),
    }
}

/// Builds [`Weights`] from the expanded tensors, given in [`required_tensors`] order.
fn assemble(config: Config, name: String, tensors: Vec<Vec<f32>>) -> Weights {
    let mut t = tensors.into_iter();
    let mut next = move || t.next().unwrap_or_default();
    let tok_emb = next();
    let pos_emb = if config.positions == Positions::Learned { next() } else { Vec::new() };
    let layers = (0..config.n_layers)
        .map(|_| {
            let ln1 = Norm {
                weight: next(),
                bias: next(),
            };
            let (w_q, w_k, w_v, w_o) = (next(), next(), next(), next());
            let mlp = (config.d_mlp > 0).then(|| Mlp {
                ln: Norm {
                    weight: next(),
                    bias: next(),
                },
                w_in: next(),
                b_in: next(),
                w_out: next(),
                b_out: next(),
            });
            Layer {
                ln1,
                w_q,
                w_k,
                w_v,
                w_o,
                mlp,
            }
        })
        .collect();
    let ln_f = Norm {
        weight: next(),
        bias: next(),
    };
    Weights {
        config,
        name,
        tok_emb,
        pos_emb,
        layers,
        ln_f,
    }
}

/// Writes `weights` as a safetensors file in this format, every tensor F32 (for tests and tools).
pub fn save(weights: &Weights) -> Vec<u8> {
    let c = &weights.config;
    let mut values: Vec<&[f32]> = vec![&weights.tok_emb];
    if c.positions == Positions::Learned {
        values.push(&weights.pos_emb);
    }
    for l in &weights.layers {
        values.extend([&l.ln1.weight, &l.ln1.bias, &l.w_q, &l.w_k, &l.w_v, &l.w_o].map(Vec::as_slice));
        if let Some(m) = &l.mlp {
            values.extend([&m.ln.weight, &m.ln.bias, &m.w_in, &m.b_in, &m.w_out, &m.b_out].map(Vec::as_slice));
        }
    }
    values.extend([weights.ln_f.weight.as_slice(), weights.ln_f.bias.as_slice()]);

    let mut config = format!(
        "{{\"vocab_size\":{},\"d_model\":{},\"n_layers\":{},\"n_heads\":{},\"d_head\":{},\"d_mlp\":{},\"context\":{},\"ln_eps\":{}",
        c.vocab_size, c.d_model, c.n_layers, c.n_heads, c.d_head, c.d_mlp, c.context, c.ln_eps
    );
    if let Positions::Rotary { base } = c.positions {
        config.push_str(&format!(",\"positions\":\"rope\",\"rope_base\":{base}"));
    }
    if let Some(bos) = c.bos_id {
        config.push_str(&format!(",\"bos_id\":{bos}"));
    }
    config.push('}');
    let mut header = format!(
        "{{\"__metadata__\":{{\"format\":{},\"config\":{},\"name\":{}}}",
        json_string(FORMAT),
        json_string(&config),
        json_string(&weights.name)
    );
    let mut offset = 0usize;
    for ((name, shape), v) in required_tensors(c).iter().zip(&values) {
        let end = offset + v.len() * 4;
        header.push_str(&format!(
            ",{}:{{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[{offset},{end}]}}",
            json_string(name),
            shape_text(shape).replace(' ', "")
        ));
        offset = end;
    }
    header.push('}');
    let mut text = header.into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    for v in &values {
        for x in v.iter() {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::float_text;

    #[test]
    fn float_text_reads_like_the_number() {
        for (x, text) in [
            (-1.0f32, "-1"),
            (0.0, "0"),
            (-0.0, "-0"),
            (16_777_216.0, "16777216"),
            (1e-5, "1e-5"),
            (1.5e-7, "1.5e-7"),
            (0.1, "1e-1"),
            (-123.456, "-1.23456e2"),
            (2.5, "2.5e0"),
            (f32::MAX, "3.402823e38"),
            (f32::MIN_POSITIVE, "1.175494e-38"),
            (f32::from_bits(1), "1.401298e-45"),
            (9.999_999, "9.999999e0"),
            (f32::NAN, "NaN"),
            (f32::INFINITY, "inf"),
            (f32::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(float_text(x), text, "{x:e}");
        }
    }
}
