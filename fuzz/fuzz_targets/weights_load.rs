//! `weights::load` on arbitrary bytes (seeded with the fixture models): Ok or a readable Err, never a
//! panic, and whatever it accepts has a consistent configuration and only finite values.
#![no_main]

use attention_explorer::weights;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match weights::load(data) {
        Ok(w) => {
            let c = &w.config;
            assert_eq!(c.n_heads * c.d_head, c.d_model);
            assert_eq!(w.tok_emb.len(), c.vocab_size * c.d_model);
            assert!(w.tok_emb.iter().all(|v| v.is_finite()), "a non-finite embedding was accepted");
            assert_eq!(w.layers.len(), c.n_layers);
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an empty error message"),
    }
});
