//! Positions: the learned-position path stays exactly as it was before rotary positions and the start
//! token were added.

use attention_explorer::trace::{Matrix, Options, Trace};
use attention_explorer::Engine;

const TOKENIZER: &[u8] = include_bytes!("fixtures/tiny/tokenizer.json");
const TINY: &[u8] = include_bytes!("fixtures/tiny/model.safetensors");
const ATTN_ONLY: &[u8] = include_bytes!("fixtures/tiny/attn_only.safetensors");

/// FNV-1a (64 bit), fed every number of a trace as its exact bits.
struct Digest(u64);

impl Digest {
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn usize(&mut self, x: usize) {
        self.bytes(&(x as u64).to_le_bytes());
    }
    fn m(&mut self, m: &Matrix) {
        self.usize(m.rows);
        self.usize(m.cols);
        m.data.iter().for_each(|v| self.bytes(&v.to_bits().to_le_bytes()));
    }
}

/// Every number of the trace (ids, spans, counts, every matrix, the prediction, the map, neighbours),
/// in a fixed order; not the serialised form, so fields added later do not change it.
fn digest(tr: &Trace, position_embeddings: &Matrix) -> u64 {
    let mut d = Digest(0xcbf2_9ce4_8422_2325);
    d.usize(tr.total_tokens);
    d.usize(tr.dropped_tokens);
    for t in &tr.tokens {
        d.usize(t.id as usize);
        d.usize(t.start);
        d.usize(t.end);
        d.bytes(t.text.as_bytes());
    }
    d.m(&tr.token_embeddings);
    d.m(position_embeddings);
    d.m(&tr.embeddings);
    for l in &tr.layers {
        for m in [&l.input, &l.normed, &l.delta, &l.updated, &l.output] {
            d.m(m);
        }
        for h in &l.heads {
            d.usize(usize::from(h.enabled));
            for m in [&h.queries, &h.keys, &h.values, &h.scores, &h.scaled, &h.masked, &h.weights, &h.mixed, &h.delta] {
                d.m(m);
            }
        }
        if let Some(mlp) = &l.mlp {
            for m in [&mlp.normed, &mlp.hidden, &mlp.out] {
                d.m(m);
            }
        }
    }
    let p = &tr.predict;
    d.usize(p.position);
    for m in [&p.normed, &p.logits, &p.probs] {
        d.m(m);
    }
    for c in &p.top {
        d.usize(c.id as usize);
        d.bytes(&c.logit.to_bits().to_le_bytes());
        d.bytes(&c.prob.to_bits().to_le_bytes());
    }
    d.m(&tr.map.embeddings);
    tr.map.layers.iter().for_each(|m| d.m(m));
    for side in tr.neighbours.iter().flat_map(|n| [&n.before, &n.after]) {
        for n in side.iter().flatten() {
            d.usize(n.id as usize);
            d.bytes(&n.similarity.to_bits().to_le_bytes());
        }
    }
    d.0
}

const TEXTS: [&str; 4] = [
    "The fox watched the road.",
    "a",
    "Café naïve 😀! <|endoftext|>The end",
    // longer than the context (16): the window is cut
    "The bank of the river is not the bank where the farmer keeps his money.",
];

fn digests(weights: &[u8]) -> Vec<u64> {
    let engine = Engine::load(weights, TOKENIZER).unwrap_or_else(|e| panic!("the fixture must load: {e}"));
    let options = Options { neighbours: true, disabled_heads: vec![(0, 1)], ..Options::default() };
    TEXTS
        .iter()
        .flat_map(|text| {
            [Options { neighbours: true, ..Options::default() }, options.clone()].map(|o| {
                let tr = engine.analyze(text, &o).unwrap_or_else(|e| panic!("{text:?}: {e}"));
                digest(&tr, tr.position_embeddings.as_ref().expect("learned positions have a P"))
            })
        })
        .collect()
}

/// Natively (scalar kernels), the traces of both learned-position fixtures are bit for bit those of the
/// engine before rotary positions and the start token existed (digests recorded at commit fa1f7e6).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn learned_position_traces_are_unchanged() {
    for (name, weights, want) in [
        ("model.safetensors", TINY, ["1ce1a4072a460668", "a2fb6c76c52b8db9", "4349fae214753c99", "b3ebb01c957964b5", "7edaa6de044957d3", "4b0574b94bed73d6", "76416fa7374c5d08", "58069d586881f92e"]),
        ("attn_only.safetensors", ATTN_ONLY, ["e2e8af8bb054dca1", "571e0368f98af176", "44429f72e9152439", "84e0f41300e64762", "e1060b8e7abe7669", "1d7ded7eeb14cd56", "1f02d522238223b0", "ce95885483b0e041"]),
    ] {
        let found: Vec<String> = digests(weights).iter().map(|d| format!("{d:016x}")).collect();
        assert_eq!(found, want, "{name}: the learned-position traces changed");
    }
}
