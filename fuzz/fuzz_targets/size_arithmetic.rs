//! Size arithmetic as wasm32 does it, over (model shape, text length). On wasm32 `usize` has 32 bits
//! and 65,536² wraps to 0; a fuzzer runs natively, where it would not, so this target recomputes every
//! size the engine computes for an analysis in u32 checked arithmetic: each matrix `budget::shapes`
//! lists (the trace and the temporaries), its element count and its byte count, which must stay below
//! 2³¹ (a wasm32 allocation larger than `isize::MAX` fails). It asserts that
//! - the engine never analyses a T for which any of those overflow 32 bits: such a T is beyond
//!   `budget::window`, so the analysis reads fewer tokens or the model is refused at load;
//! - every T up to the window fits the budget, and the one after it does not (the window is exact);
//! - for shapes small enough to build, the real analysis reads min(tokens, window) tokens, and its
//!   trace (counted matrix by matrix) has exactly the bytes `budget::cost` predicted.
#![no_main]

use attention_explorer::budget::{self, Shape};
use attention_explorer::model::{Config, Layer, Mlp, Norm, Positions, Weights};
use attention_explorer::trace::Options;
use attention_explorer::{weights, Engine};
use libfuzzer_sys::fuzz_target;

const TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny/tokenizer.json");
const TOKENIZER_VOCAB: usize = 360;

/// Reads numbers from the input, then zeros once it runs out.
struct Bytes<'a>(&'a [u8]);
impl Bytes<'_> {
    fn u32(&mut self) -> u32 {
        let mut x = [0u8; 4];
        for b in x.iter_mut() {
            let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
            *b = first;
            self.0 = rest;
        }
        u32::from_le_bytes(x)
    }
    /// A number in 1..=max, biased towards the small and the largest values.
    fn dim(&mut self, max: usize) -> usize {
        let x = self.u32() as usize;
        match x % 4 {
            0 => 1 + (x >> 2) % 8,
            1 => max,
            _ => 1 + (x >> 2) % max,
        }
    }
}

/// Every size of one shape in u32 checked arithmetic: rows·cols, count·rows·cols and its bytes.
fn fits_u32(s: &Shape) -> bool {
    let narrow = |x: u64| u32::try_from(x).ok();
    let (Some(count), Some(rows), Some(cols)) = (narrow(s.count), narrow(s.rows), narrow(s.cols)) else {
        return false;
    };
    let elements = rows.checked_mul(cols);
    let bytes = elements.and_then(|e| e.checked_mul(4)).filter(|&b| b <= i32::MAX as u32);
    let all = elements.and_then(|e| e.checked_mul(count)).and_then(|e| e.checked_mul(4));
    bytes.is_some() && all.is_some()
}

fn all_fit_u32(c: &Config, t: usize) -> bool {
    budget::shapes(c, t as u64).iter().all(fits_u32)
}

fn values(n: usize, salt: u32) -> Vec<f32> {
    (0..n as u32).map(|i| ((i.wrapping_mul(2_654_435_761) ^ salt) >> 8) as f32 / (1u32 << 24) as f32 - 0.5).collect()
}

fn weights_for(c: &Config) -> Weights {
    let (d, f, hd) = (c.d_model, c.d_mlp, c.n_heads * c.d_head);
    let norm = || Norm { weight: vec![1.0; d], bias: vec![0.0; d] };
    let layers = (0..c.n_layers as u32)
        .map(|l| Layer {
            ln1: norm(),
            w_q: values(d * hd, l * 8 + 1),
            w_k: values(d * hd, l * 8 + 2),
            w_v: values(d * hd, l * 8 + 3),
            w_o: values(hd * d, l * 8 + 4),
            mlp: (f > 0).then(|| Mlp { ln: norm(), w_in: values(d * f, l * 8 + 5), b_in: vec![0.0; f], w_out: values(f * d, l * 8 + 6), b_out: vec![0.0; d] }),
        })
        .collect();
    Weights { config: c.clone(), name: "fuzz".into(), tok_emb: values(c.vocab_size * d, 7), pos_emb: values(c.context * d, 9), layers, ln_f: norm() }
}

/// The number of f32s in a weights file for `c`.
fn weight_count(c: &Config) -> u64 {
    let (v, d, f, l, ctx) = (c.vocab_size as u64, c.d_model as u64, c.d_mlp as u64, c.n_layers as u64, c.context as u64);
    (v + ctx) * d + l * (4 * d * d + 2 * d + if f > 0 { 2 * d * f + f + 3 * d } else { 0 }) + 2 * d
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n_heads = b.dim(weights::MAX_HEADS);
    let d_head = b.dim(weights::MAX_D_MODEL / n_heads);
    let config = Config {
        vocab_size: b.dim(weights::MAX_VOCAB).max(TOKENIZER_VOCAB),
        d_model: n_heads * d_head,
        n_layers: b.dim(weights::MAX_LAYERS),
        n_heads,
        d_head,
        d_mlp: b.dim(weights::MAX_D_MLP + 1) - 1,
        context: b.dim(weights::MAX_CONTEXT),
        ln_eps: 1e-5,
        positions: if d_head % 2 == 0 && b.dim(2) == 2 { Positions::Rotary { base: 10000.0 } } else { Positions::Learned },
        bos_id: None,
    };
    if weights::check_config(&config).is_err() {
        return;
    }
    let window = budget::window(&config);
    assert!(window <= config.context);
    // the window is exact: it fits, one more token does not (unless the context ends it)
    if window > 0 {
        assert!(budget::fits(budget::cost(&config, window as u64)), "{config:?}: the window {window} does not fit");
        assert!(all_fit_u32(&config, window), "{config:?}: T = {window} is analysed but a size overflows 32 bits");
    }
    if window < config.context {
        assert!(!budget::fits(budget::cost(&config, window as u64 + 1)), "{config:?}: {} tokens fit too", window + 1);
    }
    // any T: if a size overflows 32 bits, the engine never analyses T tokens
    let t = 1 + b.u32() as usize % config.context;
    if !all_fit_u32(&config, t) {
        assert!(t > window, "{config:?}: T = {t} overflows 32 bits but is within the window {window}");
    }
    assert_eq!(budget::check_model(&config).is_ok(), window > 0);

    // small enough to build: the real analysis reads min(tokens, window) and its trace has the bytes
    // the budget predicted
    if window == 0 || weight_count(&config) > 1 << 18 {
        return;
    }
    let engine = match Engine::load(&weights::save(&weights_for(&config)), TOKENIZER) {
        Ok(e) => e,
        Err(e) => panic!("{config:?}: a model whose one-token analysis fits was refused: {e}"),
    };
    let text = "ab ".repeat(1 + b.u32() as usize % 2048);
    let trace = match engine.analyze(&text, &Options { neighbours: true, ..Options::default() }) {
        Ok(t) => t,
        Err(e) => panic!("{config:?}: analysis refused: {e}"),
    };
    let n = trace.tokens.len();
    assert_eq!(n, trace.total_tokens.min(window), "{config:?}");
    let predicted = budget::cost(&config, n as u64).map(|k| k.trace_bytes as usize);
    assert_eq!(Some(actual_bytes(&trace)), predicted, "{config:?}: T = {n}");
    assert_eq!(trace.trace_bytes, actual_bytes(&trace));
});

/// The bytes of f32 data in every matrix of a trace, counted from the trace itself.
fn actual_bytes(t: &attention_explorer::trace::Trace) -> usize {
    let mut n = t.token_embeddings.data.len() + t.position_embeddings.data.len() + t.embeddings.data.len();
    for l in &t.layers {
        n += [&l.input, &l.normed, &l.delta, &l.updated, &l.output].iter().map(|m| m.data.len()).sum::<usize>();
        for h in &l.heads {
            n += [&h.queries, &h.keys, &h.values, &h.scores, &h.scaled, &h.masked, &h.weights, &h.mixed, &h.delta]
                .iter()
                .map(|m| m.data.len())
                .sum::<usize>();
        }
        if let Some(m) = &l.mlp {
            n += m.normed.data.len() + m.hidden.data.len() + m.out.data.len();
        }
    }
    n += t.predict.normed.data.len() + t.predict.logits.data.len() + t.predict.probs.data.len();
    n += t.map.embeddings.data.len() + t.map.layers.iter().map(|m| m.data.len()).sum::<usize>();
    4 * n
}
