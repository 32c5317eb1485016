//! Head profiles (`heads.json`): a valid one is taken over in layer-major order; one that does not
//! describe the model, or holds numbers or names the page cannot show, is refused with a message.

use attention_explorer::{Engine, LoadError};
use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const TOKENIZER: &[u8] = include_bytes!("fixtures/tiny/tokenizer.json");
const TINY: &[u8] = include_bytes!("fixtures/tiny/model.safetensors");
const MODEL: &str = "attention-explorer tiny-2L test model";

/// A profile of the tiny model (2 layers × 2 heads) as trainer/eval.py writes one, heads out of order.
fn profile() -> Value {
    let head = |layer: usize, head: usize, name: &str, prev: f64| {
        json!({"layer": layer, "head": head, "name": name, "prev": prev, "self": 0.1, "start": 0.05,
               "duplicate": 0.0, "induction": 0.02, "mean_distance": 2.5})
    };
    json!({
        "model": MODEL,
        "measured_on": "held-out text",
        "rules": [{"name": "previous token", "when": "≥ 0.6 of its weight on token i−1"},
                  {"name": "broad", "when": "none of the above"}],
        "trained_by_auxiliary_loss": {"layer": 0, "head": 0, "target": "previous token"},
        "heads": [head(1, 1, "broad", 0.2), head(0, 0, "previous token", 0.97), head(0, 1, "broad", 0.1),
                  head(1, 0, "broad", 0.3)],
    })
}

fn load(profile: &Value) -> Result<Engine, LoadError> {
    Engine::load(TINY, TOKENIZER).expect("the fixture loads").with_heads(profile.to_string().as_bytes())
}

fn refused(edit: impl FnOnce(&mut Value)) -> String {
    let mut p = profile();
    edit(&mut p);
    match load(&p) {
        Err(e @ LoadError::Heads(_)) => e.to_string(),
        other => panic!("expected the profile to be refused, found {other:?}"),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_valid_profile_is_taken_over_in_layer_major_order() {
    let e = load(&profile()).expect("a valid profile");
    let p = e.heads.as_ref().expect("the profile");
    let order: Vec<(usize, usize)> = p.heads.iter().map(|h| (h.layer, h.head)).collect();
    assert_eq!(order, vec![(0, 0), (0, 1), (1, 0), (1, 1)]);
    let h = p.head(0, 0).expect("layer 0 head 0");
    assert_eq!((h.name.as_str(), h.prev, h.self_), ("previous token", 0.97, 0.1));
    assert_eq!(p.trained_by_auxiliary_loss.as_ref().map(|t| (t.layer, t.head, t.target.as_str())), Some((0, 0, "previous token")));
    assert_eq!(p.measured_on.as_deref(), Some("held-out text"));
    // no aux head, no measured_on: both optional
    let mut q = profile();
    q["trained_by_auxiliary_loss"] = Value::Null;
    q.as_object_mut().expect("object").remove("measured_on");
    let p = load(&q).expect("valid").heads.expect("the profile");
    assert!(p.trained_by_auxiliary_loss.is_none() && p.measured_on.is_none());
    // a model loaded without a profile has none
    assert!(Engine::load(TINY, TOKENIZER).expect("loads").heads.is_none());
}

#[cfg(feature = "builtin-model")]
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_builtin_model_has_its_profile_exactly_when_the_build_found_one() {
    let e = Engine::builtin().unwrap_or_else(|err| panic!("the built-in model and its profile must load: {err}"));
    assert_eq!(e.heads.is_some(), attention_explorer::BUILTIN_HEADS.is_some());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn profiles_that_do_not_fit_the_model_are_refused() {
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|p| p["model"] = json!("another model")),
            "`model`: expected the profile of \"attention-explorer tiny-2L test model\", found one for \"another model\"",
        ),
        (
            Box::new(|p| p["heads"].as_array_mut().expect("heads").truncate(3)),
            "`heads`: expected every head of the model (2 layers × 2 heads) once, found none for layer 1 head 0",
        ),
        (
            Box::new(|p| p["heads"][3]["head"] = json!(1)),
            "`heads[3]`: expected each head once, found layer 1 head 1 again (first at heads[0])",
        ),
        (Box::new(|p| p["heads"][0]["layer"] = json!(2)), "`heads[0].layer`: expected a layer index in 0..2, found 2"),
        (Box::new(|p| p["heads"][0]["head"] = json!(-1)), "`heads[0].head`: expected a head index in 0..2, found -1"),
        (Box::new(|p| p["heads"][1]["name"] = json!("")), "`heads[1].name`: expected a name of 1 to 40 characters, found \"\" (0)"),
        (Box::new(|p| p["heads"][1]["name"] = json!("x".repeat(41))), "expected a name of 1 to 40 characters"),
        (
            Box::new(|p| p["heads"][1]["name"] = json!("induction")),
            "`heads[1].name`: expected one of the rules' names (\"previous token\", \"broad\"), found \"induction\"",
        ),
        (Box::new(|p| p["heads"][2]["prev"] = json!(1.5)), "`heads[2].prev`: expected a number in 0..=1, found 1.5"),
        (Box::new(|p| p["heads"][2]["self"] = json!("high")), "`heads[2].self`: expected a number in 0..=1, found \"high\""),
        (Box::new(|p| p["heads"][2]["induction"] = Value::Null), "`heads[2].induction`: expected a number in 0..=1, found null"),
        (Box::new(|p| p["heads"][2]["mean_distance"] = json!(-3)), "`heads[2].mean_distance`: expected a number finite and ≥ 0, found -3"),
        (
            Box::new(|p| {
                p["heads"][2].as_object_mut().expect("head").remove("start");
            }),
            "`heads[2].start`: expected a number in 0..=1, found nothing",
        ),
        (Box::new(|p| p["rules"][0]["name"] = json!(7)), "`rules[0].name`: expected a string, found 7"),
        (Box::new(|p| p["rules"] = json!({})), "`rules`: expected an array, found an object"),
        (
            Box::new(|p| p["trained_by_auxiliary_loss"]["head"] = json!(5)),
            "`trained_by_auxiliary_loss.head`: expected a head index in 0..2, found 5",
        ),
        (
            Box::new(|p| p["trained_by_auxiliary_loss"] = json!("layer 0")),
            "`trained_by_auxiliary_loss`: expected an object or null, found \"layer 0\"",
        ),
        (Box::new(|p| *p = json!([1, 2])), "expected a JSON object, found an array"),
    ];
    for (edit, says) in cases {
        let message = refused(edit);
        assert!(message.starts_with("the head profile cannot be used: "), "{message}");
        assert!(message.contains(says), "message {message:?} should contain {says:?}");
    }
    // finite numbers only: 1e999 is ∞
    let text = profile().to_string().replace("\"mean_distance\":2.5", "\"mean_distance\":1e999");
    let e = Engine::load(TINY, TOKENIZER).expect("loads").with_heads(text.as_bytes()).expect_err("∞ is refused");
    assert!(e.to_string().contains("mean_distance`: expected a number finite and ≥ 0, found 1e999"), "{e}");
    let e = Engine::load(TINY, TOKENIZER).expect("loads").with_heads(b"{\"model\": ").expect_err("broken JSON");
    assert!(e.to_string().starts_with("the head profile cannot be used: at byte"), "{e}");
}
