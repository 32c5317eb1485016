//! `gguf::Gguf::parse` and `gguf::llama::load` on arbitrary bytes (seeded with the tiny Llama of
//! tests/fixtures/gguf/): Ok or a readable Err, never a panic; whatever parses has every tensor's data
//! inside the file, and whatever loads has a consistent configuration and dequantises every row.
#![no_main]

use attention_explorer::gguf::{self, llama};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match gguf::Gguf::parse(data) {
        Ok(g) => {
            for t in &g.tensors {
                assert!(t.offset >= g.data_offset && t.offset + t.data.len() <= data.len(), "tensor {} outside the file", t.name);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an empty error message"),
    }
    match llama::load(data) {
        Ok(f) => {
            let c = &f.config;
            assert_eq!(c.n_heads * c.d_head, c.d_model);
            assert_eq!(c.n_heads % c.n_kv_heads, 0);
            assert_eq!(f.tensors.layers.len(), c.n_layers);
            assert_eq!(f.tokenizer.tokens.len(), c.vocab_size);
            let e = &f.tensors.token_embd;
            for r in [0, c.vocab_size - 1] {
                let row = e.row_f32(r).expect("a row of the embedding");
                assert!(row.len() == c.d_model && row.iter().all(|v| v.is_finite()), "row {r} of the embedding");
            }
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an empty error message"),
    }
});
