//! Browser-only tests: the build really uses simd128, and the JavaScript surface (`Explorer`) hands
//! out plain objects with `Float32Array` matrices and readable errors. Run by
//! `wasm-pack test --headless --chrome`; natively this file compiles to nothing.
#![cfg(target_arch = "wasm32")]

use attention_explorer::wasm::Explorer;
use js_sys::{Array, Float32Array, JsString, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or_else(|_| panic!("no property {key}"))
}

fn jstr(s: &str) -> JsString {
    JsString::from(s)
}

fn message(e: wasm_bindgen::JsError) -> String {
    let v: JsValue = e.into();
    get(&v, "message").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
#[allow(clippy::assertions_on_constants)] // a failing test run, not a compile error, is the report wanted
fn simd128_is_on() {
    assert!(cfg!(target_feature = "simd128"), "the wasm build must enable +simd128 (.cargo/config.toml)");
}

#[wasm_bindgen_test]
fn analyze_returns_plain_objects_with_float32_matrices() {
    let ex = Explorer::new().expect("built-in model");
    let opts = Object::new();
    Reflect::set(&opts, &"neighbours".into(), &JsValue::TRUE).expect("set");
    let trace = ex.analyze(&jstr("the quick brown fox"), opts.into()).expect("analysis");
    let tokens: Array = get(&trace, "tokens").dyn_into().expect("tokens is an array");
    let t = tokens.length();
    assert!(t > 0);
    let layers: Array = get(&trace, "layers").dyn_into().expect("layers is an array");
    let head = Array::from(&get(&layers.get(0), "heads")).get(0);
    let weights = get(&head, "weights");
    let shape: Array = get(&weights, "shape").dyn_into().expect("shape");
    assert_eq!(shape.get(0).as_f64(), Some(t as f64));
    let data: Float32Array = get(&weights, "data").dyn_into().expect("data is a Float32Array");
    assert_eq!(data.length(), t * t);
    let masked: Float32Array = get(&get(&head, "masked"), "data").dyn_into().expect("Float32Array");
    if t > 1 {
        assert_eq!(masked.get_index(1), f32::NEG_INFINITY, "masked keeps −∞ above the diagonal");
    }
    assert!(get(&trace, "neighbours").is_object());
    let mlp = get(&layers.get(0), "mlp");
    assert!(mlp.is_null() || mlp.is_object(), "mlp is an object or null, never undefined");
    let info = ex.info().expect("info");
    assert!(get(&get(&info, "config"), "d_model").as_f64().unwrap_or(0.0) > 0.0);
}

#[wasm_bindgen_test]
fn errors_are_readable_and_the_model_survives_a_bad_load() {
    let mut ex = Explorer::new().expect("built-in model");
    let before = ex.count_tokens(&jstr("hello world"));
    assert!(message(ex.analyze(&jstr(""), JsValue::UNDEFINED).expect_err("empty text is refused")).contains("nothing to analyse"));
    let bad = Object::new();
    Reflect::set(&bad, &"temperature".into(), &JsValue::from_str("hot")).expect("set");
    assert!(message(ex.analyze(&jstr("hi"), bad.into()).expect_err("bad options")).contains("invalid options"));
    let opts = |js: &str| js_sys::JSON::parse(js).expect("JSON");
    for (js, says) in [
        (r#"{"tempreature": 2}"#, "unknown option `tempreature`"),
        (r#"{"scale": "no"}"#, "`scale` must be true or false, found a string (\"no\")"),
        (r#"{"top_k": 2.5}"#, "`top_k` must be a whole number"),
        (r#"{"disabled_heads": [[0]]}"#, "[layer, head] pair"),
        (r#"{"disabled_heads": 3}"#, "found a number (3)"),
        ("[1, 2]", "found an array"),
    ] {
        let msg = message(ex.analyze(&jstr("hi"), opts(js)).err().unwrap_or_else(|| panic!("{js} is refused")));
        assert!(msg.contains(says), "{js}: {msg}");
    }
    let ok = ex
        .analyze(&jstr("hi there"), opts(r#"{"predict_position": null, "disabled_heads": [[0, 1]], "top_k": 3}"#))
        .expect("valid options");
    assert_eq!(js_sys::Array::from(&get(&get(&ok, "predict"), "top")).length(), 3);
    let err = ex.load(b"not a model", b"{}", None).expect_err("garbage is refused");
    assert!(message(err).contains("weights"));
    assert_eq!(ex.count_tokens(&jstr("hello world")), before, "the previous model is still loaded");
    assert!(ex.analyze(&jstr("still working"), JsValue::UNDEFINED).is_ok());
}

fn eval(js: &str) -> JsValue {
    js_sys::eval(js).unwrap_or_else(|e| panic!("{js}: {e:?}"))
}

#[wasm_bindgen_test]
fn options_from_javascript_that_json_could_not_carry_get_clear_messages() {
    let ex = Explorer::new().expect("built-in model");
    for (js, says) in [
        ("({ predict_position: 1n })", "`predict_position` must be a whole number below 64 (the context) or null, found a BigInt"),
        ("({ temperature: NaN })", "`temperature` must be a number from 0.01 to 100, found NaN"),
        ("({ temperature: 1e-30 })", "found 1e-30"),
        ("({ disabled_heads: 'abc' })", "`disabled_heads` must be an array of [layer, head] pairs, found a string (\"abc\")"),
        ("({ disabled_heads: [1, 2] })", "`disabled_heads[0]` must be a [layer, head] pair of whole numbers, found a number (1)"),
        ("({ disabled_heads: [null] })", "found null"),
        ("({ disabled_heads: {} })", "found an object"),
        ("({ disabled_heads: ['01'] })", "`disabled_heads[0]` must be a [layer, head] pair of whole numbers, found a string (\"01\")"),
        ("({ neighbours: () => true })", "`neighbours` must be true or false, found a function"),
        ("({ scale: Symbol('x') })", "found a symbol"),
        ("({ disabled_heads: [[[0], 1]] })", "`disabled_heads[0][0]` (a layer) must be a whole number below 2 (the model's layers), found a value nested deeper than any option goes"),
        ("({ disabled_heads: new Array(300000) })", "found an array of 300000"),
        ("NaN", "found a number (NaN)"),
        ("({ get temperature() { throw new Error('no') } })", "invalid options: `temperature` cannot be read (a getter or proxy threw)"),
        ("new Proxy({}, { ownKeys() { throw new Error('no') } })", "invalid options: the options object cannot be read (a getter or proxy threw)"),
    ] {
        let err = ex.analyze(&jstr("the cat sat"), eval(js)).err().unwrap_or_else(|| panic!("{js} was accepted"));
        let msg = message(err);
        assert!(msg.contains(says), "{js}: {msg}");
        let err = ex.validate(eval(js)).err().unwrap_or_else(|| panic!("{js} was accepted by validate"));
        assert_eq!(message(err), msg, "{js}: validate and analyze say the same");
    }
    // nothing above left the Explorer borrowed: it still analyses
    assert!(ex.analyze(&jstr("still working"), JsValue::UNDEFINED).is_ok());
}

#[wasm_bindgen_test]
fn validate_returns_the_canonical_options_and_their_key() {
    let ex = Explorer::new().expect("built-in model");
    let valid = |js: &str| ex.validate(eval(js)).unwrap_or_else(|e| panic!("{js}: {}", message(e)));
    let a = valid("({ disabled_heads: [[1, 0], [0, 2], [1, 0]], predict_position: null })");
    let b = valid("({ predict_position: undefined, disabled_heads: [[0, 2], [1, 0]] })");
    assert_eq!(get(&a, "key").as_string(), get(&b, "key").as_string());
    let heads = js_sys::JSON::stringify(&get(&get(&a, "options"), "disabled_heads")).expect("json");
    assert_eq!(heads.as_string().as_deref(), Some("[[0,2],[1,0]]"));
    assert!(get(&get(&a, "options"), "predict_position").is_null(), "null, not undefined");
    let c = valid("({ predict_position: 0 })");
    assert_ne!(get(&a, "key").as_string(), get(&c, "key").as_string());
    // the canonical options analyse to the same trace as the originals
    let canonical = get(&a, "options");
    let t = ex.analyze(&jstr("the cat sat on the mat"), canonical).expect("canonical options are valid");
    let again = get(&valid("({ disabled_heads: [[0, 2], [1, 0]] })"), "key");
    assert_eq!(get(&a, "key").as_string(), again.as_string());
    assert!(get(&t, "options").is_object());
}

#[wasm_bindgen_test]
fn a_huge_javascript_string_is_cut_before_it_is_copied_into_wasm() {
    let ex = Explorer::new().expect("built-in model");
    for js in ["'\\uD800'.repeat(500000)", "'\\n'.repeat(2 ** 20)", "'ab' + '\\uD83E\\uDD8A'.repeat(40000)"] {
        let text: JsString = eval(js).into();
        let units = text.length() as usize;
        let start = js_sys::Date::now();
        let trace = ex.analyze(&text, JsValue::UNDEFINED).expect("analysis");
        let elapsed = js_sys::Date::now() - start;
        let cut = get(&trace, "text_cut").as_f64().unwrap_or(-1.0) as usize;
        assert!(
            cut >= units - attention_explorer::MAX_TEXT_UNITS && cut <= units - attention_explorer::MAX_TEXT_UNITS + 1,
            "{js}: cut {cut} of {units}"
        );
        let tokens = Array::from(&get(&trace, "tokens"));
        let last = tokens.get(tokens.length() - 1);
        assert_eq!(get(&last, "end").as_f64(), Some(units as f64), "{js}: offsets index the whole string");
        assert!(get(&trace, "notice").as_string().is_some_and(|n| n.contains("only its last 65,536 were read")), "{js}");
        assert!(elapsed < 2000.0, "{js}: {elapsed} ms");
        assert!(ex.count_tokens(&text) > 0);
    }
    // a cut that would start inside a surrogate pair starts after it: no U+FFFD for half a fox
    let text: JsString = eval("'\\uD83E\\uDD8A'.repeat(40000) + 'a'").into();
    let trace = ex.analyze(&text, JsValue::UNDEFINED).expect("analysis");
    assert_eq!(get(&trace, "text_cut").as_f64(), Some(80_001.0 - 65_536.0 + 1.0), "one more unit: the low half");
}

const ROPE: &[u8] = include_bytes!("fixtures/tiny/rope.safetensors");
const TINY_TOKENIZER: &[u8] = include_bytes!("fixtures/tiny/tokenizer.json");
const ROPE_GOLDEN: &str = include_str!("fixtures/tiny/golden_rope.json");

fn f32s(m: &JsValue) -> Vec<f32> {
    let data: Float32Array = get(m, "data").dyn_into().expect("data is a Float32Array");
    data.to_vec()
}

fn flat(v: &serde_json::Value, out: &mut Vec<f32>) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|x| flat(x, out)),
        other => out.push(other.as_f64().expect("a number") as f32),
    }
}

/// `ours` (the JS trace's numbers) against the golden array, as tests/golden.rs compares them.
fn close(what: &str, ours: &[f32], want: &serde_json::Value, tol: f32) {
    let mut w = Vec::new();
    flat(want, &mut w);
    assert_eq!(ours.len(), w.len(), "{what}: expected {} values, found {}", w.len(), ours.len());
    for (i, (a, b)) in ours.iter().zip(&w).enumerate() {
        assert!((a - b).abs() <= tol * b.abs().max(1.0), "{what}[{i}]: golden {b}, the JS trace has {a}");
    }
}

/// The rotary fixture through the JavaScript surface: every intermediate of every golden case, the
/// rotated queries and keys included, read from the plain objects JS gets; the start token first.
#[wasm_bindgen_test]
fn rotary_traces_reach_javascript_with_every_intermediate() {
    let ex = Explorer::from_bytes(ROPE, TINY_TOKENIZER, None).expect("the rotary fixture loads");
    let info = ex.info().expect("info");
    let positions = get(&get(&info, "config"), "positions");
    assert_eq!(get(&positions, "kind").as_string().as_deref(), Some("rope"));
    assert_eq!(get(&positions, "base").as_f64(), Some(100.0));
    assert_eq!(get(&get(&info, "config"), "bos_id").as_f64(), Some(0.0));
    assert!(get(&info, "heads").is_null(), "a model loaded without a profile has none");
    assert_eq!(ex.count_tokens(&jstr("a")), 2, "the start token counts");

    let golden: serde_json::Value = serde_json::from_str(ROPE_GOLDEN).expect("JSON");
    let tol = golden["tolerance"].as_f64().expect("tolerance") as f32;
    for case in golden["cases"].as_array().expect("cases") {
        let text = case["text"].as_str().expect("text");
        let trace = ex.analyze(&jstr(text), JsValue::UNDEFINED).expect("analysis");
        let tokens = Array::from(&get(&trace, "tokens"));
        let ids: Vec<f64> = tokens.iter().map(|t| get(&t, "id").as_f64().expect("id")).collect();
        let want: Vec<f64> = case["ids"].as_array().expect("ids").iter().map(|v| v.as_f64().expect("id")).collect();
        assert_eq!(ids, want, "{text:?}: ids, the start token first");
        assert_eq!(get(&tokens.get(0), "special").as_bool(), Some(true));
        assert_eq!(get(&tokens.get(0), "text").as_string().as_deref(), Some("<|endoftext|>"));
        assert!(get(&trace, "position_embeddings").is_null(), "no position table with rotary positions");
        close(&format!("{text:?} embeddings"), &f32s(&get(&trace, "embeddings")), &case["embeddings"], tol);
        let layers = Array::from(&get(&trace, "layers"));
        for (l, want) in case["layers"].as_array().expect("layers").iter().enumerate() {
            let layer = layers.get(l as u32);
            let at = |name: &str| format!("{text:?} layer {l} {name}");
            for name in ["normed", "delta", "updated", "output"] {
                close(&at(name), &f32s(&get(&layer, name)), &want[name], tol);
            }
            close(&at("mlp_out"), &f32s(&get(&get(&layer, "mlp"), "out")), &want["mlp_out"], tol);
            let heads = Array::from(&get(&layer, "heads"));
            for name in ["queries", "keys", "rotated_queries", "rotated_keys", "values", "scores", "scaled", "weights", "mixed"] {
                let ours: Vec<f32> = heads.iter().flat_map(|h| f32s(&get(&h, name))).collect();
                close(&at(name), &ours, &want[name], tol);
            }
        }
        let predict = get(&trace, "predict");
        close(&format!("{text:?} logits_last"), &f32s(&get(&predict, "logits")), &case["logits_last"], tol);
        close(&format!("{text:?} probs_last"), &f32s(&get(&predict, "probs")), &case["probs_last"], tol);
    }
}

/// A learned-position model: no rotated matrices (null), a position table, no start token; a head
/// profile given as the third argument of load reaches info().heads.
#[wasm_bindgen_test]
fn learned_traces_have_null_rotations_and_profiles_reach_info() {
    let mut ex = Explorer::from_bytes(include_bytes!("fixtures/tiny/model.safetensors"), TINY_TOKENIZER, None).expect("loads");
    let trace = ex.analyze(&jstr("the fox"), JsValue::UNDEFINED).expect("analysis");
    let head = Array::from(&get(&Array::from(&get(&trace, "layers")).get(0), "heads")).get(0);
    assert!(get(&head, "rotated_queries").is_null() && get(&head, "rotated_keys").is_null());
    assert!(get(&trace, "position_embeddings").is_object());
    assert_eq!(get(&Array::from(&get(&trace, "tokens")).get(0), "special").as_bool(), Some(false));
    let config = get(&ex.info().expect("info"), "config");
    assert_eq!(get(&get(&config, "positions"), "kind").as_string().as_deref(), Some("learned"));
    assert!(get(&config, "bos_id").is_null());

    let heads: Vec<String> = (0..4)
        .map(|k| format!(r#"{{"layer":{},"head":{},"name":"broad","prev":0.1,"self":0.2,"start":0.3,"duplicate":0,"induction":0,"mean_distance":2}}"#, k / 2, k % 2))
        .collect();
    let profile = format!(
        r#"{{"model":"attention-explorer tiny-2L test model","rules":[{{"name":"broad","when":"always"}}],"trained_by_auxiliary_loss":null,"heads":[{}]}}"#,
        heads.join(",")
    );
    ex.load(include_bytes!("fixtures/tiny/model.safetensors"), TINY_TOKENIZER, Some(profile.into_bytes())).expect("loads with a profile");
    let info = ex.info().expect("info");
    let list = Array::from(&get(&get(&info, "heads"), "heads"));
    assert_eq!(list.length(), 4);
    assert_eq!(get(&list.get(3), "layer").as_f64(), Some(1.0));
    assert_eq!(get(&list.get(0), "self").as_f64().map(|x| (x * 10.0).round()), Some(2.0));
    let err = ex.load(ROPE, TINY_TOKENIZER, Some(b"{}".to_vec())).expect_err("a profile that does not fit is refused");
    assert!(message(err).contains("the head profile cannot be used"));
    assert!(get(&ex.info().expect("info"), "heads").is_object(), "the previous model and profile stay loaded");
}
