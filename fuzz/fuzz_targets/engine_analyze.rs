//! The whole analysis on arbitrary text and options with the fixture model: Ok or an Err with a
//! message, never a panic; an Ok trace has consistent shapes, rows of weights that sum to 1 and
//! finite probabilities.
#![no_main]

use std::sync::OnceLock;

use attention_explorer::trace::Options;
use attention_explorer::Engine;
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        Engine::load(
            include_bytes!("../../tests/fixtures/tiny/model.safetensors"),
            include_bytes!("../../tests/fixtures/tiny/tokenizer.json"),
        )
        .expect("the fixture model loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let (head, rest) = data.split_at(data.len().min(4));
    let flag = |i: usize| head.get(i).copied().unwrap_or(0);
    let e = engine();
    let cfg = e.model.config().clone();
    let options = Options {
        scale: flag(0) & 1 == 0,
        causal: flag(0) & 2 == 0,
        disabled_heads: (0..cfg.n_layers * cfg.n_heads)
            .filter(|i| flag(1) >> (i % 8) & 1 == 1)
            .map(|i| (i / cfg.n_heads, i % cfg.n_heads))
            .collect(),
        temperature: [1.0, 0.05, 3.0, 1e-3, 100.0, 0.0, -1.0, f32::NAN][usize::from(flag(2) % 8)],
        predict_position: (flag(3) & 0x80 != 0).then(|| usize::from(flag(3) & 0x3f)),
        top_k: usize::from(flag(3) & 0x1f),
        neighbours: flag(0) & 4 != 0,
    };
    let text = String::from_utf8_lossy(rest);
    match e.analyze(&text, &options) {
        Ok(t) => {
            let n = t.tokens.len();
            assert!(n >= 1 && n <= cfg.context);
            assert_eq!(t.total_tokens, n + t.dropped_tokens);
            for layer in &t.layers {
                for h in &layer.heads {
                    assert_eq!((h.weights.rows, h.weights.cols), (n, n));
                    for q in 0..n {
                        let sum: f32 = h.weights.row(q).iter().sum();
                        assert!((sum - 1.0).abs() < 1e-3, "a row of weights sums to {sum}");
                    }
                }
            }
            assert!(t.predict.probs.data.iter().all(|p| p.is_finite() && *p >= 0.0));
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
});
