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

mod data;
mod header;
mod save;

use crate::config::{Config, Positions};
use crate::json::Json;
use crate::message::float_text;
use crate::model::{Layer, Mlp, Norm, Weights};
use data::{check_tiling, expand};
use header::{kind, read_entry, read_metadata, RawEntry};
pub use save::save;

/// IEEE binary16 → f32, exactly (the quantised kernels' conversion, shared).
pub use crate::kernels::quant::f16_to_f32;

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
    TooShort {
        len: usize,
    },
    /// The header length prefix is larger than the cap or than the rest of the file.
    HeaderLength {
        declared: u64,
        available: usize,
    },
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
    MissingTensor {
        name: String,
        shape: Vec<usize>,
    },
    /// The file has a tensor this format does not use.
    UnknownTensor {
        name: String,
    },
    /// The file has a tensor this format uses, but not with this config (`pos_emb` with rotary positions).
    UnexpectedTensor {
        name: String,
        why: &'static str,
    },
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
    Offsets {
        name: String,
        detail: String,
    },
    /// A value is NaN or infinite after expansion to f32.
    NonFinite {
        name: String,
        index: usize,
        value: f32,
    },
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
            return Err(WeightsError::Config(format!("expected `{key}` in 1..={max}, found {value}")));
        }
    }
    if c.d_mlp > MAX_D_MLP {
        return Err(WeightsError::Config(format!("expected `d_mlp` in 0..={MAX_D_MLP} (0 = attention-only), found {}", c.d_mlp)));
    }
    if c.n_heads.checked_mul(c.d_head) != Some(c.d_model) {
        return Err(WeightsError::Config(format!(
            "expected n_heads × d_head = d_model, found {} × {} ≠ {}",
            c.n_heads, c.d_head, c.d_model
        )));
    }
    if !(c.ln_eps.is_finite() && c.ln_eps > 0.0) {
        return Err(WeightsError::Config(format!("expected `ln_eps` finite and above 0, found {}", float_text(c.ln_eps))));
    }
    if let Positions::Rotary { base } = c.positions {
        if !(base.is_finite() && base > 1.0) {
            return Err(WeightsError::Config(format!("expected `rope_base` finite and above 1, found {}", float_text(base))));
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
            return Err(WeightsError::Config(format!("expected `bos_id` below vocab_size {}, found {bos}", c.vocab_size)));
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

/// Where a tensor's values live in [`Weights`], for reading and for writing: a field of the weights,
/// of every layer, or of every layer's MLP.
#[derive(Clone, Copy)]
enum Place {
    Model(fn(&Weights) -> &[f32], fn(&mut Weights) -> &mut Vec<f32>),
    Layer(fn(&Layer) -> &[f32], fn(&mut Layer) -> &mut Vec<f32>),
    Mlp(fn(&Mlp) -> &[f32], fn(&mut Mlp) -> &mut Vec<f32>),
}

/// `place!(Layer: ln1.weight)`: a field path written once, for reading and for writing.
macro_rules! place {
    ($scope:ident: $($field:ident).+) => {
        Place::$scope(|x| &x.$($field).+[..], |x| &mut x.$($field).+)
    };
}

/// One kind of tensor in a weights file (model/FORMAT.md): its name (after `layers.{i}.` for a
/// tensor of every layer), its shape from the config, which configs have it, and its place.
struct TensorKind {
    name: &'static str,
    shape: fn(&Config) -> Vec<usize>,
    when: fn(&Config) -> bool,
    place: Place,
}

impl TensorKind {
    fn per_layer(&self) -> bool {
        !matches!(self.place, Place::Model(..))
    }
}

fn always(_: &Config) -> bool {
    true
}
fn learned(c: &Config) -> bool {
    c.positions == Positions::Learned
}
fn with_mlp(c: &Config) -> bool {
    c.d_mlp > 0
}
/// n_heads·d_head (= d_model for a checked config; saturating keeps an unchecked one from wrapping).
fn hd(c: &Config) -> usize {
    c.n_heads.saturating_mul(c.d_head)
}

/// Every tensor of the format, in file order: the model's own before the layers (`tok_emb`,
/// `pos_emb`), each layer's in turn (`layers.{i}.…`, contiguous here), the final norm after. It
/// drives the required list, the index of a name, assembly and saving.
const TENSORS: [TensorKind; 16] = [
    TensorKind { name: "tok_emb", shape: |c| vec![c.vocab_size, c.d_model], when: always, place: place!(Model: tok_emb) },
    TensorKind { name: "pos_emb", shape: |c| vec![c.context, c.d_model], when: learned, place: place!(Model: pos_emb) },
    TensorKind { name: "ln1.weight", shape: |c| vec![c.d_model], when: always, place: place!(Layer: ln1.weight) },
    TensorKind { name: "ln1.bias", shape: |c| vec![c.d_model], when: always, place: place!(Layer: ln1.bias) },
    TensorKind { name: "attn.w_q", shape: |c| vec![c.d_model, hd(c)], when: always, place: place!(Layer: w_q) },
    TensorKind { name: "attn.w_k", shape: |c| vec![c.d_model, hd(c)], when: always, place: place!(Layer: w_k) },
    TensorKind { name: "attn.w_v", shape: |c| vec![c.d_model, hd(c)], when: always, place: place!(Layer: w_v) },
    TensorKind { name: "attn.w_o", shape: |c| vec![hd(c), c.d_model], when: always, place: place!(Layer: w_o) },
    TensorKind { name: "ln2.weight", shape: |c| vec![c.d_model], when: with_mlp, place: place!(Mlp: ln.weight) },
    TensorKind { name: "ln2.bias", shape: |c| vec![c.d_model], when: with_mlp, place: place!(Mlp: ln.bias) },
    TensorKind { name: "mlp.w_in", shape: |c| vec![c.d_model, c.d_mlp], when: with_mlp, place: place!(Mlp: w_in) },
    TensorKind { name: "mlp.b_in", shape: |c| vec![c.d_mlp], when: with_mlp, place: place!(Mlp: b_in) },
    TensorKind { name: "mlp.w_out", shape: |c| vec![c.d_mlp, c.d_model], when: with_mlp, place: place!(Mlp: w_out) },
    TensorKind { name: "mlp.b_out", shape: |c| vec![c.d_model], when: with_mlp, place: place!(Mlp: b_out) },
    TensorKind { name: "ln_f.weight", shape: |c| vec![c.d_model], when: always, place: place!(Model: ln_f.weight) },
    TensorKind { name: "ln_f.bias", shape: |c| vec![c.d_model], when: always, place: place!(Model: ln_f.bias) },
];

/// One tensor of a file: its kind (an index into [`TENSORS`]) and, for a tensor of every layer, the
/// layer (0 otherwise).
#[derive(Clone, Copy, Debug)]
struct Slot {
    kind: usize,
    layer: usize,
}

/// The tensors one config has, in file order, and where each kind's first one is: slot
/// `first[kind] + layer · per_layer` holds that kind for that layer.
struct Table {
    slots: Vec<Slot>,
    first: [Option<usize>; TENSORS.len()],
    per_layer: usize,
    n_layers: usize,
}

impl Table {
    fn new(c: &Config) -> Table {
        let present: Vec<usize> = (0..TENSORS.len()).filter(|&k| (TENSORS[k].when)(c)).collect();
        let layer_kinds: Vec<usize> = present.iter().copied().filter(|&k| TENSORS[k].per_layer()).collect();
        let mut table = Table { slots: Vec::new(), first: [None; TENSORS.len()], per_layer: layer_kinds.len(), n_layers: c.n_layers };
        for &kind in &present {
            if !TENSORS[kind].per_layer() {
                table.first[kind] = Some(table.slots.len());
                table.slots.push(Slot { kind, layer: 0 });
            } else if layer_kinds.first() == Some(&kind) {
                for layer in 0..c.n_layers {
                    for &kind in &layer_kinds {
                        table.first[kind].get_or_insert(table.slots.len());
                        table.slots.push(Slot { kind, layer });
                    }
                }
            }
        }
        table
    }

    /// The slot of tensor `name`, if the config has it. A layer number must be canonical decimal
    /// (digits, no leading zero) and below `n_layers`.
    fn index(&self, name: &str) -> Option<usize> {
        let (layer, suffix) = match name.strip_prefix("layers.") {
            Some(rest) => {
                let (number, suffix) = rest.split_once('.')?;
                let canonical =
                    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && (number == "0" || !number.starts_with('0'));
                if !canonical {
                    return None;
                }
                let layer = number.bytes().try_fold(0usize, |acc, d| acc.checked_mul(10)?.checked_add(usize::from(d - b'0')));
                (Some(layer.filter(|&i| i < self.n_layers)?), suffix)
            }
            None => (None, name),
        };
        let kind = TENSORS.iter().position(|t| t.name == suffix && t.per_layer() == layer.is_some())?;
        Some(self.first[kind]? + layer.unwrap_or(0) * self.per_layer)
    }

    /// Every slot's full name and shape.
    fn named(&self, c: &Config) -> Vec<(String, Vec<usize>)> {
        self.slots.iter().map(|s| (slot_name(*s), (TENSORS[s.kind].shape)(c))).collect()
    }
}

fn slot_name(s: Slot) -> String {
    let kind = &TENSORS[s.kind];
    if kind.per_layer() {
        format!("layers.{}.{}", s.layer, kind.name)
    } else {
        kind.name.to_string()
    }
}

/// Every tensor a config requires, with its shape, in file order (`pos_emb` only with learned
/// positions, the MLP's only with `d_mlp` > 0).
pub fn required_tensors(c: &Config) -> Vec<(String, Vec<usize>)> {
    Table::new(c).named(c)
}

/// Reads and validates a safetensors weights file and expands every tensor to f32.
pub fn load(bytes: &[u8]) -> Result<Weights, WeightsError> {
    // 1. the length prefix
    let (header_bytes, data) = split_header(bytes)?;

    // 2. the header and its metadata
    let header = Json::parse(header_bytes).map_err(WeightsError::HeaderJson)?;
    let Some(members) = header.as_object() else {
        return Err(WeightsError::Header(format!("expected a JSON object, found {}", kind(&header))));
    };
    if members.iter().filter(|(k, _)| k == "__metadata__").count() > 1 {
        return Err(WeightsError::Header("expected each name once, found `__metadata__` twice".into()));
    }
    let (config, name) = read_metadata(header.get("__metadata__"))?;
    check_config(&config)?;
    // before any tensor is read: a model none of whose analyses fits the work budget is no use
    crate::budget::check_model(&config).map_err(WeightsError::Config)?;

    // 3. every tensor entry, at its slot in the table (an I8 tensor's scale beside it)
    let table = Table::new(&config);
    let mut found = Found::new(table.named(&config));
    for (tensor, info) in members.iter().filter(|(k, _)| k != "__metadata__") {
        let index = table.index(tensor.strip_suffix(".scale").unwrap_or(tensor));
        found.add(tensor, index, read_entry(tensor, info, data.len())?)?;
    }

    // 4. completeness: every required tensor, each I8 tensor's scale, the data tiled exactly
    found.check_complete()?;
    check_tiling(&found.required, &found.entries, &found.scales, data.len())?;

    // 5. expand to f32 and check every value
    let mut tensors = Vec::with_capacity(found.required.len());
    for ((tensor, _), (entry, scale)) in found.required.iter().zip(found.entries.iter().zip(&found.scales)) {
        if let Some(entry) = entry {
            tensors.push(expand(tensor, entry, scale.as_ref(), data)?);
        }
    }
    Ok(assemble(config, name, &table.slots, tensors))
}

/// The 8-byte little-endian header length, checked: the header's bytes and the data after them.
fn split_header(bytes: &[u8]) -> Result<(&[u8], &[u8]), WeightsError> {
    let prefix: [u8; 8] = match bytes.get(..8).and_then(|s| s.try_into().ok()) {
        Some(p) => p,
        None => return Err(WeightsError::TooShort { len: bytes.len() }),
    };
    let declared = u64::from_le_bytes(prefix);
    let available = bytes.len() - 8;
    match usize::try_from(declared) {
        Ok(n) if declared <= MAX_HEADER_BYTES && n <= available => Ok(bytes[8..].split_at(n)),
        _ => Err(WeightsError::HeaderLength { declared, available }),
    }
}

/// The header's tensor entries, checked one by one, at their slots (scales at their tensor's slot).
struct Found {
    required: Vec<(String, Vec<usize>)>,
    entries: Vec<Option<Entry>>,
    scales: Vec<Option<Entry>>,
}

impl Found {
    fn new(required: Vec<(String, Vec<usize>)>) -> Found {
        let n = required.len();
        Found { required, entries: vec![None; n], scales: vec![None; n] }
    }

    /// Entry `tensor` (a tensor of slot `index`, or with `.scale` its scale): a known name, once,
    /// with the exact shape, an allowed dtype and as many bytes as both say.
    fn add(&mut self, tensor: &str, index: Option<usize>, (dtype, shape, begin, end): RawEntry) -> Result<(), WeightsError> {
        let base = tensor.strip_suffix(".scale");
        if index.is_none() && base.unwrap_or(tensor) == "pos_emb" {
            return Err(WeightsError::UnexpectedTensor {
                name: tensor.to_string(),
                why: "a model with rotary positions has no position table: config `positions` is \"rope\"",
            });
        }
        let (slot, expected_shape) = match (index, base) {
            (Some(i), None) => (&mut self.entries[i], self.required[i].1.clone()),
            (Some(i), Some(_)) if self.required[i].1.len() == 2 => (&mut self.scales[i], self.required[i].1[..1].to_vec()),
            _ => return Err(WeightsError::UnknownTensor { name: tensor.to_string() }),
        };
        if slot.is_some() {
            return Err(WeightsError::Header(format!("expected each name once, found `{tensor}` twice")));
        }
        if shape.len() != expected_shape.len() || shape.iter().zip(&expected_shape).any(|(&a, &b)| a != b as u64) {
            return Err(WeightsError::Shape { name: tensor.to_string(), expected: expected_shape, found: shape });
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
                return Err(WeightsError::Dtype { name: tensor.to_string(), expected, found: dtype });
            }
        };
        // shape × dtype size, checked: the shape equals a config-derived one, and the config is bounded
        let numel = expected_shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
        let size = numel.and_then(|n| n.checked_mul(dtype.size()));
        if size != Some(end - begin) {
            return Err(WeightsError::Offsets {
                name: tensor.to_string(),
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
        *slot = Some(Entry { dtype, shape: expected_shape, begin, end });
        Ok(())
    }

    /// Every required tensor present, an I8 one with its scale and no other with one.
    fn check_complete(&self) -> Result<(), WeightsError> {
        for ((tensor, shape), (entry, scale)) in self.required.iter().zip(self.entries.iter().zip(&self.scales)) {
            let Some(entry) = entry else {
                return Err(WeightsError::MissingTensor { name: tensor.clone(), shape: shape.clone() });
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
        Ok(())
    }
}

/// `[16, 128]`, for messages.
fn shape_text<T: fmt::Display>(shape: &[T]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

/// Builds [`Weights`] from the expanded tensors, one per slot, each put in its place.
fn assemble(config: Config, name: String, slots: &[Slot], tensors: Vec<Vec<f32>>) -> Weights {
    let layer = Layer { mlp: (config.d_mlp > 0).then(Mlp::default), ..Layer::default() };
    let mut w =
        Weights { layers: vec![layer; config.n_layers], config, name, tok_emb: Vec::new(), pos_emb: Vec::new(), ln_f: Norm::default() };
    for (slot, values) in slots.iter().zip(tensors) {
        match TENSORS[slot.kind].place {
            Place::Model(_, field) => *field(&mut w) = values,
            Place::Layer(_, field) => *field(&mut w.layers[slot.layer]) = values,
            Place::Mlp(_, field) => {
                if let Some(m) = w.layers[slot.layer].mlp.as_mut() {
                    *field(m) = values;
                }
            }
        }
    }
    w
}
