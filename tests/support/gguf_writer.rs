//! A tiny GGUF writer for the tests, written from the GGUF specification (ggml's docs/gguf.md), not
//! from src/gguf.rs: little-endian; magic, version u32, tensor count u64, metadata count u64; each
//! metadata entry a string key, a u32 value type and the value (strings are a u64 length and bytes,
//! arrays a u32 element type, a u64 count and the elements); each tensor entry a string name, u32
//! n_dims, n_dims u64 dimensions (innermost first), u32 ggml type, u64 offset; then padding to the
//! alignment and the data, each tensor at its offset from the start of the data.

use super::{block, f16_of_int, random_f16, random_q, Rng};

/// A metadata value.
#[derive(Clone, Debug)]
pub enum V {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    Str(String),
    /// An array of values of the given element type.
    Arr(u32, Vec<V>),
    U64(u64),
    I64(i64),
    F64(f64),
    /// Any type id followed by raw bytes (for malformed files).
    Raw(u32, Vec<u8>),
}

impl V {
    pub fn type_id(&self) -> u32 {
        match self {
            V::U8(_) => 0,
            V::I8(_) => 1,
            V::U16(_) => 2,
            V::I16(_) => 3,
            V::U32(_) => 4,
            V::I32(_) => 5,
            V::F32(_) => 6,
            V::Bool(_) => 7,
            V::Str(_) => 8,
            V::Arr(..) => 9,
            V::U64(_) => 10,
            V::I64(_) => 11,
            V::F64(_) => 12,
            V::Raw(t, _) => *t,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            V::U8(v) => out.push(*v),
            V::I8(v) => out.push(*v as u8),
            V::U16(v) => out.extend(v.to_le_bytes()),
            V::I16(v) => out.extend(v.to_le_bytes()),
            V::U32(v) => out.extend(v.to_le_bytes()),
            V::I32(v) => out.extend(v.to_le_bytes()),
            V::F32(v) => out.extend(v.to_le_bytes()),
            V::Bool(v) => out.push(*v as u8),
            V::Str(s) => string(out, s),
            V::Arr(t, items) => {
                out.extend(t.to_le_bytes());
                out.extend((items.len() as u64).to_le_bytes());
                items.iter().for_each(|v| v.write(out));
            }
            V::U64(v) => out.extend(v.to_le_bytes()),
            V::I64(v) => out.extend(v.to_le_bytes()),
            V::F64(v) => out.extend(v.to_le_bytes()),
            V::Raw(_, bytes) => out.extend(bytes),
        }
    }
}

pub fn s(v: &str) -> V {
    V::Str(v.to_string())
}

pub fn strs(items: &[&str]) -> V {
    V::Arr(8, items.iter().map(|v| s(v)).collect())
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// One tensor: name, dimensions (innermost first), ggml type id, data, and optionally an offset
/// that overrides the packed one.
#[derive(Clone, Debug)]
pub struct T {
    pub name: String,
    pub dims: Vec<u64>,
    pub ty: u32,
    pub data: Vec<u8>,
    pub offset: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Writer {
    pub version: u32,
    pub kvs: Vec<(String, V)>,
    pub tensors: Vec<T>,
    /// The padding the writer applies (it does not write `general.alignment` by itself).
    pub alignment: u64,
}

impl Writer {
    pub fn new() -> Writer {
        Writer { version: 3, kvs: Vec::new(), tensors: Vec::new(), alignment: 32 }
    }

    pub fn kv(&mut self, key: &str, v: V) -> &mut Self {
        self.kvs.retain(|(k, _)| k != key);
        self.kvs.push((key.to_string(), v));
        self
    }

    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.kvs.retain(|(k, _)| k != key);
        self
    }

    pub fn tensor(&mut self, name: &str, dims: &[u64], ty: u32, data: Vec<u8>) -> &mut Self {
        self.tensors.push(T { name: name.to_string(), dims: dims.to_vec(), ty, data, offset: None });
        self
    }

    pub fn find(&mut self, name: &str) -> &mut T {
        self.tensors.iter_mut().find(|t| t.name == name).unwrap_or_else(|| panic!("no tensor {name}"))
    }

    pub fn bytes(&self) -> Vec<u8> {
        let pad = |len: u64| len.div_ceil(self.alignment).saturating_mul(self.alignment);
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.kvs.len() as u64).to_le_bytes());
        for (k, v) in &self.kvs {
            string(&mut out, k);
            out.extend(v.type_id().to_le_bytes());
            v.write(&mut out);
        }
        let mut offsets = Vec::new();
        let mut next = 0u64;
        for t in &self.tensors {
            string(&mut out, &t.name);
            out.extend((t.dims.len() as u32).to_le_bytes());
            t.dims.iter().for_each(|d| out.extend(d.to_le_bytes()));
            out.extend(t.ty.to_le_bytes());
            let offset = t.offset.unwrap_or(next);
            out.extend(offset.to_le_bytes());
            offsets.push(offset);
            next = pad(offset.saturating_add(t.data.len() as u64)).max(next);
        }
        let data_start = pad(out.len() as u64) as usize;
        out.resize(data_start, 0);
        for (t, &offset) in self.tensors.iter().zip(&offsets) {
            // an offset past 16 MB is a test of data beyond the end of the file: nothing to write
            if offset > 1 << 24 {
                continue;
            }
            let at = data_start + offset as usize;
            if out.len() < at + t.data.len() {
                out.resize(at + t.data.len(), 0);
            }
            out[at..at + t.data.len()].copy_from_slice(&t.data);
        }
        out
    }
}

/// ggml type ids.
pub const F32: u32 = 0;
pub const F16: u32 = 1;
pub const Q4_0: u32 = 2;
pub const Q4_1: u32 = 3;
pub const Q8_0: u32 = 8;

/// Random data for a tensor of `elements` elements of ggml type `ty` (values finite and moderate).
pub fn random_data(rng: &mut Rng, ty: u32, elements: usize) -> Vec<u8> {
    let blocks = elements / 32;
    let quant = |name: &str, rng: &mut Rng| -> Vec<u8> {
        (0..blocks).flat_map(|_| block(name, random_f16(rng, 8, 12, true), random_f16(rng, 8, 12, true), &random_q(rng, name))).collect()
    };
    match ty {
        F32 => (0..elements).flat_map(|_| rng.uniform(0.5, 1.5).to_le_bytes()).collect(),
        F16 => (0..elements).flat_map(|_| f16_of_int(rng.int(1, 3) as i32).to_le_bytes()).collect(),
        Q4_0 => quant("Q4_0", rng),
        Q4_1 => quant("Q4_1", rng),
        Q8_0 => quant("Q8_0", rng),
        _ => panic!("no generator for type {ty}"),
    }
}

/// GPT-2's byte-level alphabet: bytes `!..~`, `¡..¬`, `®..ÿ` stand for themselves, the other 68
/// bytes, in order, for U+0100 onwards (so the space is `Ġ`). Returns the char of each byte.
pub fn byte_level_alphabet() -> Vec<char> {
    let printable = |b: u32| (0x21..=0x7e).contains(&b) || (0xa1..=0xac).contains(&b) || (0xae..=0xff).contains(&b);
    let mut next = 0x100;
    (0..256u32)
        .map(|b| {
            if printable(b) {
                char::from_u32(b).expect("a char")
            } else {
                next += 1;
                char::from_u32(next - 1).expect("a char")
            }
        })
        .collect()
}

/// The tiny Llama's tokens: 3 control tokens, one token per byte (in byte order), then the tokens
/// its merges make.
pub fn tiny_llama_tokens() -> Vec<String> {
    let mut tokens: Vec<String> = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"].map(String::from).to_vec();
    tokens.extend(byte_level_alphabet().into_iter().map(String::from));
    tokens.extend(["ab", "Ġa", "abc", "Ġab", "de"].map(String::from));
    tokens
}

/// Tokens in the tiny Llama's vocabulary.
pub const TINY_VOCAB: u64 = 3 + 256 + 5;

/// The tiny Llama: 2 layers, d_model 32, 2 query heads of 16 sharing 1 key/value head, SwiGLU MLP of
/// 64, vocabulary 264 (3 control tokens, 256 bytes, 5 merges), tied output; Q4_1 matrices except
/// layer 1's ffn_down (Q4_0), a Q8_0 embedding, F32 norms except layer 1's attn_norm (F16); a
/// gpt2/smollm tokenizer whose merges build its tokens.
pub fn tiny_llama(seed: u64) -> Writer {
    let mut rng = Rng(seed);
    let (d, f, kv, vocab) = (32u64, 64u64, 16u64, TINY_VOCAB);
    let mut w = Writer::new();
    w.kv("general.architecture", s("llama"))
        .kv("general.name", s("tiny llama for tests"))
        .kv("general.alignment", V::U32(32))
        .kv("llama.block_count", V::U32(2))
        .kv("llama.context_length", V::U32(64))
        .kv("llama.embedding_length", V::U32(d as u32))
        .kv("llama.feed_forward_length", V::U32(f as u32))
        .kv("llama.attention.head_count", V::U32(2))
        .kv("llama.attention.head_count_kv", V::U32(1))
        .kv("llama.rope.freq_base", V::F32(100000.0))
        .kv("llama.attention.layer_norm_rms_epsilon", V::F32(1e-5))
        .kv("llama.vocab_size", V::U32(vocab as u32))
        .kv("llama.rope.dimension_count", V::U32(16))
        .kv("tokenizer.ggml.model", s("gpt2"))
        .kv("tokenizer.ggml.pre", s("smollm"));
    let tokens = tiny_llama_tokens();
    w.kv("tokenizer.ggml.tokens", strs(&tokens.iter().map(String::as_str).collect::<Vec<_>>()))
        .kv("tokenizer.ggml.token_type", V::Arr(5, (0..vocab).map(|i| V::I32(if i < 3 { 3 } else { 1 })).collect()))
        .kv("tokenizer.ggml.merges", strs(&["a b", "Ġ a", "ab c", "Ġa b", "d e"]))
        .kv("tokenizer.ggml.bos_token_id", V::U32(1))
        .kv("tokenizer.ggml.eos_token_id", V::U32(2))
        .kv("tokenizer.ggml.add_bos_token", V::Bool(false));
    let mut add = |w: &mut Writer, name: &str, dims: &[u64], ty: u32| {
        let data = random_data(&mut rng, ty, dims.iter().product::<u64>() as usize);
        w.tensor(name, dims, ty, data);
    };
    add(&mut w, "token_embd.weight", &[d, vocab], Q8_0);
    for l in 0..2 {
        let p = format!("blk.{l}.");
        add(&mut w, &(p.clone() + "attn_norm.weight"), &[d], if l == 1 { F16 } else { F32 });
        add(&mut w, &(p.clone() + "attn_q.weight"), &[d, d], Q4_1);
        add(&mut w, &(p.clone() + "attn_k.weight"), &[d, kv], Q4_1);
        add(&mut w, &(p.clone() + "attn_v.weight"), &[d, kv], Q4_1);
        add(&mut w, &(p.clone() + "attn_output.weight"), &[d, d], Q4_1);
        add(&mut w, &(p.clone() + "ffn_norm.weight"), &[d], F32);
        add(&mut w, &(p.clone() + "ffn_gate.weight"), &[d, f], Q4_1);
        add(&mut w, &(p.clone() + "ffn_up.weight"), &[d, f], Q4_1);
        add(&mut w, &(p.clone() + "ffn_down.weight"), &[f, d], if l == 1 { Q4_0 } else { Q4_1 });
    }
    add(&mut w, "output_norm.weight", &[d], F32);
    w
}
