//! The GGUF reader (src/gguf.rs) and the Llama checks (src/gguf/llama.rs) on files the tests build
//! with their own writer (tests/support/gguf_writer.rs): every value type, every supported tensor
//! type, and every way a file can be wrong, each with the message it must give; every prefix of a
//! valid file is refused without a panic. Natively, also SmolLM2-135M when the file is present
//! (`./build.sh setup` puts it in models/; or set SMOLLM2_GGUF to its path).

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod support;

use attention_explorer::gguf::{llama, Array, Gguf, TensorType, Value, ValueType};
use attention_explorer::kernels::quant::QuantFormat;
use support::gguf_writer::{s, strs, tiny_llama, Writer, T, V};

/// The seed of the tiny Llama in tests/fixtures/gguf/tiny-llama.gguf.
const FIXTURE_SEED: u64 = 20_250_207;

fn parse_err(bytes: &[u8]) -> String {
    match Gguf::parse(bytes) {
        Ok(_) => panic!("expected an error, the file parsed"),
        Err(e) => e.to_string(),
    }
}

fn load_err(w: &Writer) -> String {
    match llama::load(&w.bytes()) {
        Ok(_) => panic!("expected an error, the model loaded"),
        Err(e) => e.to_string(),
    }
}

fn assert_msg(got: String, want: &str) {
    assert!(got.contains(want), "expected an error containing {want:?}, found {got:?}");
}

/// Every value type, arrays of strings, numbers and arrays, in v3 and v2.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn reads_every_value_type() {
    for version in [2, 3] {
        let mut w = Writer::new();
        w.version = version;
        w.kv("u8", V::U8(200)).kv("i8", V::I8(-100)).kv("u16", V::U16(60000)).kv("i16", V::I16(-30000));
        w.kv("u32", V::U32(4_000_000_000)).kv("i32", V::I32(-2_000_000_000)).kv("f32", V::F32(0.25)).kv("bool", V::Bool(true));
        w.kv("string", s("héllo")).kv("u64", V::U64(u64::MAX)).kv("i64", V::I64(i64::MIN)).kv("f64", V::F64(-1e300));
        w.kv("strings", strs(&["a", "", "Ġthe"])).kv("bytes", V::Arr(0, vec![V::U8(1), V::U8(2)]));
        w.kv("nested", V::Arr(9, vec![V::Arr(5, vec![V::I32(-1), V::I32(7)]), V::Arr(8, vec![s("x")])]));
        w.kv("empty", V::Arr(6, vec![]));
        let bytes = w.bytes();
        let g = Gguf::parse(&bytes).expect("parses");
        assert_eq!(g.version, version);
        assert_eq!(g.tensors.len(), 0);
        let get = |k: &str| g.get(k).unwrap_or_else(|| panic!("no {k}")).clone();
        assert_eq!(get("u8"), Value::U8(200));
        assert_eq!(get("i8"), Value::I8(-100));
        assert_eq!(get("u16"), Value::U16(60000));
        assert_eq!(get("i16"), Value::I16(-30000));
        assert_eq!(get("u32").as_i64(), Some(4_000_000_000));
        assert_eq!(get("i32"), Value::I32(-2_000_000_000));
        assert_eq!(get("f32").as_f64(), Some(0.25));
        assert_eq!(get("bool").as_bool(), Some(true));
        assert_eq!(get("string").as_str(), Some("héllo"));
        assert_eq!(get("u64"), Value::U64(u64::MAX));
        assert_eq!(get("u64").as_i64(), None, "u64::MAX is no i64");
        assert_eq!(get("i64").as_i64(), Some(i64::MIN));
        assert_eq!(get("f64").as_f64(), Some(-1e300));
        assert_eq!(get("strings").as_array().and_then(Array::strings), Some(&["a", "", "Ġthe"][..]));
        let bytes_array = get("bytes");
        let a = bytes_array.as_array().expect("array");
        assert_eq!((a.elem_type(), a.len(), a.to_i64s()), (ValueType::U8, 2, Some(vec![1, 2])));
        assert_eq!((a.number(1), a.number(2), a.number(usize::MAX)), (Some(Value::U8(2)), None, None));
        let Value::Array(Array::Arrays(nested)) = get("nested") else { panic!("nested is an array of arrays") };
        assert_eq!(nested[0].to_i64s(), Some(vec![-1, 7]));
        assert_eq!(nested[1].strings(), Some(&["x"][..]));
        assert!(get("empty").as_array().is_some_and(|a| a.is_empty() && a.elem_type() == ValueType::F32));
        assert_eq!(get("nested").describe(), "array of 2 array");
        assert_eq!(get("i16").describe(), "i16 -30000");
    }
}

/// The tiny Llama loads: config, tensors of every supported type, tied output, tokenizer data.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn loads_the_tiny_llama() {
    let bytes = tiny_llama(1).bytes();
    let f = llama::load(&bytes).expect("the tiny llama loads");
    let c = &f.config;
    assert_eq!(
        (c.n_layers, c.d_model, c.n_heads, c.n_kv_heads, c.d_head, c.d_mlp, c.vocab_size, c.context),
        (2, 32, 2, 1, 16, 64, 264, 64)
    );
    assert_eq!((c.rope_base, c.rms_eps), (100000.0, 1e-5));
    assert_eq!(f.gguf.alignment, 32);
    assert_eq!(f.gguf.data_offset % 32, 0);
    let t = &f.tensors;
    assert!(t.output.is_none(), "no output.weight: tied to token_embd");
    assert_eq!(t.token_embd.ty, TensorType::Quant(QuantFormat::Q8_0));
    assert_eq!((t.token_embd.cols(), t.token_embd.rows()), (32, 264));
    assert_eq!(t.layers[1].attn_norm.ty, TensorType::F16);
    assert_eq!(t.layers[1].ffn_down.ty, TensorType::Quant(QuantFormat::Q4_0));
    assert_eq!(t.layers[0].attn_k.shape, vec![32, 16]);
    // the embedding row as the test's own reference decodes it
    let row = &t.token_embd.data[3 * 34..4 * 34];
    let want: Vec<f32> = support::block_values("Q8_0", row).iter().map(|&v| v as f32).collect();
    assert_eq!(t.token_embd.row_f32(3), Some(want));
    assert_eq!(t.token_embd.row_f32(264), None);
    assert_eq!(t.token_embd.row_f32(usize::MAX), None, "the last usize is no row (and no overflow)");
    let norm = t.layers[1].attn_norm.to_f32();
    assert_eq!(norm.len(), 32);
    assert!(norm.iter().all(|v| [1.0, 2.0, 3.0].contains(v)), "F16 norm values {norm:?}");
    let k = &f.tokenizer;
    assert_eq!((k.pre, k.tokens.len(), k.bos, k.eos, k.add_bos), ("smollm", 264, Some(1), Some(2), Some(false)));
    assert_eq!(k.merges, vec![("a", "b"), ("Ġ", "a"), ("ab", "c"), ("Ġa", "b"), ("d", "e")]);
    assert_eq!(k.ids.get("Ġab"), Some(&262));
    assert_eq!(k.token_types.as_ref().map(|t| t[..4].to_vec()), Some(vec![3, 3, 3, 1]));

    let mut untied = tiny_llama(1);
    let data = untied.find("token_embd.weight").data.clone();
    untied.tensor("output.weight", &[32, 264], 8, data);
    let bytes = untied.bytes();
    let f = llama::load(&bytes).expect("with output.weight");
    assert_eq!(f.tensors.output.as_ref().map(|o| o.name), Some("output.weight"));
}

/// A larger alignment is honoured, in the data offset and every tensor offset.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn honours_the_alignment() {
    let mut w = tiny_llama(2);
    w.alignment = 256;
    w.kv("general.alignment", V::U32(256));
    let bytes = w.bytes();
    let g = Gguf::parse(&bytes).expect("parses");
    assert_eq!(g.alignment, 256);
    assert!(g.tensors.iter().all(|t| (t.offset - g.data_offset).is_multiple_of(256) && g.data_offset.is_multiple_of(256)));
    llama::load(&bytes).expect("loads");
    w.kv("general.alignment", V::U32(48));
    assert_msg(parse_err(&w.bytes()), "general.alignment must be a u32 power of two, found u32 48");
    w.kv("general.alignment", V::U64(256));
    assert_msg(parse_err(&w.bytes()), "general.alignment must be a u32 power of two, found u64 256");
    w.kv("general.alignment", V::U32(0));
    assert_msg(parse_err(&w.bytes()), "found u32 0");
}

/// Every prefix of a valid file is refused, none panics, and a cut inside tensor data names it.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_truncation_is_refused() {
    let bytes = tiny_llama(3).bytes();
    let full = Gguf::parse(&bytes).expect("parses");
    let last = full.tensors.iter().max_by_key(|t| t.offset).expect("tensors");
    for len in 0..bytes.len() {
        let e = Gguf::parse(&bytes[..len]).expect_err("a prefix parsed");
        assert!(!e.to_string().is_empty());
        if len >= full.data_offset && len < last.offset + last.data.len() && len > last.offset {
            assert_msg(e.to_string(), &format!("file ends at byte {len} inside tensor {} ({} ", last.name, last.ty.name()));
        }
    }
    assert_msg(parse_err(&bytes[..20]), "file ends at byte 20 inside the header, which needs 24 bytes");
    assert_msg(parse_err(&bytes[..30]), "absurd sizes: 21 metadata entries declared, but the 6 bytes left in the file hold at most 0");
    assert_msg(parse_err(&bytes[..300]), "file ends at byte 300 inside the ");
    assert_msg(parse_err(&bytes[..5400]), "file ends at byte 5400 inside the tensor table entry of blk.");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn refuses_bad_headers() {
    assert_msg(parse_err(b""), "expected magic GGUF (47 47 55 46), found  (\"\"): the file has only 0 bytes");
    assert_msg(parse_err(b"GGU"), "the file has only 3 bytes");
    let mut bytes = tiny_llama(4).bytes();
    bytes[..4].copy_from_slice(b"GGML");
    assert_msg(parse_err(&bytes), "expected magic GGUF (47 47 55 46), found 47 47 4d 4c (\"GGML\")");
    let mut bytes = tiny_llama(4).bytes();
    bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
    assert_msg(parse_err(&bytes), "GGUF version 1 is not supported (2 and 3 are)");
    bytes[4..8].copy_from_slice(&3u32.to_be_bytes());
    assert_msg(parse_err(&bytes), "GGUF version 50331648 is not supported (2 and 3 are); this looks like a big-endian file");
    let mut bytes = tiny_llama(4).bytes();
    bytes[8..16].copy_from_slice(&(1u64 << 60).to_le_bytes());
    assert_msg(parse_err(&bytes), "absurd sizes: 1152921504606846976 tensors declared, but the ");
    let mut bytes = tiny_llama(4).bytes();
    bytes[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_msg(parse_err(&bytes), "absurd sizes: 18446744073709551615 metadata entries declared");
}

/// Malformed metadata: unknown types, huge lengths, bad bools and UTF-8, duplicates, deep nesting.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn refuses_bad_metadata() {
    let one = |v: V| {
        let mut w = Writer::new();
        w.kv("k", v);
        w.bytes()
    };
    assert_msg(parse_err(&one(V::Raw(13, vec![0; 8]))), "metadata key `k` has value type 13, which is not a GGUF type (0..=12)");
    assert_msg(parse_err(&one(V::Raw(9, [99u32.to_le_bytes(), [0; 4]].concat()))), "metadata key `k` is an array of type 99");
    assert_msg(parse_err(&one(V::Raw(7, vec![2]))), "metadata key `k`: a bool must be 0 or 1, found 2 (element 0)");
    assert_msg(parse_err(&one(V::Arr(7, vec![V::Bool(true), V::U8(5)]))), "a bool must be 0 or 1, found 5 (element 1)");
    assert_msg(
        parse_err(&one(V::Raw(8, u64::MAX.to_le_bytes().to_vec()))),
        "file ends at byte 64 inside the value of metadata key `k`, which needs more than 2⁶⁴ bytes",
    );
    assert_msg(
        parse_err(&one(V::Raw(8, [2u64.to_le_bytes().to_vec(), vec![0xff, 0xfe]].concat()))),
        "the value of metadata key `k` is not UTF-8",
    );
    let huge_array = |ty: u32, count: u64| V::Raw(9, [ty.to_le_bytes().to_vec(), count.to_le_bytes().to_vec()].concat());
    assert_msg(parse_err(&one(huge_array(8, 1 << 40))), "absurd sizes: 1099511627776 elements of the array `k` declared");
    assert_msg(parse_err(&one(huge_array(10, 1 << 62))), "absurd sizes: the array `k` declares 4611686018427387904 u64 elements");
    assert_msg(
        parse_err(&one(huge_array(4, 1 << 40))),
        "file ends at byte 64 inside the array of metadata key `k`, which needs 4398046511153 bytes",
    );
    let nest = |depth: usize| (0..depth).fold(V::U8(1), |v, _| V::Arr(v.type_id(), vec![v]));
    assert!(Gguf::parse(&one(nest(4))).is_ok(), "four levels of arrays are fine");
    assert_msg(parse_err(&one(nest(5))), "metadata key `k` nests arrays deeper than 4");
    let mut w = Writer::new();
    w.kvs.push(("k".into(), V::U8(1)));
    w.kvs.push(("k".into(), V::U8(2)));
    assert_msg(parse_err(&w.bytes()), "metadata key `k` appears twice");
    let mut bytes = one(V::U8(1));
    bytes[32] = 0xff; // the key "k"
    assert_msg(parse_err(&bytes), "the key of metadata entry 0 is not UTF-8: invalid byte at file offset 32");
}

/// Malformed tensor tables: unsupported types, shapes, offsets, overlaps, data past the end.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn refuses_bad_tensor_tables() {
    let with = |f: &dyn Fn(&mut Writer)| {
        let mut w = tiny_llama(5);
        f(&mut w);
        parse_err(&w.bytes())
    };
    assert_msg(
        with(&|w| w.find("blk.0.attn_q.weight").ty = 13),
        "tensor type Q5_K (13) of blk.0.attn_q.weight is not supported (F32, F16, Q8_0, Q4_0, Q4_1 are)",
    );
    assert_msg(with(&|w| w.find("blk.0.attn_q.weight").ty = 30), "tensor type BF16 (30) of blk.0.attn_q.weight");
    assert_msg(with(&|w| w.find("output_norm.weight").ty = 99), "tensor type 99 of output_norm.weight is not a known ggml type");
    assert_msg(
        with(&|w| w.find("output_norm.weight").dims = vec![1; 5]),
        "tensor output_norm.weight has 5 dimensions (at most 4 are allowed)",
    );
    assert_msg(
        with(&|w| w.find("blk.0.attn_q.weight").dims = vec![32, 1 << 62, 1 << 10]),
        "absurd sizes: tensor blk.0.attn_q.weight has shape [32, 4611686018427387904, 1024], whose element count does not fit",
    );
    assert_msg(
        with(&|w| w.find("blk.0.attn_q.weight").dims = vec![33, 32]),
        "tensor blk.0.attn_q.weight (Q4_1) has rows of 33 elements, which is not a whole number of 32-element blocks",
    );
    assert_msg(
        with(&|w| w.find("output_norm.weight").offset = Some(16)),
        "tensor output_norm.weight starts at data offset 16, which is not a multiple of the alignment 32",
    );
    assert_msg(with(&|w| w.find("output_norm.weight").offset = Some(0)), "overlaps that of tensor token_embd.weight (bytes ");
    assert_msg(with(&|w| w.find("output_norm.weight").offset = Some(1 << 40)), "inside tensor output_norm.weight (F32 [32], bytes ");
    assert_msg(
        with(&|w| w.find("output_norm.weight").offset = Some(u64::MAX - 31)),
        "absurd sizes: tensor output_norm.weight at data offset",
    );
    assert_msg(
        with(&|w| w.find("output_norm.weight").name = "token_embd.weight".into()),
        "tensor token_embd.weight appears twice in the tensor table",
    );
    // an empty tensor may sit anywhere (here at offset 0) and overlaps nothing
    let mut w = Writer::new();
    w.tensors.push(T { name: "empty".into(), dims: vec![0, 4], ty: 3, data: vec![], offset: Some(0) });
    w.tensors.push(T { name: "full".into(), dims: vec![2], ty: 0, data: vec![0; 8], offset: Some(0) });
    let bytes = w.bytes();
    let g = Gguf::parse(&bytes).expect("an empty tensor");
    assert_eq!((g.tensors[0].rows(), g.tensors[0].to_f32().len()), (4, 0));
}

/// The Llama checks: architecture, dimensions, heads, tensors, values, tokenizer.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn refuses_what_is_not_a_usable_llama() {
    let with = |f: &dyn Fn(&mut Writer)| {
        let mut w = tiny_llama(6);
        f(&mut w);
        load_err(&w)
    };
    assert_msg(
        with(&|w| {
            w.kv("general.architecture", s("phi3"));
        }),
        "architecture `phi3` is not supported (llama is)",
    );
    assert_msg(
        with(&|w| {
            w.remove("general.architecture");
        }),
        "general.architecture is missing (llama is supported)",
    );
    assert_msg(
        with(&|w| {
            w.remove("llama.block_count");
        }),
        "llama.block_count is missing: a llama model needs it",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.block_count", s("2"));
        }),
        "llama.block_count must be an integer, found string `2`",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.block_count", V::U32(0));
        }),
        "llama.block_count = 0, expected 1..=512",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.embedding_length", V::U64(1 << 40));
        }),
        "absurd sizes: llama.embedding_length = 1099511627776, expected 1..=65536",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.attention.head_count", V::U32(3));
        }),
        "llama.embedding_length 32 is not a multiple of llama.attention.head_count 3",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.attention.head_count_kv", V::U32(4));
        }),
        "llama.attention.head_count 2 is not a multiple of llama.attention.head_count_kv 4",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.attention.head_count", V::Arr(4, vec![V::U32(2); 2]));
        }),
        "per-layer head counts",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.rope.dimension_count", V::U32(8));
        }),
        "llama.rope.dimension_count = 8 is not supported",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.attention.layer_norm_rms_epsilon", V::F32(f32::NAN));
        }),
        "llama.attention.layer_norm_rms_epsilon = NaN, expected a finite number > 0",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.rope.freq_base", V::F64(1e300));
        }),
        "llama.rope.freq_base = 1e300, expected a finite number > 0",
    );
    assert_msg(
        with(&|w| {
            w.kv("llama.vocab_size", V::U32(265));
        }),
        "tensor token_embd.weight has shape [32, 264], expected [32, 265]",
    );
    assert_msg(
        with(&|w| w.tensors.retain(|t| t.name != "blk.1.ffn_up.weight")),
        "tensor blk.1.ffn_up.weight is missing: a llama model needs it, of shape [32, 64]",
    );
    assert_msg(
        with(&|w| {
            let t = w.find("blk.0.attn_v.weight");
            (t.dims, t.data) = (vec![32, 32], vec![0; 32 * 20]);
        }),
        "tensor blk.0.attn_v.weight has shape [32, 32], expected [32, 16]",
    );
    assert_msg(
        with(&|w| {
            let t = w.find("output_norm.weight");
            (t.ty, t.data) = (8, vec![0; 34]);
        }),
        "tensor output_norm.weight is Q8_0, expected F32 or F16 for a norm's weights",
    );
    for extra in ["blk.2.attn_q.weight", "blk.01.attn_q.weight", "blk.0.attn_q.bias", "lm_head.weight"] {
        assert_msg(
            with(&|w| {
                w.tensor(extra, &[32], 0, vec![0; 128]);
            }),
            &format!("unexpected tensor {extra}: a llama model with 2 layers"),
        );
    }
    assert_msg(
        with(&|w| {
            w.tensor("rope_freqs.weight", &[8], 0, vec![0; 32]);
        }),
        "tensor rope_freqs.weight (RoPE frequency scaling) is not supported",
    );
    assert_msg(
        with(&|w| w.find("blk.0.ffn_norm.weight").data[8..12].copy_from_slice(&f32::NAN.to_le_bytes())),
        "tensor blk.0.ffn_norm.weight has element 2 = NaN: expected finite numbers",
    );
    assert_msg(
        with(&|w| w.find("blk.1.attn_q.weight").data[22..24].copy_from_slice(&0x7c00u16.to_le_bytes())),
        "tensor blk.1.attn_q.weight has block 1 scale m = inf",
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn refuses_unusable_tokenizer_data() {
    let with = |f: &dyn Fn(&mut Writer)| {
        let mut w = tiny_llama(7);
        f(&mut w);
        load_err(&w)
    };
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.model", s("llama"));
        }),
        "tokenizer model `llama` is not supported (gpt2, byte-level BPE, is)",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.pre", s("llama-bpe"));
        }),
        "pre-tokenizer `llama-bpe` is not supported (smollm is)",
    );
    assert_msg(
        with(&|w| {
            w.remove("tokenizer.ggml.pre");
        }),
        "tokenizer.ggml.pre is missing: the pre-tokenizer is unknown (smollm is supported)",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.tokens", strs(&["a"; 15]));
        }),
        "tokenizer.ggml.tokens has 15 tokens, but the model's vocabulary has 264",
    );
    let mut tokens = support::gguf_writer::tiny_llama_tokens();
    *tokens.last_mut().expect("tokens") = "a".into();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.tokens", strs(&tokens));
        }),
        "token 263 `a` is also token 100: tokens must be distinct",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.tokens", V::Arr(4, vec![V::U32(0); 16]));
        }),
        "tokenizer.ggml.tokens must be an array of strings, found an array of u32",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.merges", strs(&["a b", "e d"]));
        }),
        "merge 1 `e d`: `ed` is not in the vocabulary",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.merges", strs(&["a ✗"]));
        }),
        "merge 0 `a ✗`: `✗` is not in the vocabulary",
    );
    for bad in ["ab", "a  b", " a", "a b c"] {
        assert_msg(
            with(&|w| {
                w.kv("tokenizer.ggml.merges", strs(&[bad]));
            }),
            &format!("merge 0 `{bad}` is not two tokens separated by one space"),
        );
    }
    assert_msg(
        with(&|w| {
            w.remove("tokenizer.ggml.merges");
        }),
        "tokenizer.ggml.merges is missing: a gpt2 tokenizer needs it",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.token_type", V::Arr(5, vec![V::I32(7); 264]));
        }),
        "tokenizer.ggml.token_type of token 0 is 7, expected 0..=6",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.token_type", V::Arr(5, vec![V::I32(1); 3]));
        }),
        "tokenizer.ggml.token_type has 3 entries for 264 tokens",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.eos_token_id", V::U32(264));
        }),
        "tokenizer.ggml.eos_token_id = 264 is not a token id (the vocabulary has 264 tokens)",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.bos_token_id", V::I32(-1));
        }),
        "tokenizer.ggml.bos_token_id = -1 is not a token id",
    );
    assert_msg(
        with(&|w| {
            w.kv("tokenizer.ggml.add_bos_token", V::U8(1));
        }),
        "tokenizer.ggml.add_bos_token must be a bool, found u8 1",
    );
}

/// tests/fixtures/gguf/tiny-llama.gguf (the fuzz seed, and a fixture for the forward pass) is the
/// tiny Llama this writer builds; `UPDATE_GGUF_FIXTURE=1 cargo test --test gguf` rewrites it.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_fixture_is_the_tiny_llama() {
    const FIXTURE: &[u8] = include_bytes!("fixtures/gguf/tiny-llama.gguf");
    let bytes = tiny_llama(FIXTURE_SEED).bytes();
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("UPDATE_GGUF_FIXTURE").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gguf/tiny-llama.gguf"), &bytes).expect("write the fixture");
        return;
    }
    assert!(FIXTURE == bytes.as_slice(), "tests/fixtures/gguf/tiny-llama.gguf is stale: rerun with UPDATE_GGUF_FIXTURE=1");
    llama::load(FIXTURE).expect("the fixture loads");
}

/// SmolLM2-135M-Instruct (Q4_1), when present: what issue 10 says it is.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn reads_smollm2_when_present() {
    let path =
        std::env::var("SMOLLM2_GGUF").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/models/smollm2-135m.Q4_1.gguf").to_string());
    let Ok(bytes) = std::fs::read(&path) else {
        println!("skipped: no SmolLM2 GGUF at {path} (./build.sh setup fetches it; or set SMOLLM2_GGUF)");
        return;
    };
    let f = llama::load(&bytes).unwrap_or_else(|e: attention_explorer::gguf::GgufError| panic!("{path}: {e}"));
    let c = &f.config;
    assert_eq!(
        (c.n_layers, c.d_model, c.n_heads, c.n_kv_heads, c.d_head, c.d_mlp, c.vocab_size, c.context),
        (30, 576, 9, 3, 64, 1536, 49152, 8192)
    );
    assert_eq!((c.rope_base, c.rms_eps), (100000.0, 1e-5));
    let count = |ty: TensorType| f.gguf.tensors.iter().filter(|t| t.ty == ty).count();
    assert_eq!(f.gguf.tensors.len(), 272);
    assert_eq!(
        (count(TensorType::Quant(QuantFormat::Q4_1)), count(TensorType::F32), count(TensorType::Quant(QuantFormat::Q8_0))),
        (210, 61, 1)
    );
    assert!(f.tensors.output.is_none(), "SmolLM2 ties its output to the embedding");
    assert_eq!(f.tensors.token_embd.ty, TensorType::Quant(QuantFormat::Q8_0));
    let k = &f.tokenizer;
    assert_eq!((k.pre, k.tokens.len(), k.merges.len(), k.bos, k.eos), ("smollm", 49152, 48900, Some(1), Some(2)));
    assert_eq!((k.tokens[0], k.tokens[1], k.tokens[2]), ("<|endoftext|>", "<|im_start|>", "<|im_end|>"));
    assert_eq!(k.merges[0], ("Ġ", "t"));
    let paris = f.tokenizer.ids.get("ĠParis").copied().expect("ĠParis is a token");
    let row = f.tensors.token_embd.row_f32(paris as usize).expect("a row");
    assert!(row.len() == 576 && row.iter().all(|v| v.is_finite()) && row.iter().any(|&v| v != 0.0));
}
