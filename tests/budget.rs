//! The work budget and the size arithmetic, natively and in headless Chromium (wasm32, where `usize`
//! has 32 bits and 65,536² wraps to 0; the tests build with overflow checks, so a wrap would panic).
//!
//! Issue 13's findings: a model with context 65,536 and d_model 2 plus a 21,846-character text
//! corrupted wasm memory (`t * t` wrapped, and so did the kernels' guard); a 12-layer × 12-head model
//! at context 1024 made 2.4 GB traces; a 256-layer × 64-head model made 1.4 GB ones. Each is a test here.

use attention_explorer::budget::{self, MAX_PEAK_BYTES, MAX_TRACE_BYTES, MAX_WORK};
use attention_explorer::model::{Config, Layer, Mlp, Model, Norm, Positions, Weights};
use attention_explorer::tokenizer::Tokenizer;
use attention_explorer::trace::{Matrix, Options, Trace};
use attention_explorer::{kernels, message, weights, Engine};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const TOKENIZER: &[u8] = include_bytes!("fixtures/tiny/tokenizer.json");
const VOCAB: usize = 360;

fn config(n_layers: usize, n_heads: usize, d_head: usize, d_mlp: usize, context: usize) -> Config {
    Config {
        vocab_size: VOCAB,
        d_model: n_heads * d_head,
        n_layers,
        n_heads,
        d_head,
        d_mlp,
        context,
        ln_eps: 1e-5,
        positions: Positions::Learned,
        bos_id: None,
    }
}

/// Small pseudo-random values (a deterministic hash of the position).
fn values(n: usize, salt: u32) -> Vec<f32> {
    (0..n as u32).map(|i| ((i.wrapping_mul(2_654_435_761) ^ salt) >> 8) as f32 / (1u32 << 24) as f32 - 0.5).collect()
}

fn norm(d: usize) -> Norm {
    Norm { weight: vec![1.0; d], bias: vec![0.0; d] }
}

fn weights_for(c: &Config) -> Weights {
    let (d, f, hd) = (c.d_model, c.d_mlp, c.n_heads * c.d_head);
    let layers = (0..c.n_layers as u32)
        .map(|l| Layer {
            ln1: norm(d),
            w_q: values(d * hd, l * 8 + 1),
            w_k: values(d * hd, l * 8 + 2),
            w_v: values(d * hd, l * 8 + 3),
            w_o: values(hd * d, l * 8 + 4),
            mlp: (f > 0).then(|| Mlp {
                ln: norm(d),
                w_in: values(d * f, l * 8 + 5),
                b_in: vec![0.0; f],
                w_out: values(f * d, l * 8 + 6),
                b_out: vec![0.0; d],
            }),
        })
        .collect();
    Weights {
        config: c.clone(),
        name: "budget test".into(),
        tok_emb: values(c.vocab_size * d, 7),
        pos_emb: values(c.context * d, 9),
        layers,
        ln_f: norm(d),
    }
}

fn engine_for(c: &Config) -> Engine {
    let tokenizer = Tokenizer::from_json(TOKENIZER).expect("fixture tokenizer");
    Engine { model: Model::new(weights_for(c)), tokenizer, heads: None }
}

/// Every row statistic of a trace's heads, as a (T, 1) matrix.
fn row_stats(t: &Trace) -> Vec<Matrix> {
    let heads = t.layers.iter().flat_map(|l| &l.heads);
    let column = |v: &Vec<f32>| Matrix::from_vec(v.len(), 1, v.clone());
    heads.flat_map(|h| [column(&h.masked_row_max), column(&h.masked_row_sum_exp), column(&h.weights_row_sum)]).collect()
}

/// Every matrix of a trace.
fn matrices(t: &Trace) -> Vec<&Matrix> {
    let mut out = vec![&t.token_embeddings, &t.embeddings];
    out.extend(&t.position_embeddings);
    for l in &t.layers {
        out.extend([&l.input, &l.normed, &l.delta, &l.updated, &l.output, &l.cos_updated, &l.cos_output]);
        for h in &l.heads {
            out.extend([&h.queries, &h.keys, &h.values, &h.scores, &h.scaled, &h.masked, &h.weights, &h.mixed, &h.delta]);
            out.extend(h.rotated_queries.iter().chain(&h.rotated_keys));
        }
        if let Some(m) = &l.mlp {
            out.extend([&m.normed, &m.hidden, &m.out]);
        }
    }
    out.extend([&t.predict.normed, &t.predict.logits, &t.predict.probs, &t.map.embeddings]);
    out.extend(&t.map.layers);
    out.extend(&t.map.updated);
    out
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_budget_counts_every_byte_of_the_trace() {
    let text = "the cat sat on the mat and looked at the dog";
    let rotary = Config { positions: Positions::Rotary { base: 10000.0 }, bos_id: None, ..config(2, 2, 4, 5, 16) };
    for c in [config(1, 1, 1, 0, 3), config(2, 3, 2, 5, 16), config(3, 2, 4, 0, 64), rotary] {
        let e = engine_for(&c);
        let trace = e.analyze(text, &Options { neighbours: true, ..Options::default() }).expect("analysis");
        let stats = row_stats(&trace);
        let mut arrays = matrices(&trace);
        arrays.extend(&stats);
        let actual: usize = arrays.iter().map(|m| m.data.len() * 4).sum();
        let t = trace.tokens.len() as u64;
        assert_eq!(trace.trace_bytes, actual, "{c:?}: the trace says it has {} bytes", trace.trace_bytes);
        assert_eq!(budget::cost(&c, t).map(|k| k.trace_bytes as usize), Some(actual), "{c:?}");
        // every matrix and row statistic of the trace is one `budget::shapes` lists
        let shapes = budget::shapes(&c, t);
        for m in arrays {
            assert!(
                shapes.iter().any(|s| s.in_trace && (s.rows, s.cols) == (m.rows as u64, m.cols as u64)),
                "{c:?}: a {}×{} matrix that budget::shapes does not list",
                m.rows,
                m.cols
            );
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_built_in_model_never_meets_the_budget() {
    let e = Engine::builtin().expect("the built-in model");
    let c = e.model.config().clone();
    assert_eq!(e.max_tokens(), c.context, "the built-in model reads its whole context");
    let k = budget::cost(&c, c.context as u64).expect("a cost");
    assert!(k.trace_bytes * 8 <= MAX_TRACE_BYTES && k.peak_bytes * 8 <= MAX_PEAK_BYTES && k.work * 4 <= MAX_WORK, "{k:?}");
    let long = "the cat sat on the mat. ".repeat(40);
    let trace = e.analyze(&long, &Options { neighbours: true, ..Options::default() }).expect("analysis");
    assert_eq!((trace.tokens.len(), trace.max_tokens, &trace.notice), (c.context, c.context, &None));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn context_65536_with_a_21846_character_text_is_bounded_and_the_built_in_model_still_works() {
    // issue 13, finding 1: on wasm32, T = 65,536 made T·T wrap to 0; the kernel guard multiplied the
    // same way and the simd128 kernel wrote through raw pointers over the built-in model's bytes
    let c = config(1, 1, 2, 0, 65_536);
    let (t, wrapped) = (65_536u32, 65_536u32.wrapping_mul(65_536));
    assert_eq!(wrapped, 0, "the product that wraps in u32 ({t}²)");
    assert!(!budget::fits(budget::cost(&c, u64::from(t))), "65,536 tokens must not fit the budget");
    let e = Engine::load(&weights::save(&weights_for(&c)), TOKENIZER).expect("the model loads: one token fits");
    let text = "€".repeat(21_846); // 65,538 bytes, one token per byte with the fixture tokenizer
    let trace = e.analyze(&text, &Options::default()).expect("a bounded analysis");
    let n = trace.tokens.len();
    assert!(trace.total_tokens >= 65_536, "the text has {} tokens", trace.total_tokens);
    assert_eq!(n, budget::window(&c));
    assert!(n < 2_000 && n > 500, "{n} tokens analysed");
    assert_eq!(trace.max_tokens, n);
    assert!(trace.trace_bytes as u64 <= MAX_TRACE_BYTES);
    let notice = trace.notice.as_deref().expect("the trace says why tokens were left out");
    assert!(
        notice.contains("65,536 tokens")
            && notice.contains("the limit is 32 MB")
            && notice.contains(&format!("only the last {} tokens", message::thousands(n as u64))),
        "{notice}"
    );
    assert_eq!(trace.layers[0].heads[0].weights.data.len(), n * n);
    // the last token's offsets index the whole text (UTF-16 units)
    assert_eq!(trace.tokens.last().map(|tok| tok.end), Some(21_846));
    let builtin = Engine::builtin().expect("the built-in model");
    assert!(builtin.analyze("still working", &Options::default()).is_ok(), "the built-in model still analyses");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn twelve_layers_by_twelve_heads_at_context_1024_analyse_a_bounded_window() {
    // issue 13, finding 2: 2.4 GB per trace for a 3,000-character paste
    let c = config(12, 12, 1, 0, 1024);
    let window = budget::window(&c);
    assert!(window > 50 && window < 1024, "window {window}");
    assert!(budget::fits(budget::cost(&c, window as u64)) && !budget::fits(budget::cost(&c, window as u64 + 1)));
    let message = budget::over_budget(&c, 1024);
    assert_eq!(message, "this model's trace for 1,024 tokens would need 2.3 GB; the limit is 32 MB");
    let e = engine_for(&c);
    let text = "a b c d e f g h i j k ".repeat(140);
    let trace = e.analyze(&text, &Options::default()).expect("a bounded analysis");
    assert_eq!(trace.tokens.len(), window);
    assert!(trace.trace_bytes as u64 <= MAX_TRACE_BYTES);
    assert!(trace.notice.as_deref().is_some_and(|n| n.contains(&format!("only the last {window} tokens"))));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_notice_names_the_limit_that_sets_the_window() {
    // 6 layers at d_model 256 with an MLP: 80 tokens are 11.5 MB of trace but 6e8 steps of work, so the
    // work sets the window, and the notice says so (not the 501 MB that 1,024 tokens' trace would be)
    let c = Config {
        vocab_size: VOCAB,
        d_model: 256,
        n_layers: 6,
        n_heads: 4,
        d_head: 64,
        d_mlp: 1024,
        context: 1024,
        ln_eps: 1e-5,
        positions: Positions::Learned,
        bos_id: None,
    };
    assert_eq!(budget::window(&c), 80);
    let notice = budget::notice(&c, 1024, 80);
    assert!(notice.starts_with("this model's analysis of 1,024 tokens would take "), "{notice}");
    assert!(notice.ends_with(" steps of work; the limit is 600,000,000 (about 0.2 s): only the last 80 tokens are analysed"), "{notice}");
    let trace_bound = config(12, 12, 1, 0, 1024);
    assert_eq!(
        budget::notice(&trace_bound, 1024, budget::window(&trace_bound)),
        "this model's trace for 1,024 tokens would need 2.3 GB; the limit is 32 MB: only the last 117 tokens are analysed"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_model_no_single_token_fits_is_refused_at_load_before_its_tensors_are_read() {
    // 256 layers × 64 heads at d_model 4096: one token's head deltas alone are 256 MB (292 MB in all). The header is
    // enough: the budget is checked right after the config, so no tensor needs to be in the file.
    let c = Config {
        vocab_size: VOCAB,
        d_model: 4096,
        n_layers: 256,
        n_heads: 64,
        d_head: 64,
        d_mlp: 0,
        context: 64,
        ln_eps: 1e-5,
        positions: Positions::Learned,
        bos_id: None,
    };
    let config = format!(
        "{{\"vocab_size\":{},\"d_model\":{},\"n_layers\":{},\"n_heads\":{},\"d_head\":{},\"d_mlp\":0,\"context\":{},\"ln_eps\":1e-5}}",
        c.vocab_size, c.d_model, c.n_layers, c.n_heads, c.d_head, c.context
    );
    let header = format!("{{\"__metadata__\":{{\"format\":\"attention-explorer/1\",\"config\":{config:?}}}}}");
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    let err = match Engine::load(&file, TOKENIZER) {
        Ok(_) => panic!("a model whose single token needs 292 MB of trace was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("trace for a single token would need 292.5 MB; the limit is 32 MB; no text can be analysed with it"), "{err}");
    // the 256 × 64 model at d_model 64 (8.6 MB, 1.4 GB per keystroke): 16,384 heads make hundreds of thousands of
    // matrices even for one token, over half a second of the main thread, so it is refused too
    let deep = Config { d_model: 64, d_head: 1, ..c };
    let why = budget::check_model(&deep).expect_err("refused");
    assert!(
        why.starts_with("this model's analysis of a single token would take 2,072,444,200 steps of work; the limit is 600,000,000"),
        "{why}"
    );
    // 16 layers × 16 heads: it loads, and reads fewer tokens than its context
    let wide = Config { d_model: 64, n_layers: 16, n_heads: 16, d_head: 4, context: 256, ..c };
    assert!(budget::check_model(&wide).is_ok());
    assert_eq!(budget::window(&wide), 78);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[should_panic]
fn a_kernel_guard_is_not_fooled_by_a_product_that_wraps() {
    // m·k = 65,536² is 0 in 32-bit arithmetic: the old guard accepted an empty A and the simd128 kernel
    // read past it. Natively the lengths simply do not match; on wasm32 the checked product overflows.
    let (m, k, n) = (65_536usize, 65_536usize, 1usize);
    let b = vec![0.0f32; k * n];
    let mut c = vec![0.0f32; m * n];
    kernels::matmul(&[], &b, &mut c, m, k, n);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[should_panic(expected = "does not fit in usize")]
fn a_matrix_whose_size_overflows_usize_is_refused() {
    let _ = Matrix::zeros(usize::MAX / 2 + 1, 2);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn messages_read_like_numbers() {
    assert_eq!(message::thousands(0), "0");
    assert_eq!(message::thousands(1_000), "1,000");
    assert_eq!(message::thousands(1_234_567), "1,234,567");
    assert_eq!(message::bytes(512), "512 bytes");
    assert_eq!(message::bytes(32 << 20), "32 MB");
    assert_eq!(message::bytes(1536), "1.5 KB");
    assert_eq!(message::bytes(u64::MAX), "16 EB");
}
