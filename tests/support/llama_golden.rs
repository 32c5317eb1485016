//! Checks a Llama model's analysis against a golden file of `tests/reference/gguf_reference.py`
//! (float64 NumPy on the dequantised GGUF, values rounded to f32): every intermediate of the
//! golden file's layers, and the last position's logits and probabilities.
//!
//! How "relative" is measured: for each matrix (each head's, for per-head arrays) the error is
//! max |found − golden| / max |golden|, the largest difference against the matrix's own scale. An
//! f32 forward pass errs by about 2⁻²⁴ times the size of the terms summed, not of the result, so
//! an element that is a near-cancelling sum (a residual coordinate near 0, a score near 0) has a
//! large error relative to itself and a tiny one relative to its matrix; the matrix's max-abs is
//! the scale the error follows (and the one a heat map shows). The element-wise measure
//! |found − golden| / max(1, |golden|) is reported beside it, for the record.

use attention_explorer::llm::Llm;
use attention_explorer::model::Attention;
use attention_explorer::trace::{Matrix, Options};
use serde_json::Value;

/// The worst error of one kind of intermediate over every case, layer and head.
#[derive(Clone, Debug, Default)]
pub struct Worst {
    pub name: String,
    /// max |a − b| / max |b| of a matrix
    pub rel: f64,
    /// max |a − b| / max(1, |b|) of an element
    pub elem: f64,
    pub at: String,
}

fn flat(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flat(x, out)),
        Value::Number(n) => out.push(n.as_f64().expect("a number")),
        other => panic!("expected numbers in the golden file, found {other}"),
    }
}

fn numbers(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    flat(v, &mut out);
    out
}

/// Records one matrix's errors into `worst` (keyed by name).
fn record(worst: &mut Vec<Worst>, name: &str, at: String, found: &[f32], want: &[f64]) {
    assert_eq!(found.len(), want.len(), "{at} {name}: expected {} numbers, found {}", want.len(), found.len());
    let scale = want.iter().fold(0.0f64, |m, b| m.max(b.abs())).max(f64::MIN_POSITIVE);
    let diff = |(a, b): (&f32, &f64)| (f64::from(*a) - b).abs();
    let rel = found.iter().zip(want).map(diff).fold(0.0, f64::max) / scale;
    let elem = found.iter().zip(want).map(|p| diff(p) / p.1.abs().max(1.0)).fold(0.0, f64::max);
    let slot = match worst.iter().position(|w| w.name == name) {
        Some(i) => i,
        None => {
            worst.push(Worst { name: name.to_string(), ..Default::default() });
            worst.len() - 1
        }
    };
    let w = &mut worst[slot];
    if rel > w.rel {
        w.rel = rel;
        w.at = at;
    }
    w.elem = w.elem.max(elem);
}

fn refs(ms: &[Matrix]) -> Vec<&Matrix> {
    ms.iter().collect()
}

fn heads(worst: &mut Vec<Worst>, name: &str, at: &str, found: &[&Matrix], want: &Value) {
    let want = want.as_array().unwrap_or_else(|| panic!("{at} {name}: expected one array per head"));
    assert_eq!(found.len(), want.len(), "{at} {name}: head count");
    for (h, (m, w)) in found.iter().zip(want).enumerate() {
        record(worst, name, format!("{at} head {h}"), &m.data, &numbers(w));
    }
}

/// Analyses every case of `golden` with `llm` and returns the worst errors by intermediate. The
/// tokenizer must give the golden ids; `top_tokens[0]` must be the engine's first candidate.
pub fn compare(llm: &mut Llm, golden: &Value) -> Vec<Worst> {
    let mut worst = Vec::new();
    for case in golden["cases"].as_array().expect("cases") {
        let text = case["text"].as_str().expect("text");
        let ids: Vec<u32> = numbers(&case["ids"]).into_iter().map(|x| x as u32).collect();
        let summary = llm.analyze(text, &Options::default()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let found: Vec<u32> = summary.tokens.iter().map(|t| t.id).collect();
        assert_eq!(found, ids, "{text:?}: the tokenizer's ids");
        let first = case["top_tokens"][0]["id"].as_u64().expect("top id") as u32;
        assert_eq!(summary.predict.top[0].id, first, "{text:?}: the first candidate");
        let a = llm.last().expect("the analysis");
        let tr = &a.trace;
        record(&mut worst, "embeddings", format!("{text:?}"), &tr.embeddings.data, &numbers(&case["embeddings"]));
        for (key, g) in case["layers"].as_object().expect("layers") {
            let l: usize = key.parse().expect("a layer number");
            let at = format!("{text:?} layer {l}");
            let t = &tr.layers[l];
            let one = |worst: &mut Vec<Worst>, name: &str, m: &Matrix| record(worst, name, at.clone(), &m.data, &numbers(&g[name]));
            one(&mut worst, "normed", &t.normed);
            one(&mut worst, "delta", &t.delta);
            one(&mut worst, "updated", &t.updated);
            one(&mut worst, "mlp_out", &t.mlp.out);
            one(&mut worst, "output", &t.output);
            heads(&mut worst, "queries", &at, &refs(&t.queries), &g["queries"]);
            heads(&mut worst, "keys", &at, &refs(&t.keys), &g["keys"]);
            heads(&mut worst, "values", &at, &refs(&t.values), &g["values"]);
            heads(&mut worst, "rotated_queries", &at, &refs(&t.rotated_queries), &g["rotated_queries"]);
            heads(&mut worst, "rotated_keys", &at, &refs(&t.rotated_keys), &g["rotated_keys"]);
            let per = |f: fn(&Attention) -> &Matrix| t.heads.iter().map(f).collect::<Vec<_>>();
            heads(&mut worst, "scores", &at, &per(|h| &h.scores), &g["scores"]);
            heads(&mut worst, "scaled", &at, &per(|h| &h.scaled), &g["scaled"]);
            heads(&mut worst, "weights", &at, &per(|h| &h.weights), &g["weights"]);
            heads(&mut worst, "mixed", &at, &per(|h| &h.mixed), &g["mixed"]);
        }
        record(&mut worst, "logits_last", format!("{text:?}"), &a.predict.logits.data, &numbers(&case["logits_last"]));
        record(&mut worst, "probs_last", format!("{text:?}"), &a.predict.probs.data, &numbers(&case["probs_last"]));
    }
    worst
}

/// Prints the table and fails on any error above `tol` (matrix-relative).
pub fn assert_within(worst: &[Worst], tol: f64, what: &str) {
    for w in worst {
        println!("{what}: {:<16} max rel {:.2e} (element-wise {:.2e})  worst at {}", w.name, w.rel, w.elem, w.at);
    }
    for w in worst {
        assert!(
            w.rel <= tol,
            "{what}: {} differs from the golden file by {:.3e} of its scale at {} (tolerance {tol:e})",
            w.name,
            w.rel,
            w.at
        );
    }
}
