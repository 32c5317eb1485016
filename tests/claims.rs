//! Every claim the page, the README and MODEL.md make about what the shipped model does, checked
//! against the shipped model (natively and in headless Chromium). A retrain that changes what a head or
//! the model does fails here, loudly, naming the claim.
//!
//! The claims, where they are made:
//! - "Things to try" (www/index.html) and the element's examples: the copying example, the induction
//!   head on the repeated name, ÷√d makes the weights flatter, the mask changes the prediction, the same
//!   token starts from the same vector in two sentences and ends apart.
//! - the head picker names every head from model/heads.json: each name must hold on the live engine.

use attention_explorer::heads::HeadInfo;
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

fn heads(e: &Engine) -> &[HeadInfo] {
    &e.heads.as_ref().expect("the built-in model ships a head profile (model/heads.json)").heads
}

fn named<'a>(e: &'a Engine, name: &str) -> Vec<&'a HeadInfo> {
    heads(e).iter().filter(|h| h.name == name).collect()
}

/// Positions of the tokens of `text` whose text is `piece`.
fn positions(tr: &Trace, piece: &str) -> Vec<usize> {
    tr.tokens.iter().enumerate().filter(|(_, t)| t.text == piece).map(|(i, _)| i).collect()
}

/// Held-out-like sentences a visitor might type (none is in the training data verbatim).
const SENTENCES: [&str; 4] = [
    "a fluffy blue creature roamed the verdant forest",
    "The President said that the Congress would meet again in the spring.",
    "Once upon a time, John and Mary walked to the old castle on the hill.",
    "We sat on the river bank and watched the boats go by.",
];

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_copying_example_copies_the_name() {
    // "Things to try": after "Mr Dursley said hello. Mr Durs" the model completes the name it read
    // earlier: its top-1 is the token that followed "urs" the first time ("ley").
    let e = engine();
    let tr = analyze(&e, "Mr Dursley said hello. Mr Durs", Options::default());
    let ids: Vec<u32> = tr.tokens.iter().map(|t| t.id).collect();
    let last = ids.len() - 1;
    let earlier = (1..last).find(|&i| ids[i] == ids[last]).expect("the last token appears earlier");
    let top = &tr.predict.top[0];
    assert_eq!(
        top.id,
        ids[earlier + 1],
        "top-1 after the repeated {:?} is {:?} ({:.3}), not {:?}, the token after its first occurrence",
        tr.tokens[last].text,
        top.text,
        top.prob,
        tr.tokens[earlier + 1].text
    );
    assert!(top.prob >= 0.5, "the copy is the model's clear choice: {:.3}", top.prob);
}

/// The example "a name far back" (`LONG` in www/tour/stops-more.js; the page's "Things to try").
const LONG: &str = "Yesterday Mr Pickwick came to our town on a cold grey morning in the spring. He walked down the long street past the old church, the school and the mill by the river, and when at last he sat down the whole town came to see Mr";

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_last_mr_finds_the_name_far_back() {
    // "Things to try", Far back: the last "Mr" finds the name that followed the first one, more than 30
    // tokens earlier, on the weights step of an induction head.
    let e = engine();
    let tr = analyze(&e, LONG, Options::default());
    let mrs = positions(&tr, " Mr");
    let (first, last) = (mrs[0], *mrs.last().expect("a last Mr"));
    assert!(last - (first + 1) > 30, "the name is {} tokens back", last - first - 1);
    let found = named(&e, "induction").into_iter().any(|h| {
        let w = &tr.layers[h.layer].heads[h.head].weights;
        (0..=last).max_by(|&a, &b| w.at(last, a).total_cmp(&w.at(last, b))) == Some(first + 1)
    });
    assert!(found, "no induction head's largest weight at the last \"Mr\" is on {:?}", tr.tokens[first + 1].text);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_model_does_not_start_a_copy() {
    // MODEL.md, "What it cannot do": after "Mr Dursley said hello. Mr" it predicts "." (in the corpus
    // "Mr" is followed by "." 1,253 times, by a name 3 times), not the first token of " Dursley".
    let e = engine();
    let first_piece = e.tokenizer.encode(" Dursley")[0].id;
    let tr = analyze(&e, "Mr Dursley said hello. Mr", Options::default());
    assert_eq!(tr.predict.top[0].text, ".", "top-1 after the repeated \"Mr\": {:?}", tr.predict.top[0]);
    assert!(tr.predict.top.iter().all(|c| c.id != first_piece), "\" D\" is in the top {}", tr.predict.top.len());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_induction_head_looks_at_the_token_after_the_first_occurrence() {
    // "Things to try": in "Mr Dursley said hello. Mr Dursley said", a head's second "Dursley" looks back
    // at the token after the first one. At every token of the second " Dursley": some head the profile
    // names "induction" puts its largest weight there, and every such head puts its largest weight
    // there once the start token (where heads rest) is left out.
    let e = engine();
    let inductions = named(&e, "induction");
    assert!(!inductions.is_empty(), "the profile names no induction head");
    let tr = analyze(&e, "Mr Dursley said hello. Mr Dursley said", Options::default());
    let ids: Vec<u32> = tr.tokens.iter().map(|t| t.id).collect();
    // " Dursley said" again, from its second " D"
    let second = positions(&tr, " D")[1];
    let len = ids.len() - second;
    let first = (1..second).find(|&i| ids[i..i + len] == ids[second..]).expect("the first occurrence");
    let argmax = |w: &attention_explorer::trace::Matrix, q: usize, from: usize| {
        (from..=q).max_by(|&a, &b| w.at(q, a).total_cmp(&w.at(q, b))).expect("a row")
    };
    let mut clearest = vec![0usize; inductions.len()];
    for q in second..ids.len() - 1 {
        let target = first + (q - second) + 1;
        for (n, h) in inductions.iter().enumerate() {
            let w = &tr.layers[h.layer].heads[h.head].weights;
            let best = argmax(w, q, 1);
            assert_eq!(
                best, target,
                "head {}.{} ({}) at {:?} (position {q}) weights position {best} most after the start token ({:.2}), not the token after the earlier occurrence (position {target}, {:.2})",
                h.layer, h.head, h.name, tr.tokens[q].text, w.at(q, best), w.at(q, target)
            );
            clearest[n] += usize::from(argmax(w, q, 0) == target);
        }
    }
    assert!(
        clearest.contains(&(ids.len() - 1 - second)),
        "no induction head puts its largest weight (start token included) on the copied token at every repeated token: {clearest:?} of {}",
        ids.len() - 1 - second
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_head_name_holds_on_typed_sentences() {
    // The head picker shows the profile's names. Each name is a claim about what the head does: it must
    // hold on sentences a visitor types, not only on the held-out windows it was measured on.
    let e = engine();
    for h in heads(&e) {
        let (mut prev, mut start, mut n) = (0.0f32, 0.0f32, 0usize);
        for text in SENTENCES {
            let tr = analyze(&e, text, Options::default());
            let w = &tr.layers[h.layer].heads[h.head].weights;
            for q in 2..tr.tokens.len() {
                prev += w.at(q, q - 1);
                start += w.at(q, 0);
                n += 1;
            }
        }
        let (prev, start) = (prev / n as f32, start / n as f32);
        match h.name.as_str() {
            "previous token" => {
                assert!(prev >= 0.8, "head {}.{} is named \"previous token\" but puts {prev:.2} on token i−1", h.layer, h.head)
            }
            "start/resting" => {
                assert!(start >= 0.4, "head {}.{} is named \"start/resting\" but puts {start:.2} on the start token", h.layer, h.head)
            }
            _ => {}
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_trained_previous_token_head_is_the_disclosed_one() {
    // MODEL.md and the page disclose that one head was trained by an auxiliary loss to look at the
    // previous token; the profile names it, and it does.
    let e = engine();
    let p = e.heads.as_ref().expect("a head profile");
    let aux = p.trained_by_auxiliary_loss.as_ref().expect("the profile says which head the auxiliary loss trained");
    let h = p.head(aux.layer, aux.head).expect("that head exists");
    assert_eq!(h.name, "previous token");
    assert!(h.prev >= 0.8, "the trained head's measured weight on token i−1 is {}", h.prev);
}

fn mean_row_entropy(tr: &Trace) -> f32 {
    let (mut sum, mut n) = (0.0f32, 0usize);
    for layer in &tr.layers {
        for h in &layer.heads {
            for q in 1..h.weights.rows {
                sum -= h.weights.row(q).iter().filter(|&&p| p > 0.0).map(|&p| p * p.ln()).sum::<f32>();
                n += 1;
            }
        }
    }
    sum / n as f32
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn without_the_scaling_the_weights_get_peakier() {
    // "Things to try": turn off ÷√d_head and the weights get much peakier (lower entropy per row).
    let e = engine();
    for text in SENTENCES {
        let with = mean_row_entropy(&analyze(&e, text, Options::default()));
        let without = mean_row_entropy(&analyze(&e, text, Options { scale: false, ..Options::default() }));
        assert!(without < 0.8 * with, "{text:?}: mean row entropy {with:.3} nats with ÷√d, {without:.3} without");
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn without_the_mask_the_prediction_changes() {
    // "Things to try": turn off the causal mask and the prediction changes. The last position sees the
    // same tokens either way; the earlier positions now see ahead, and their changed vectors reach it
    // through layer 1.
    let e = engine();
    for text in SENTENCES {
        let a = analyze(&e, text, Options::default());
        let b = analyze(&e, text, Options { causal: false, ..Options::default() });
        let change: f32 = a.predict.probs.data.iter().zip(&b.predict.probs.data).map(|(x, y)| (x - y).abs()).sum::<f32>() / 2.0;
        assert!(change >= 0.05, "{text:?}: the mask moves only {change:.3} of the probability (total variation)");
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_same_token_starts_alike_and_ends_apart() {
    // "Things to try": "river bank" vs "bank account": the same token starts from the same vector and
    // ends somewhere else.
    let e = engine();
    let (a, b) = (analyze(&e, "We sat on the river bank", Options::default()), analyze(&e, "I opened a bank account", Options::default()));
    let (ia, ib) = (positions(&a, " bank")[0], positions(&b, " bank")[0]);
    assert_eq!(a.token_embeddings.row(ia), b.token_embeddings.row(ib), "the lookup rows of \" bank\" differ");
    let start = cosine(a.embeddings.row(ia), b.embeddings.row(ib));
    let last = a.layers.len() - 1;
    let end = cosine(a.layers[last].output.row(ia), b.layers[last].output.row(ib));
    assert!(start > 0.99, "\" bank\" starts at cosine {start:.3} between the two sentences");
    assert!(end < 0.95, "\" bank\" ends at cosine {end:.3} between the two sentences: not apart");
}
