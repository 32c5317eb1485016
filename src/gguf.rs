//! Reading a GGUF file (versions 2 and 3), the format llama.cpp and people who run local LLMs use.
//!
//! A GGUF file is, little-endian throughout:
//!
//! ```text
//! magic "GGUF" · version u32 · tensor_count u64 · metadata_count u64
//! metadata_count × (key: string, value_type: u32, value)      string = u64 length + UTF-8 bytes
//! tensor_count × (name: string, n_dims: u32, dims: n_dims × u64, ggml_type: u32, offset: u64)
//! padding to `general.alignment` (default 32) · data: each tensor at its offset from here
//! ```
//!
//! Values are u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, bool, string, or an array (element
//! type u32, count u64, elements). `dims[0]` is the innermost (contiguous) dimension: a matrix of n
//! rows of k elements has dims [k, n]. Tensor data is F32, F16 or a block format of
//! [`crate::kernels::quant`] (Q8_0, Q4_0, Q4_1), whose rows must be whole blocks. [`Gguf::parse`]
//! borrows the file: quantised tensors stay as they are in it, and [`Tensor::data`] is their bytes.
//!
//! Nothing here indexes without a bounds check or does arithmetic on numbers from the file that can
//! wrap (sizes are u64 with checked_mul/checked_add, converted to usize only once they are known to
//! lie within the file, since wasm32's usize has 32 bits), nothing recurses without a depth limit,
//! and nothing is allocated before the file is known to hold what the allocation is for: a hostile
//! file makes `parse` allocate at most a few times its own size. Every error says what was found.
//!
//! [`llama`] reads and checks a Llama model (config, tensors, tokenizer data) from a parsed file.

use std::fmt;

use crate::kernels::quant::{self, QuantFormat, BLOCK};

pub mod llama;
mod values;

pub use values::{Array, Value, ValueType};

/// The first four bytes of every GGUF file.
pub const MAGIC: [u8; 4] = *b"GGUF";
/// The data alignment when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// At most this many dimensions per tensor (ggml's GGML_MAX_DIMS).
pub const MAX_DIMS: u32 = 4;

/// Why a GGUF file was refused. `Display` says what was found (and expected).
#[derive(Clone, Debug, PartialEq)]
pub enum GgufError {
    /// The file ends before something it declares: `inside` names what, `needed` is the file length
    /// it would take (u64::MAX: more than 2⁶⁴).
    Truncated {
        len: u64,
        inside: String,
        needed: u64,
    },
    /// The first four bytes are not `GGUF`.
    Magic {
        found: Vec<u8>,
    },
    Version {
        found: u32,
    },
    /// A count or size that cannot be right for a file of this length, or that overflows.
    Absurd(String),
    /// A well-formed file can never look like this (bad UTF-8, a duplicate key, misaligned data, …).
    Malformed(String),
    /// A tensor type this crate cannot read (ggml type id and its name, when it has one).
    TensorType {
        tensor: String,
        id: u32,
    },
    /// Well-formed, but not something this crate supports (an architecture, a tokenizer, …).
    Unsupported(String),
    /// The file is GGUF, but not a usable model: a key or tensor missing or of the wrong shape.
    Model(String),
}

impl fmt::Display for GgufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GgufError::Truncated { len, inside, needed: u64::MAX } => {
                write!(f, "file ends at byte {len} inside {inside}, which needs more than 2⁶⁴ bytes")
            }
            GgufError::Truncated { len, inside, needed } => {
                write!(f, "file ends at byte {len} inside {inside}, which needs {needed} bytes")
            }
            GgufError::Magic { found } => {
                let hex: Vec<String> = found.iter().map(|b| format!("{b:02x}")).collect();
                write!(f, "expected magic GGUF (47 47 55 46), found {} ({:?})", hex.join(" "), String::from_utf8_lossy(found))?;
                if found.len() < 4 {
                    write!(f, ": the file has only {} bytes", found.len())?;
                }
                Ok(())
            }
            GgufError::Version { found } => {
                write!(f, "GGUF version {found} is not supported (2 and 3 are)")?;
                if found.swap_bytes() == 2 || found.swap_bytes() == 3 {
                    write!(f, "; this looks like a big-endian file, and only little-endian ones are read")?;
                }
                Ok(())
            }
            GgufError::TensorType { tensor, id } => match ggml_type_name(*id) {
                Some(name) => write!(f, "tensor type {name} ({id}) of {tensor} is not supported (F32, F16, Q8_0, Q4_0, Q4_1 are)"),
                None => write!(f, "tensor type {id} of {tensor} is not a known ggml type (F32, F16, Q8_0, Q4_0, Q4_1 are supported)"),
            },
            GgufError::Absurd(m) => write!(f, "absurd sizes: {m}"),
            GgufError::Malformed(m) | GgufError::Unsupported(m) | GgufError::Model(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for GgufError {}

/// The ggml name of a type id, for messages (ids as in ggml.h; removed ids have no name).
pub fn ggml_type_name(id: u32) -> Option<&'static str> {
    const NAMES: [&str; 40] = [
        "F32", "F16", "Q4_0", "Q4_1", "", "", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS",
        "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", "", "", "",
        "TQ1_0", "TQ2_0", "", "", "", "MXFP4",
    ];
    NAMES.get(id as usize).copied().filter(|n| !n.is_empty())
}

/// The tensor types this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorType {
    F32,
    F16,
    /// A block format (Q8_0, Q4_0, Q4_1), kept quantised.
    Quant(QuantFormat),
}

impl TensorType {
    pub fn from_id(id: u32) -> Option<TensorType> {
        Some(match id {
            0 => TensorType::F32,
            1 => TensorType::F16,
            2 => TensorType::Quant(QuantFormat::Q4_0),
            3 => TensorType::Quant(QuantFormat::Q4_1),
            8 => TensorType::Quant(QuantFormat::Q8_0),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TensorType::F32 => "F32",
            TensorType::F16 => "F16",
            TensorType::Quant(q) => q.name(),
        }
    }

    /// (elements, bytes) per block: (1, 4), (1, 2) or (32, the block size).
    pub fn block(self) -> (u64, u64) {
        match self {
            TensorType::F32 => (1, 4),
            TensorType::F16 => (1, 2),
            TensorType::Quant(q) => (BLOCK as u64, q.block_bytes() as u64),
        }
    }
}

/// One tensor of a parsed file.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor<'a> {
    pub name: &'a str,
    pub ty: TensorType,
    /// Dimensions, innermost first (ggml's `ne`): a matrix of n rows of k is [k, n].
    pub shape: Vec<usize>,
    /// Where the data starts in the file.
    pub offset: usize,
    /// The data, exactly as stored (quantised blocks stay quantised).
    pub data: &'a [u8],
}

impl<'a> Tensor<'a> {
    /// Elements per row (`shape[0]`; 1 for a scalar).
    pub fn cols(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Rows: the product of the outer dimensions (fits: the data is in memory).
    pub fn rows(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// Row `r` as f32 (dequantised if need be); None past the last row.
    pub fn row_f32(&self, r: usize) -> Option<Vec<f32>> {
        let row_bytes = self.data.len().checked_div(self.rows())?;
        let bytes = self.data.get(r.checked_mul(row_bytes)?..r.checked_add(1)?.checked_mul(row_bytes)?)?;
        let mut out = vec![0.0; self.cols()];
        match self.ty {
            TensorType::F32 => {
                out.iter_mut().zip(bytes.chunks_exact(4)).for_each(|(v, b)| *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            TensorType::F16 => out.iter_mut().zip(bytes.chunks_exact(2)).for_each(|(v, b)| *v = quant::f16_at(b, 0)),
            TensorType::Quant(q) => quant::dequantize_row(q, bytes, &mut out),
        }
        Some(out)
    }

    /// All elements as f32 (dequantised if need be), row by row.
    pub fn to_f32(&self) -> Vec<f32> {
        (0..self.rows()).flat_map(|r| self.row_f32(r).unwrap_or_default()).collect()
    }

    /// Ok when every value (F32, F16) or every block scale d and offset m is finite; otherwise
    /// names the first one that is not.
    pub fn check_finite(&self) -> Result<(), GgufError> {
        let bad = |what: String, v: f32| Err(GgufError::Model(format!("tensor {} has {what} = {v}: expected finite numbers", self.name)));
        match self.ty {
            TensorType::F32 | TensorType::F16 => {
                let (_, size) = self.ty.block();
                for (i, b) in self.data.chunks_exact(size as usize).enumerate() {
                    let v = if size == 4 { f32::from_le_bytes([b[0], b[1], b[2], b[3]]) } else { quant::f16_at(b, 0) };
                    if !v.is_finite() {
                        return bad(format!("element {i}"), v);
                    }
                }
            }
            TensorType::Quant(q) => {
                for (i, b) in self.data.chunks_exact(q.block_bytes()).enumerate() {
                    let scales = if q == QuantFormat::Q4_1 { 2 } else { 1 };
                    for (s, name) in ["d", "m"].iter().enumerate().take(scales) {
                        let v = quant::f16_at(b, 2 * s);
                        if !v.is_finite() {
                            return bad(format!("block {i} scale {name}"), v);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A parsed GGUF file, borrowing its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Gguf<'a> {
    pub version: u32,
    /// Metadata in file order.
    pub metadata: Vec<(&'a str, Value<'a>)>,
    /// Tensors in file order.
    pub tensors: Vec<Tensor<'a>>,
    pub alignment: u64,
    /// Where the data section starts.
    pub data_offset: usize,
}

impl<'a> Gguf<'a> {
    /// Parses and checks the whole file: header, metadata, tensor table, and that every tensor's data
    /// lies in the file, aligned, without overlapping another's.
    pub fn parse(bytes: &'a [u8]) -> Result<Gguf<'a>, GgufError> {
        let mut r = Cursor { bytes, pos: 0 };
        if bytes.get(..4) != Some(&MAGIC[..]) {
            return Err(GgufError::Magic { found: bytes[..bytes.len().min(4)].to_vec() });
        }
        r.pos = 4;
        let header = || "the header".to_string();
        let version = r.u32(&header)?;
        if version != 2 && version != 3 {
            return Err(GgufError::Version { found: version });
        }
        let tensor_count = r.u64(&header)?;
        let metadata_count = r.u64(&header)?;
        // every entry takes at least this many bytes: no allocation beyond what the file can hold
        r.check_count(metadata_count, 8 + 4 + 1, "metadata entries")?;
        let mut metadata: Vec<(&str, Value)> = Vec::with_capacity(metadata_count as usize);
        for i in 0..metadata_count {
            let key = r.string(&|| format!("the key of metadata entry {i}"))?;
            if metadata.iter().any(|(k, _)| *k == key) {
                return Err(GgufError::Malformed(format!("metadata key `{key}` appears twice")));
            }
            let value = values::read_value(&mut r, key)?;
            metadata.push((key, value));
        }
        let alignment = match metadata.iter().find(|(k, _)| *k == "general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some((_, Value::U32(a))) if a.is_power_of_two() => *a as u64,
            Some((_, v)) => {
                return Err(GgufError::Malformed(format!("general.alignment must be a u32 power of two, found {}", v.describe())));
            }
        };
        r.check_count(tensor_count, 8 + 4 + 4 + 8, "tensors")?;
        let table = read_tensor_table(&mut r, tensor_count, alignment)?;
        let data_offset =
            (r.pos as u64).checked_next_multiple_of(alignment).ok_or_else(|| GgufError::Absurd("the data offset overflows".into()))?;
        let tensors = place_tensors(bytes, table, data_offset)?;
        Ok(Gguf { version, metadata, tensors, alignment, data_offset: data_offset.min(bytes.len() as u64) as usize })
    }

    /// The metadata value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.metadata.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The tensor called `name`.
    pub fn tensor(&self, name: &str) -> Option<&Tensor<'a>> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// A tensor table entry before its data is located: name, type, shape, data size, offset.
struct Entry<'a> {
    name: &'a str,
    ty: TensorType,
    shape: Vec<usize>,
    size: u64,
    offset: u64,
}

fn read_tensor_table<'a>(r: &mut Cursor<'a>, count: u64, alignment: u64) -> Result<Vec<Entry<'a>>, GgufError> {
    let mut table: Vec<Entry> = Vec::with_capacity(count as usize);
    for i in 0..count {
        let name = r.string(&|| format!("the name of tensor table entry {i}"))?;
        let inside = || format!("the tensor table entry of {name}");
        let n_dims = r.u32(&inside)?;
        if n_dims > MAX_DIMS {
            return Err(GgufError::Malformed(format!("tensor {name} has {n_dims} dimensions (at most {MAX_DIMS} are allowed)")));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.u64(&inside)?);
        }
        let id = r.u32(&inside)?;
        let ty = TensorType::from_id(id).ok_or_else(|| GgufError::TensorType { tensor: name.to_string(), id })?;
        let offset = r.u64(&inside)?;
        if table.iter().any(|t| t.name == name) {
            return Err(GgufError::Malformed(format!("tensor {name} appears twice in the tensor table")));
        }
        if offset % alignment != 0 {
            return Err(GgufError::Malformed(format!(
                "tensor {name} starts at data offset {offset}, which is not a multiple of the alignment {alignment}"
            )));
        }
        let (per_block, block_bytes) = ty.block();
        let cols = dims.first().copied().unwrap_or(1);
        if cols % per_block != 0 {
            return Err(GgufError::Malformed(format!(
                "tensor {name} ({}) has rows of {cols} elements, which is not a whole number of {per_block}-element blocks",
                ty.name()
            )));
        }
        // The product of the dimensions (zeros counted as 1) must fit usize, so that every
        // dimension and every product of them does, even for an empty tensor.
        let absurd =
            || GgufError::Absurd(format!("tensor {name} has shape {dims:?}, whose element count does not fit in {} bits", usize::BITS));
        let extent =
            dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d.max(1))).filter(|&e| usize::try_from(e).is_ok()).ok_or_else(absurd)?;
        let elements = if dims.contains(&0) { 0 } else { extent };
        let size = (elements / per_block).checked_mul(block_bytes).ok_or_else(absurd)?;
        let shape = dims.iter().map(|&d| d as usize).collect(); // each ≤ extent, which fits
        table.push(Entry { name, ty, shape, size, offset });
    }
    Ok(table)
}

/// Locates every tensor's data in the file and checks that no two overlap.
fn place_tensors<'a>(bytes: &'a [u8], table: Vec<Entry<'a>>, data_offset: u64) -> Result<Vec<Tensor<'a>>, GgufError> {
    let len = bytes.len() as u64;
    let mut tensors = Vec::with_capacity(table.len());
    for e in table {
        let start = data_offset.checked_add(e.offset);
        let end = start.and_then(|s| s.checked_add(e.size));
        let (Some(start), Some(end)) = (start, end) else {
            return Err(GgufError::Absurd(format!("tensor {} at data offset {} with {} bytes lies past 2⁶⁴", e.name, e.offset, e.size)));
        };
        if end > len {
            let inside = format!("tensor {} ({} {:?}, bytes {start}..{end})", e.name, e.ty.name(), e.shape);
            return Err(GgufError::Truncated { len, inside, needed: end });
        }
        // in the file, so the shape's product fits usize and so does every dimension
        let (start, end) = (start as usize, end as usize);
        tensors.push(Tensor { name: e.name, ty: e.ty, shape: e.shape, offset: start, data: &bytes[start..end] });
    }
    let mut order: Vec<usize> = (0..tensors.len()).collect();
    order.sort_by_key(|&i| (tensors[i].offset, tensors[i].data.len()));
    for pair in order.windows(2) {
        let (a, b) = (&tensors[pair[0]], &tensors[pair[1]]);
        if a.offset + a.data.len() > b.offset && !b.data.is_empty() {
            return Err(GgufError::Malformed(format!(
                "the data of tensor {} (bytes {}..{}) overlaps that of tensor {} (bytes {}..{})",
                a.name,
                a.offset,
                a.offset + a.data.len(),
                b.name,
                b.offset,
                b.offset + b.data.len()
            )));
        }
    }
    Ok(tensors)
}

/// A read position in the file; every read is bounds-checked and names what it was reading.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// The next n bytes.
    pub(crate) fn take(&mut self, n: u64, inside: &dyn Fn() -> String) -> Result<&'a [u8], GgufError> {
        let len = self.bytes.len() as u64;
        let end = (self.pos as u64).checked_add(n).filter(|&e| e <= len);
        let Some(end) = end else {
            let needed = (self.pos as u64).saturating_add(n);
            return Err(GgufError::Truncated { len, inside: inside(), needed });
        };
        let out = &self.bytes[self.pos..end as usize];
        self.pos = end as usize;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self, inside: &dyn Fn() -> String) -> Result<[u8; N], GgufError> {
        let b = self.take(N as u64, inside)?;
        let mut out = [0; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    pub(crate) fn u32(&mut self, inside: &dyn Fn() -> String) -> Result<u32, GgufError> {
        self.array(inside).map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self, inside: &dyn Fn() -> String) -> Result<u64, GgufError> {
        self.array(inside).map(u64::from_le_bytes)
    }

    /// A u64 length and that many bytes of UTF-8.
    pub(crate) fn string(&mut self, inside: &dyn Fn() -> String) -> Result<&'a str, GgufError> {
        let n = self.u64(inside)?;
        let at = self.pos;
        let b = self.take(n, inside)?;
        std::str::from_utf8(b)
            .map_err(|e| GgufError::Malformed(format!("{} is not UTF-8: invalid byte at file offset {}", inside(), at + e.valid_up_to())))
    }

    /// Err unless `count` items of at least `min_bytes` each fit in the rest of the file.
    pub(crate) fn check_count(&self, count: u64, min_bytes: u64, what: &str) -> Result<(), GgufError> {
        let rest = (self.bytes.len() - self.pos) as u64;
        if count.checked_mul(min_bytes).is_none_or(|need| need > rest) {
            return Err(GgufError::Absurd(format!(
                "{count} {what} declared, but the {rest} bytes left in the file hold at most {} (each takes at least {min_bytes} bytes)",
                rest / min_bytes
            )));
        }
        Ok(())
    }
}
