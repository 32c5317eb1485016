//! The analysis as a whole: windowing, options and ablations, the prediction, the map, offsets.
//! Runs natively and in headless Chromium, on the built-in model.

use attention_explorer::kernels::SOFTMAX_MAX_REL_ERR;
use attention_explorer::model::AnalyzeError;
use attention_explorer::trace::{Options, Trace};
use attention_explorer::Engine;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn engine() -> Engine {
    Engine::builtin().unwrap_or_else(|e| panic!("the built-in model must load: {e}"))
}

fn analyze(e: &Engine, text: &str, o: Options) -> Trace {
    e.analyze(text, &o).unwrap_or_else(|err| panic!("analysis of {text:?} failed: {err}"))
}

const TEXT: &str = "a fluffy blue creature roamed the verdant forest";

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn shapes_follow_the_config() {
    let e = engine();
    let tr = analyze(&e, TEXT, Options::default());
    let c = &tr.config;
    let t = tr.tokens.len();
    assert!(t > 0 && t <= c.context);
    assert_eq!((tr.embeddings.rows, tr.embeddings.cols), (t, c.d_model));
    assert_eq!(tr.layers.len(), c.n_layers);
    for layer in &tr.layers {
        assert_eq!(layer.heads.len(), c.n_heads);
        for h in &layer.heads {
            assert_eq!((h.queries.rows, h.queries.cols), (t, c.d_head));
            assert_eq!((h.weights.rows, h.weights.cols), (t, t));
            assert_eq!((h.delta.rows, h.delta.cols), (t, c.d_model));
            for i in 0..t {
                let sum: f32 = h.weights.row(i).iter().sum();
                assert!((sum - 1.0).abs() <= 1e-5, "row {i} of the weights sums to {sum}");
            }
        }
    }
    assert_eq!(tr.predict.position, t - 1);
    assert_eq!(tr.predict.probs.cols, c.vocab_size);
    assert_eq!(tr.predict.top.len(), 10);
    assert!(tr.predict.top.windows(2).all(|w| w[0].prob >= w[1].prob));
    assert_eq!((tr.map.embeddings.rows, tr.map.embeddings.cols), (t, 2));
    assert_eq!(tr.map.layers.len(), c.n_layers);
    assert!(tr.neighbours.is_none());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn head_deltas_sum_to_delta_and_update_is_residual() {
    let e = engine();
    let tr = analyze(&e, TEXT, Options::default());
    for layer in &tr.layers {
        for (k, &d) in layer.delta.data.iter().enumerate() {
            let sum: f32 = layer.heads.iter().map(|h| h.delta.data[k]).sum();
            assert!((sum - d).abs() <= 1e-5 * d.abs().max(1.0));
            assert_eq!(layer.updated.data[k], layer.input.data[k] + d);
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn long_text_keeps_the_last_window() {
    let e = engine();
    let ctx = e.model.config().context;
    let text = "the cat sat on the mat. ".repeat(ctx);
    let tr = analyze(&e, &text, Options::default());
    assert_eq!(tr.tokens.len(), ctx);
    assert_eq!(tr.dropped_tokens, tr.total_tokens - ctx);
    assert!(tr.dropped_tokens > 0);
    let last = tr.tokens.last().expect("tokens");
    assert_eq!(last.end, text.encode_utf16().count(), "the window ends at the end of the text");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn token_spans_are_utf16_offsets_that_cover_the_text() {
    let e = engine();
    for text in ["naïve 🦊", "naïve 🦊 fox: שלום, мир! 東京 e\u{301}"] {
        let tr = analyze(&e, text, Options::default());
        let utf16: Vec<u16> = text.encode_utf16().collect();
        let first = tr.tokens.first().expect("tokens").start;
        if tr.dropped_tokens == 0 {
            assert_eq!(first, 0, "{text:?}: the first token starts the text");
        }
        let mut at = first;
        for tok in &tr.tokens {
            assert!(at <= tok.start && tok.start <= tok.end, "{text:?}: spans are in order");
            // Each span is on char boundaries: it decodes from UTF-16 without a broken surrogate.
            assert!(String::from_utf16(&utf16[tok.start..tok.end]).is_ok(), "{text:?}: {tok:?}");
            at = tok.end;
        }
        assert_eq!(at, utf16.len(), "{text:?}: the last token ends the text");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn ablations_change_what_they_should() {
    let e = engine();
    let base = analyze(&e, TEXT, Options::default());
    let t = base.tokens.len();
    assert!(t >= 3);

    let unscaled = analyze(&e, TEXT, Options { scale: false, ..Options::default() });
    let h = &unscaled.layers[0].heads[0];
    assert_eq!(h.scaled, h.scores, "without scaling, scaled = scores");
    assert_eq!(h.scores, base.layers[0].heads[0].scores, "scaling does not change the scores");

    let unmasked = analyze(&e, TEXT, Options { causal: false, ..Options::default() });
    let h = &unmasked.layers[0].heads[0];
    assert!(h.masked.data.iter().all(|x| x.is_finite()));
    assert!(h.weights.at(0, t - 1) > 0.0, "without the mask the first token looks ahead");
    assert_eq!(base.layers[0].heads[0].weights.at(0, t - 1), 0.0);
    assert_eq!(base.layers[0].heads[0].weights.at(0, 0), 1.0, "the first token can only look at itself");

    let off = analyze(&e, TEXT, Options { disabled_heads: vec![(0, 0)], ..Options::default() });
    assert!(!off.layers[0].heads[0].enabled);
    assert!(off.layers[0].heads[0].delta.data.iter().all(|&x| x == 0.0));
    assert_eq!(off.layers[0].heads[0].weights, base.layers[0].heads[0].weights, "its pattern is still shown");
    assert_ne!(off.layers[0].delta, base.layers[0].delta);
    assert_ne!(off.predict.probs, base.predict.probs, "switching a head off changes the prediction");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn temperature_sharpens_and_flattens_the_prediction() {
    let e = engine();
    let p = |temperature| analyze(&e, TEXT, Options { temperature, ..Options::default() }).predict;
    let (cold, warm, hot) = (p(0.5), p(1.0), p(2.0));
    assert_eq!(cold.logits, warm.logits, "temperature only rescales the logits");
    assert!(cold.top[0].prob > warm.top[0].prob && warm.top[0].prob > hot.top[0].prob);
    assert_eq!(cold.top[0].id, hot.top[0].id);
    let sum: f32 = hot.probs.data.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn predict_position_and_neighbours_on_demand() {
    let e = engine();
    let tr = analyze(&e, TEXT, Options { predict_position: Some(1), neighbours: true, top_k: 3, ..Options::default() });
    assert_eq!(tr.predict.position, 1);
    assert_eq!(tr.predict.top.len(), 3);
    let n = tr.neighbours.expect("neighbours were asked for");
    assert_eq!(n.before.len(), tr.tokens.len());
    assert_eq!(n.after.len(), tr.tokens.len());
    for list in n.before.iter().chain(&n.after) {
        assert_eq!(list.len(), attention_explorer::model::NEIGHBOURS);
        assert!(list.windows(2).all(|w| w[0].similarity >= w[1].similarity));
        assert!(list.iter().all(|x| (-1.0001..=1.0001).contains(&x.similarity)));
    }
    // Before the layers a vector is its token's row plus a position: the token itself is nearly
    // always among its nearest neighbours.
    let own = tr.tokens.iter().zip(&n.before).filter(|(tok, list)| list.iter().any(|x| x.id == tok.id)).count();
    assert!(2 * own > tr.tokens.len(), "only {own} of {} tokens are near their own embedding", tr.tokens.len());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bad_requests_get_clear_errors() {
    let e = engine();
    assert_eq!(e.analyze("", &Options::default()).unwrap_err(), AnalyzeError::Empty);
    let msg = |o: Options| e.analyze(TEXT, &o).unwrap_err().to_string();
    assert!(msg(Options { temperature: 0.0, ..Options::default() }).contains("temperature"));
    assert!(msg(Options { temperature: f32::NAN, ..Options::default() }).contains("temperature"));
    assert!(msg(Options { disabled_heads: vec![(99, 0)], ..Options::default() }).contains("[99, 0]"));
    assert!(msg(Options { predict_position: Some(10_000), ..Options::default() }).contains("10000"));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_embedding_map_is_deterministic_and_spread() {
    let e = engine();
    let a = e.vocab_map(50);
    let b = engine().vocab_map(50);
    assert_eq!(a.coords, b.coords);
    assert_eq!(a.ids.len(), a.coords.rows);
    let spread = |c: usize| {
        let xs: Vec<f32> = (0..a.coords.rows).map(|i| a.coords.at(i, c)).collect();
        let m = xs.iter().sum::<f32>() / xs.len() as f32;
        xs.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / xs.len() as f32
    };
    assert!(spread(0) > 0.0 && spread(1) > 0.0);
}

/// Issue 12: the numbers the page prints beside the grids come from the engine, not from JavaScript:
/// each row's max and Σ exp of `masked` (the weights are exp(x − max) / Σ), each row's Σ of
/// `weights`, and what the scaling step divided by.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn each_head_carries_its_softmax_numbers_and_the_trace_its_score_divisor() {
    let e = engine();
    for (scale, causal) in [(true, true), (false, true), (true, false)] {
        let tr = analyze(&e, TEXT, Options { scale, causal, ..Options::default() });
        assert_eq!(tr.score_divisor, if scale { (tr.config.d_head as f32).sqrt() } else { 1.0 });
        for h in tr.layers.iter().flat_map(|l| &l.heads) {
            let t = h.weights.rows;
            assert_eq!((h.masked_row_max.len(), h.masked_row_sum_exp.len(), h.weights_row_sum.len()), (t, t, t));
            for q in 0..t {
                let row = h.masked.row(q);
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                assert_eq!(h.masked_row_max[q], max, "row {q}");
                let sum: f64 = row.iter().map(|&x| (f64::from(x) - f64::from(max)).exp()).sum();
                let sum_exp = h.masked_row_sum_exp[q];
                assert!((f64::from(sum_exp) / sum - 1.0).abs() < 1e-6, "row {q}: Σ exp {sum_exp}, recomputed {sum}");
                // the weights are the softmax kernel's (simd128 in the browser): within its stated error
                let tol = 2.0 * SOFTMAX_MAX_REL_ERR;
                for (k, &x) in row.iter().enumerate() {
                    let exp = (x - max).exp();
                    let shown = h.weights.at(q, k) * sum_exp;
                    assert!((shown - exp).abs() <= tol * exp.max(f32::MIN_POSITIVE), "({q}, {k}): weight · Σ = {shown}, exp = {exp}");
                }
                let weights: f64 = h.weights.row(q).iter().map(|&w| f64::from(w)).sum();
                assert_eq!(h.weights_row_sum[q], weights as f32, "row {q}");
                assert!((h.weights_row_sum[q] - 1.0).abs() < 1e-5);
            }
            for (&s, &x) in h.scaled.data.iter().zip(&h.scores.data) {
                assert!((s * tr.score_divisor - x).abs() <= 1e-5 * x.abs().max(1.0), "scaled {s}, score {x}");
            }
        }
    }
}

/// A `predict_position` below the context but past the tokens of this text (the page keeps the
/// position chosen for a longer text): the last token predicts and the trace's options say null, so
/// JavaScript needs no token count of its own. At or past the context it is refused.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_predict_position_past_the_text_means_the_last_token() {
    let e = engine();
    let ctx = e.model.config().context;
    let text = "the cat sat";
    let past = analyze(&e, text, Options { predict_position: Some(ctx - 1), ..Options::default() });
    let t = past.tokens.len();
    assert!(t < ctx - 1, "{t} tokens");
    assert_eq!((past.predict.position, past.options.predict_position), (t - 1, None));
    assert_eq!(past.predict.probs, analyze(&e, text, Options::default()).predict.probs);
    let second = analyze(&e, text, Options { predict_position: Some(1), ..Options::default() });
    assert_eq!((second.predict.position, second.options.predict_position), (1, Some(1)));
    let refused = e.analyze(text, &Options { predict_position: Some(ctx), ..Options::default() }).unwrap_err().to_string();
    assert!(refused.contains(&format!("below {ctx} (the context), found {ctx}")), "{refused}");
}
