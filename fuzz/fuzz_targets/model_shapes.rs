//! Valid weights files of arbitrary (small) shapes and arbitrary finite values, built from the fuzz
//! input: every model `weights::load` accepts must analyse any text without panicking, and its trace
//! must be well formed (rows of weights summing to 1, probabilities finite) or refused as an overflow
//! with a message, even when the values are extreme (±3e38, zero) or the shapes degenerate (one head,
//! d_head 1, context 1, no MLP). This target found NaN traces from huge finite weights (see
//! tests/regressions.rs).
#![no_main]

use std::sync::OnceLock;

use attention_explorer::model::{AnalyzeError, Config, Positions};
use attention_explorer::trace::Options;
use attention_explorer::{weights, Engine};
use libfuzzer_sys::fuzz_target;

const TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny/tokenizer.json");

fn tokenizer_vocab() -> usize {
    static V: OnceLock<usize> = OnceLock::new();
    *V.get_or_init(|| attention_explorer::tokenizer::Tokenizer::from_json(TOKENIZER).expect("fixture").vocab_size())
}

/// Reads bytes from the input, then zeros once it runs out.
struct Bytes<'a>(&'a [u8]);
impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
}

fn safetensors(config: &Config, fill: &mut dyn FnMut(&str, usize) -> f32) -> Vec<u8> {
    let mut header = String::from("{\"__metadata__\":{\"format\":\"attention-explorer/1\",\"name\":\"fuzz\",\"config\":");
    let cfg = serde_json_string(config);
    header.push_str(&format!("{cfg:?}")); // a JSON string holding the config JSON (Rust's Debug escaping is JSON-compatible here)
    header.push('}');
    let mut data = Vec::new();
    for (name, shape) in weights::required_tensors(config) {
        let n: usize = shape.iter().product();
        let begin = data.len();
        for i in 0..n {
            data.extend_from_slice(&fill(&name, i).to_le_bytes());
        }
        header.push_str(&format!(",\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape:?},\"data_offsets\":[{begin},{}]}}", data.len()));
    }
    header.push('}');
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

fn serde_json_string(c: &Config) -> String {
    format!(
        "{{\"vocab_size\":{},\"d_model\":{},\"n_layers\":{},\"n_heads\":{},\"d_head\":{},\"d_mlp\":{},\"context\":{},\"ln_eps\":{:e}}}",
        c.vocab_size, c.d_model, c.n_layers, c.n_heads, c.d_head, c.d_mlp, c.context, c.ln_eps
    )
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n_heads = 1 + usize::from(b.u8() % 4);
    let d_head = 1 + usize::from(b.u8() % 6);
    let config = Config {
        vocab_size: tokenizer_vocab() + usize::from(b.u8() % 8),
        d_model: n_heads * d_head,
        n_layers: 1 + usize::from(b.u8() % 3),
        n_heads,
        d_head,
        d_mlp: [0, 1, 3, 8][usize::from(b.u8() % 4)],
        context: 1 + usize::from(b.u8() % 12),
        ln_eps: [1e-5, 1e-12, 1.0, 1e30][usize::from(b.u8() % 4)],
        positions: Positions::Learned,
        bos_id: None,
    };
    let mode = b.u8();
    let seed = b.u8();
    let big = [1.0f32, 1e3, 1e18, 3e38][usize::from(mode % 4)];
    let text_len = usize::from(b.u8() % 48);
    let mut fill = |name: &str, i: usize| -> f32 {
        let h = (i as u32).wrapping_mul(2654435761).wrapping_add(u32::from(seed)).wrapping_add(name.len() as u32 * 40503);
        let unit = ((h >> 8) as f32 / (1u32 << 24) as f32) * 2.0 - 1.0; // in [-1, 1)
        match (mode >> 2) % 4 {
            0 => unit * big,
            1 => if name.ends_with("weight") { 1.0 } else { unit * big },
            2 => 0.0,
            _ => if i % 2 == 0 { big } else { -big },
        }
    };
    let file = safetensors(&config, &mut fill);
    let engine = match Engine::load(&file, TOKENIZER) {
        Ok(e) => e,
        // values so large that the forward pass overflows are refused, with a message that says so
        Err(e) if e.to_string().contains("32-bit floats") => return,
        Err(e) => panic!("a valid file built for {config:?} was refused: {e}"),
    };
    let text = String::from_utf8_lossy(b.0);
    let text: String = text.chars().take(text_len.max(1)).collect();
    let text = if text.is_empty() { "the cat sat on the mat".to_string() } else { text };
    let options = Options { neighbours: mode & 0x80 != 0, ..Options::default() };
    match engine.analyze(&text, &options) {
        Ok(t) => {
            let n = t.tokens.len();
            for layer in &t.layers {
                for h in &layer.heads {
                    for q in 0..n {
                        let row = h.weights.row(q);
                        let sum: f32 = row.iter().sum();
                        assert!(row.iter().all(|w| w.is_finite() && *w >= 0.0), "non-finite or negative weights {row:?} for {config:?}");
                        assert!((sum - 1.0).abs() < 1e-3, "a row of weights sums to {sum} for {config:?}");
                    }
                }
            }
            assert!(t.predict.probs.data.iter().all(|p| p.is_finite() && *p >= 0.0), "non-finite probabilities for {config:?}");
            let total: f32 = t.predict.probs.data.iter().sum();
            assert!((total - 1.0).abs() < 1e-3, "probabilities sum to {total} for {config:?}");
        }
        Err(AnalyzeError::Overflow(m)) => assert!(m.contains(" in "), "an overflow error that does not say where: {m}"),
        Err(e) => panic!("analysis of {text:?} refused: {e}"),
    }
});
