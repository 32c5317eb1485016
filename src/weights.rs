//! Reading and validating a safetensors weights file (see `model/FORMAT.md`).
//!
//! A safetensors file is an 8-byte little-endian header length `n`, `n` bytes of JSON header, then the
//! raw little-endian data. The header maps each tensor name to `{dtype, shape, data_offsets}` (offsets
//! relative to the start of the data) plus a `__metadata__` object of strings. [`load`] checks, in
//! this order, and reports the first problem it finds:
//!
//! 1. the length prefix: 8 bytes present, `n` ≤ [`MAX_HEADER_BYTES`] and within the file;
//! 2. the header: UTF-8 JSON object; `__metadata__` with `format` = [`FORMAT`] and a `config` that
//!    parses into [`Config`] and passes [`check_config`] (nonzero, bounded dimensions);
//! 3. every tensor entry: a known name, an allowed dtype (F32, F16, I8 for 2-D tensors with a
//!    `{name}.scale` F32 `[rows]` companion), the exact shape, offsets in bounds whose length is
//!    shape × dtype size;
//! 4. no required tensor missing, and the tensors tile the data exactly (no overlap, no hole);
//! 5. every value finite after expansion to f32 (I8: `q as f32 * scale[row]`, in f32).
//!
//! Nothing here indexes without a bounds check or does unchecked arithmetic on numbers from the file,
//! and nothing is allocated before the shapes are known to fit in the file, so a hostile file can
//! make `load` allocate at most about 4× its own size (I8 expands to f32).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::model::{Config, Layer, Mlp, Norm, Weights};

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
                write!(f, "tensor `{name}`: expected shape {shape:?}, found no such tensor")
            }
            UnknownTensor { name } => write!(
                f,
                "tensor `{name}`: expected only the tensors model/FORMAT.md lists for this config, found this unknown one"
            ),
            Shape { name, expected, found } => {
                write!(f, "tensor `{name}`: expected shape {expected:?}, found {found:?}")
            }
            Dtype { name, expected, found } => {
                write!(f, "tensor `{name}`: expected dtype {expected}, found {found}")
            }
            Offsets { name, detail } => write!(f, "tensor `{name}`: {detail}"),
            NonFinite { name, index, value } => write!(
                f,
                "tensor `{name}`: expected finite values, found {value} at flat index {index}"
            ),
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
            c.ln_eps
        )));
    }
    Ok(())
}

/// Every tensor a config requires, with its shape, in the order FORMAT.md lists them.
pub fn required_tensors(c: &Config) -> Vec<(String, Vec<usize>)> {
    let (v, d, f, hd) = (c.vocab_size, c.d_model, c.d_mlp, c.n_heads * c.d_head);
    let mut out = vec![
        ("tok_emb".to_string(), vec![v, d]),
        ("pos_emb".to_string(), vec![c.context, d]),
    ];
    for i in 0..c.n_layers {
        let p = |s: &str| format!("layers.{i}.{s}");
        out.push((p("ln1.weight"), vec![d]));
        out.push((p("ln1.bias"), vec![d]));
        out.push((p("attn.w_q"), vec![d, hd]));
        out.push((p("attn.w_k"), vec![d, hd]));
        out.push((p("attn.w_v"), vec![d, hd]));
        out.push((p("attn.w_o"), vec![hd, d]));
        if f > 0 {
            out.push((p("ln2.weight"), vec![d]));
            out.push((p("ln2.bias"), vec![d]));
            out.push((p("mlp.w_in"), vec![d, f]));
            out.push((p("mlp.b_in"), vec![f]));
            out.push((p("mlp.w_out"), vec![f, d]));
            out.push((p("mlp.b_out"), vec![d]));
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
    let header: Value = serde_json::from_slice(header_bytes).map_err(|e| WeightsError::HeaderJson(e.to_string()))?;
    let header = match header {
        Value::Object(map) => map,
        other => {
            return Err(WeightsError::Header(format!(
                "expected a JSON object, found {}",
                kind(&other)
            )))
        }
    };
    let (config, name) = read_metadata(header.get("__metadata__"))?;
    check_config(&config)?;

    // 3. every tensor entry
    let required_list = required_tensors(&config);
    let required: BTreeMap<&str, &Vec<usize>> = required_list.iter().map(|(n, s)| (n.as_str(), s)).collect();
    let mut entries: BTreeMap<&str, Entry> = BTreeMap::new();
    for (tensor, info) in header.iter().filter(|(k, _)| k.as_str() != "__metadata__") {
        let (dtype, shape, begin, end) = read_entry(tensor, info, data.len())?;
        let expected_shape = if let Some(base) = tensor.strip_suffix(".scale") {
            match required.get(base) {
                Some(base_shape) if base_shape.len() == 2 => vec![base_shape[0]],
                _ => return Err(WeightsError::UnknownTensor { name: tensor.clone() }),
            }
        } else {
            match required.get(tensor.as_str()) {
                Some(&s) => s.clone(),
                None => return Err(WeightsError::UnknownTensor { name: tensor.clone() }),
            }
        };
        if shape.len() != expected_shape.len() || shape.iter().zip(&expected_shape).any(|(&a, &b)| a != b as u64) {
            return Err(WeightsError::Shape {
                name: tensor.clone(),
                expected: expected_shape,
                found: shape,
            });
        }
        let is_scale = tensor.ends_with(".scale");
        let dtype = match (dtype.as_str(), is_scale, expected_shape.len()) {
            ("F32", _, _) => Dtype::F32,
            ("F16", false, _) => Dtype::F16,
            ("I8", false, 2) => Dtype::I8,
            _ => {
                let expected = match (is_scale, expected_shape.len()) {
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
                    "expected {} bytes ({:?} × {} bytes per {dtype:?}), found data_offsets [{begin}, {end}] = {} bytes",
                    size.map_or("too many".to_string(), |s| s.to_string()),
                    expected_shape,
                    dtype.size(),
                    end - begin
                ),
            });
        }
        entries.insert(
            tensor.as_str(),
            Entry {
                dtype,
                shape: expected_shape,
                begin,
                end,
            },
        );
    }

    // 4. completeness: every required tensor, each I8 tensor's scale, the data tiled exactly
    for (tensor, shape) in &required_list {
        let Some(entry) = entries.get(tensor.as_str()) else {
            return Err(WeightsError::MissingTensor {
                name: tensor.clone(),
                shape: shape.clone(),
            });
        };
        let scale = format!("{tensor}.scale");
        match (entry.dtype, entries.contains_key(scale.as_str())) {
            (Dtype::I8, false) => {
                return Err(WeightsError::MissingTensor {
                    name: scale,
                    shape: shape.iter().take(1).copied().collect(),
                });
            }
            (Dtype::F32 | Dtype::F16, true) => {
                return Err(WeightsError::Dtype {
                    name: tensor.clone(),
                    expected: "I8 (the file has a scale tensor for it)",
                    found: format!("{:?}", entry.dtype),
                });
            }
            _ => {}
        }
    }
    check_tiling(&entries, data.len())?;

    // 5. expand to f32 and check every value
    let mut tensors: BTreeMap<String, Vec<f32>> = BTreeMap::new();
    for (tensor, _) in required_list {
        let values = expand(&tensor, &entries, data)?;
        tensors.insert(tensor, values);
    }
    Ok(assemble(config, name, tensors))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `__metadata__`: `format` must be [`FORMAT`], `config` a JSON object string, `name` optional text.
fn read_metadata(meta: Option<&Value>) -> Result<(Config, String), WeightsError> {
    let meta = match meta {
        Some(Value::Object(m)) => m,
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
            Some(Value::String(s)) => Ok(Some(s.as_str())),
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
                found: found.map_or("nothing".to_string(), |s| format!("{s:?}")),
            })
        }
    }
    let config_text = string("config")?.ok_or_else(|| WeightsError::Metadata {
        key: "config",
        expected: "a JSON object with the model's dimensions".into(),
        found: "nothing".into(),
    })?;
    let config: Config = serde_json::from_str(config_text).map_err(|e| WeightsError::Metadata {
        key: "config",
        expected: "{\"vocab_size\":V,\"d_model\":D,\"n_layers\":L,\"n_heads\":H,\"d_head\":Dh,\"d_mlp\":F,\"context\":C,\"ln_eps\":eps}".into(),
        found: format!("{config_text:?} ({e})"),
    })?;
    let name = string("name")?.unwrap_or("unnamed model").to_string();
    Ok((config, name))
}

/// One header entry: `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}`, offsets in bounds.
fn read_entry(name: &str, info: &Value, data_len: usize) -> Result<(String, Vec<u64>, usize, usize), WeightsError> {
    let bad = |what: String| WeightsError::Header(format!("tensor `{name}`: {what}"));
    let obj = match info {
        Value::Object(o) => o,
        other => {
            return Err(bad(format!(
                "expected an object with `dtype`, `shape` and `data_offsets`, found {}",
                kind(other)
            )))
        }
    };
    let dtype = match obj.get("dtype") {
        Some(Value::String(s)) => s.clone(),
        other => {
            return Err(bad(format!(
                "expected `dtype` a string, found {}",
                other.map_or("nothing", kind)
            )))
        }
    };
    let numbers = |key: &str| -> Result<Vec<u64>, WeightsError> {
        match obj.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|x| {
                    x.as_u64()
                        .ok_or_else(|| bad(format!("expected `{key}` to hold non-negative integers, found {x}")))
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
fn check_tiling(entries: &BTreeMap<&str, Entry>, data_len: usize) -> Result<(), WeightsError> {
    let mut spans: Vec<(usize, usize, &str)> = entries.iter().map(|(n, e)| (e.begin, e.end, *n)).collect();
    spans.sort_unstable();
    // overlaps first (the more specific fault), then holes
    for pair in spans.windows(2) {
        if let [(b0, e0, first), (b1, e1, second)] = *pair {
            if b1 < e0 {
                return Err(WeightsError::Offsets {
                    name: second.to_string(),
                    detail: format!(
                        "expected its bytes not to overlap another tensor's, found [{b1}, {e1}] overlapping `{first}` at [{b0}, {e0}]"
                    ),
                });
            }
        }
    }
    let mut covered = 0usize;
    let mut previous = "";
    for (begin, end, name) in spans {
        if begin > covered {
            return Err(WeightsError::Offsets {
                name: name.to_string(),
                detail: format!(
                    "expected it to start where the previous tensor ends ({covered}), found a gap: data bytes {covered}..{begin} belong to no tensor"
                ),
            });
        }
        covered = end;
        previous = name;
    }
    if covered != data_len {
        return Err(WeightsError::Offsets {
            name: previous.to_string(),
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

/// Expands one tensor to f32 (F16 exactly, I8 as `q as f32 * scale[row]`) and checks it is finite.
fn expand(name: &str, entries: &BTreeMap<&str, Entry>, data: &[u8]) -> Result<Vec<f32>, WeightsError> {
    let slice = |e: &Entry| data.get(e.begin..e.end).unwrap_or(&[]);
    let f32s = |bytes: &[u8]| -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let Some(entry) = entries.get(name) else {
        return Err(WeightsError::MissingTensor {
            name: name.to_string(),
            shape: Vec::new(),
        });
    };
    let values = match entry.dtype {
        Dtype::F32 => f32s(slice(entry)),
        Dtype::F16 => slice(entry)
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect(),
        Dtype::I8 => {
            let scale_name = format!("{name}.scale");
            let Some(scale_entry) = entries.get(scale_name.as_str()) else {
                return Err(WeightsError::MissingTensor {
                    name: scale_name,
                    shape: entry.shape.iter().take(1).copied().collect(),
                });
            };
            let scale = f32s(slice(scale_entry));
            finite(&scale_name, &scale)?;
            let cols = entry.shape.get(1).copied().unwrap_or(1);
            slice(entry)
                .chunks_exact(cols)
                .zip(&scale)
                .flat_map(|(row, &s)| row.iter().map(move |&q| f32::from(q as i8) * s))
                .collect()
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

/// Builds [`Weights`] from the validated, expanded tensors (all present: `load` checked).
fn assemble(config: Config, name: String, mut t: BTreeMap<String, Vec<f32>>) -> Weights {
    let mut take = |key: String| t.remove(&key).unwrap_or_default();
    let layers = (0..config.n_layers)
        .map(|i| {
            let mut p = |s: &str| take(format!("layers.{i}.{s}"));
            let ln1 = Norm {
                weight: p("ln1.weight"),
                bias: p("ln1.bias"),
            };
            let (w_q, w_k, w_v, w_o) = (p("attn.w_q"), p("attn.w_k"), p("attn.w_v"), p("attn.w_o"));
            let mlp = (config.d_mlp > 0).then(|| Mlp {
                ln: Norm {
                    weight: p("ln2.weight"),
                    bias: p("ln2.bias"),
                },
                w_in: p("mlp.w_in"),
                b_in: p("mlp.b_in"),
                w_out: p("mlp.w_out"),
                b_out: p("mlp.b_out"),
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
    let tok_emb = take("tok_emb".into());
    let pos_emb = take("pos_emb".into());
    let ln_f = Norm {
        weight: take("ln_f.weight".into()),
        bias: take("ln_f.bias".into()),
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
    let mut tensors: Vec<(String, &[f32])> = vec![
        ("tok_emb".into(), &weights.tok_emb),
        ("pos_emb".into(), &weights.pos_emb),
    ];
    for (i, l) in weights.layers.iter().enumerate() {
        let p = |s: &str| format!("layers.{i}.{s}");
        tensors.push((p("ln1.weight"), &l.ln1.weight));
        tensors.push((p("ln1.bias"), &l.ln1.bias));
        tensors.push((p("attn.w_q"), &l.w_q));
        tensors.push((p("attn.w_k"), &l.w_k));
        tensors.push((p("attn.w_v"), &l.w_v));
        tensors.push((p("attn.w_o"), &l.w_o));
        if let Some(m) = &l.mlp {
            tensors.push((p("ln2.weight"), &m.ln.weight));
            tensors.push((p("ln2.bias"), &m.ln.bias));
            tensors.push((p("mlp.w_in"), &m.w_in));
            tensors.push((p("mlp.b_in"), &m.b_in));
            tensors.push((p("mlp.w_out"), &m.w_out));
            tensors.push((p("mlp.b_out"), &m.b_out));
        }
    }
    tensors.push(("ln_f.weight".into(), &weights.ln_f.weight));
    tensors.push(("ln_f.bias".into(), &weights.ln_f.bias));

    let shapes: BTreeMap<String, Vec<usize>> = required_tensors(c).into_iter().collect();
    let mut header = serde_json::Map::new();
    let mut meta = serde_json::Map::new();
    meta.insert("format".into(), Value::from(FORMAT));
    meta.insert(
        "config".into(),
        Value::from(serde_json::to_string(c).unwrap_or_default()),
    );
    meta.insert("name".into(), Value::from(weights.name.as_str()));
    header.insert("__metadata__".into(), Value::Object(meta));
    let mut offset = 0usize;
    for (name, values) in &tensors {
        let shape = shapes.get(name).cloned().unwrap_or_else(|| vec![values.len()]);
        let end = offset + values.len() * 4;
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut text = Value::Object(header).to_string().into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + offset);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    for (_, values) in &tensors {
        for v in values.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}
