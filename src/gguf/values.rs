//! GGUF metadata values: the thirteen value types, arrays of any of them (nested at most
//! [`MAX_ARRAY_DEPTH`] deep), read without panicking and without allocating more than the file holds.

use super::{Cursor, GgufError};

/// Arrays of arrays deeper than this are refused (no known file nests arrays at all), so that a
/// hostile file cannot recurse the reader off its stack.
pub const MAX_ARRAY_DEPTH: u32 = 4;

/// The value types, with their GGUF ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueType {
    pub fn from_id(id: u32) -> Option<ValueType> {
        use ValueType::*;
        [U8, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64].get(id as usize).copied()
    }

    /// Bytes per value for the fixed-size types.
    pub fn size(self) -> Option<u64> {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => Some(1),
            U16 | I16 => Some(2),
            U32 | I32 | F32 => Some(4),
            U64 | I64 | F64 => Some(8),
            String | Array => None,
        }
    }

    pub fn name(self) -> &'static str {
        use ValueType::*;
        match self {
            U8 => "u8",
            I8 => "i8",
            U16 => "u16",
            I16 => "i16",
            U32 => "u32",
            I32 => "i32",
            F32 => "f32",
            Bool => "bool",
            String => "string",
            Array => "array",
            U64 => "u64",
            I64 => "i64",
            F64 => "f64",
        }
    }
}

/// One metadata value, borrowing strings and numeric arrays from the file.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    String(&'a str),
    Array(Array<'a>),
}

/// An array value. Numbers stay as their little-endian bytes in the file (an array of a million u8
/// costs nothing); strings and nested arrays are collected (each took ≥ 8 bytes of the file).
#[derive(Clone, Debug, PartialEq)]
pub enum Array<'a> {
    Numbers { ty: ValueType, bytes: &'a [u8] },
    Strings(Vec<&'a str>),
    Arrays(Vec<Array<'a>>),
}

impl<'a> Array<'a> {
    pub fn elem_type(&self) -> ValueType {
        match self {
            Array::Numbers { ty, .. } => *ty,
            Array::Strings(_) => ValueType::String,
            Array::Arrays(_) => ValueType::Array,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Array::Numbers { ty, bytes } => bytes.len() / ty.size().unwrap_or(1) as usize,
            Array::Strings(v) => v.len(),
            Array::Arrays(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element i of a numeric array.
    pub fn number(&self, i: usize) -> Option<Value<'a>> {
        let Array::Numbers { ty, bytes } = self else { return None };
        let size = ty.size()? as usize;
        number(*ty, bytes.get(i.checked_mul(size)?..i.checked_add(1)?.checked_mul(size)?)?)
    }

    /// The elements of a numeric array of integers (any integer type) as i64; None for other arrays
    /// or a u64 element past i64::MAX.
    pub fn to_i64s(&self) -> Option<Vec<i64>> {
        (0..self.len()).map(|i| self.number(i)?.as_i64()).collect()
    }

    /// The strings of an array of strings.
    pub fn strings(&self) -> Option<&[&'a str]> {
        match self {
            Array::Strings(v) => Some(v),
            _ => None,
        }
    }
}

/// A fixed-size value from exactly its bytes.
fn number<'a>(ty: ValueType, b: &[u8]) -> Option<Value<'a>> {
    let a2 = |b: &[u8]| [b[0], b[1]];
    let a4 = |b: &[u8]| [b[0], b[1], b[2], b[3]];
    let a8 = |b: &[u8]| [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
    if Some(b.len() as u64) != ty.size() {
        return None;
    }
    Some(match ty {
        ValueType::U8 => Value::U8(b[0]),
        ValueType::I8 => Value::I8(b[0] as i8),
        ValueType::Bool => Value::Bool(b[0] != 0),
        ValueType::U16 => Value::U16(u16::from_le_bytes(a2(b))),
        ValueType::I16 => Value::I16(i16::from_le_bytes(a2(b))),
        ValueType::U32 => Value::U32(u32::from_le_bytes(a4(b))),
        ValueType::I32 => Value::I32(i32::from_le_bytes(a4(b))),
        ValueType::F32 => Value::F32(f32::from_le_bytes(a4(b))),
        ValueType::U64 => Value::U64(u64::from_le_bytes(a8(b))),
        ValueType::I64 => Value::I64(i64::from_le_bytes(a8(b))),
        ValueType::F64 => Value::F64(f64::from_le_bytes(a8(b))),
        ValueType::String | ValueType::Array => return None,
    })
}

impl<'a> Value<'a> {
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F32(_) => ValueType::F32,
            Value::F64(_) => ValueType::F64,
            Value::Bool(_) => ValueType::Bool,
            Value::String(_) => ValueType::String,
            Value::Array(_) => ValueType::Array,
        }
    }

    /// Any integer type as i64 (None for other types, or a u64 past i64::MAX).
    pub fn as_i64(&self) -> Option<i64> {
        Some(match *self {
            Value::U8(v) => v as i64,
            Value::I8(v) => v as i64,
            Value::U16(v) => v as i64,
            Value::I16(v) => v as i64,
            Value::U32(v) => v as i64,
            Value::I32(v) => v as i64,
            Value::U64(v) => i64::try_from(v).ok()?,
            Value::I64(v) => v,
            _ => return None,
        })
    }

    /// f32 or f64 as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v as f64),
            Value::F64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Array<'a>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// "u32 7", "string `llama`", "array of 3 string", for messages (strings cut at 40 characters).
    pub fn describe(&self) -> String {
        match self {
            Value::String(s) if s.chars().count() > 40 => format!("string `{}…`", s.chars().take(40).collect::<String>()),
            Value::String(s) => format!("string `{s}`"),
            Value::Array(a) => format!("array of {} {}", a.len(), a.elem_type().name()),
            Value::Bool(b) => format!("bool {b}"),
            v => {
                let number = match *v {
                    Value::F32(x) => x.to_string(),
                    Value::F64(x) => x.to_string(),
                    _ => v.as_i64().map_or_else(|| format!("{v:?}"), |i| i.to_string()),
                };
                format!("{} {number}", v.value_type().name())
            }
        }
    }
}

/// Reads the value type and value of metadata entry `key`.
pub(crate) fn read_value<'a>(r: &mut Cursor<'a>, key: &str) -> Result<Value<'a>, GgufError> {
    let inside = || format!("the value of metadata key `{key}`");
    let id = r.u32(&inside)?;
    let ty = ValueType::from_id(id)
        .ok_or_else(|| GgufError::Malformed(format!("metadata key `{key}` has value type {id}, which is not a GGUF type (0..=12)")))?;
    read_typed(r, ty, key, 0)
}

fn read_typed<'a>(r: &mut Cursor<'a>, ty: ValueType, key: &str, depth: u32) -> Result<Value<'a>, GgufError> {
    let inside = || format!("the value of metadata key `{key}`");
    match ty {
        ValueType::String => r.string(&inside).map(Value::String),
        ValueType::Array => read_array(r, key, depth).map(Value::Array),
        _ => {
            let size = ty.size().unwrap_or(1);
            let b = r.take(size, &inside)?;
            check_bools(ty, b, key)?;
            number(ty, b).ok_or_else(|| GgufError::Malformed(format!("metadata key `{key}`: unreadable {}", ty.name())))
        }
    }
}

fn read_array<'a>(r: &mut Cursor<'a>, key: &str, depth: u32) -> Result<Array<'a>, GgufError> {
    let inside = || format!("the array of metadata key `{key}`");
    if depth >= MAX_ARRAY_DEPTH {
        return Err(GgufError::Malformed(format!("metadata key `{key}` nests arrays deeper than {MAX_ARRAY_DEPTH}")));
    }
    let id = r.u32(&inside)?;
    let ty = ValueType::from_id(id)
        .ok_or_else(|| GgufError::Malformed(format!("metadata key `{key}` is an array of type {id}, which is not a GGUF type (0..=12)")))?;
    let count = r.u64(&inside)?;
    let what = format!("elements of the array `{key}`");
    match ty {
        ValueType::String => {
            r.check_count(count, 8, &what)?;
            let mut v = Vec::with_capacity(count as usize);
            for i in 0..count {
                v.push(r.string(&|| format!("string {i} of the array `{key}`"))?);
            }
            Ok(Array::Strings(v))
        }
        ValueType::Array => {
            r.check_count(count, 12, &what)?;
            let mut v = Vec::with_capacity(count as usize);
            for _ in 0..count {
                v.push(read_array(r, key, depth + 1)?);
            }
            Ok(Array::Arrays(v))
        }
        _ => {
            let size = ty.size().unwrap_or(1);
            let total = count.checked_mul(size).ok_or_else(|| {
                GgufError::Absurd(format!("the array `{key}` declares {count} {} elements, more than 2⁶⁴ bytes", ty.name()))
            })?;
            let bytes = r.take(total, &inside)?;
            check_bools(ty, bytes, key)?;
            Ok(Array::Numbers { ty, bytes })
        }
    }
}

/// GGUF's bools are one byte, 0 or 1; anything else is not a bool.
fn check_bools(ty: ValueType, bytes: &[u8], key: &str) -> Result<(), GgufError> {
    match bytes.iter().position(|&b| b > 1) {
        Some(i) if ty == ValueType::Bool => {
            Err(GgufError::Malformed(format!("metadata key `{key}`: a bool must be 0 or 1, found {} (element {i})", bytes[i])))
        }
        _ => Ok(()),
    }
}
