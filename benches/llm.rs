//! Native benchmark of a large model (SmolLM2-135M, models/smollm2-135m.Q4_1.gguf): load, and
//! analyses of 8, 32 and 64 tokens, with the native dispatch point (the scalar spec kernels,
//! compiled for the host). `cargo bench --bench llm` prints the figures and merges
//! `llm_native_load_ms` and `llm_native_analyze` into target/bench.json; the simd128 figures
//! (`llm_*`) come from benches/llm.mjs (Node). Under `cargo test --all-targets` (no `--bench`
//! argument) it loads the model and analyses 8 tokens once, as a smoke test. Without the model
//! file it says so and does nothing.

use std::time::Instant;

use attention_explorer::llm::Llm;
use attention_explorer::trace::Options;

/// A text of exactly n tokens: words of a sentence, then " a" until the count is n.
fn text_of(llm: &Llm, n: usize) -> String {
    let words = "Once upon a time, in a small village at the edge of a great forest, there lived an old clockmaker who spent his days repairing the watches of travellers.";
    let mut text = String::new();
    for w in words.split(' ') {
        let next = if text.is_empty() { w.to_string() } else { format!("{text} {w}") };
        if llm.count_tokens(&next) > n {
            break;
        }
        text = next;
    }
    while llm.count_tokens(&text) < n {
        text.push_str(" a");
    }
    assert_eq!(llm.count_tokens(&text), n, "a text of {n} tokens");
    text
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/smollm2-135m.Q4_1.gguf");
    let Ok(bytes) = std::fs::read(path) else {
        println!("skipped: no model at {path} (./build.sh setup fetches it)");
        return;
    };
    let t0 = Instant::now();
    let mut llm = Llm::load(bytes, None).expect("SmolLM2 loads");
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    println!("SmolLM2-135M natively (scalar kernels): load {load_ms:.0} ms{}", if full { "" } else { " (smoke run)" });
    let sizes: &[usize] = if full { &[8, 32, 64] } else { &[8] };
    let mut rows = Vec::new();
    for &n in sizes {
        let text = text_of(&llm, n);
        let mut best = f64::INFINITY;
        for _ in 0..if full { 3 } else { 1 } {
            let t0 = Instant::now();
            llm.analyze(&text, &Options::default()).expect("analysis");
            best = best.min(t0.elapsed().as_secs_f64() * 1e3);
        }
        println!("  analyze {n:>2} tokens: {best:.0} ms (fastest of {})", if full { 3 } else { 1 });
        rows.push(serde_json::json!({ "tokens": n, "min_ms": (best * 10.0).round() / 10.0 }));
    }
    if full {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench.json");
        let mut all: serde_json::Value =
            std::fs::read_to_string(file).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_else(|| serde_json::json!({}));
        all["llm_native_load_ms"] = serde_json::json!((load_ms * 10.0).round() / 10.0);
        all["llm_native_analyze"] = serde_json::Value::Array(rows);
        std::fs::write(file, serde_json::to_string_pretty(&all).expect("json") + "\n").expect("write target/bench.json");
    }
}
