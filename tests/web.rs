//! Browser-only tests: the build really uses simd128, and the JavaScript surface (`Explorer`) hands
//! out plain objects with `Float32Array` matrices and readable errors. Run by
//! `wasm-pack test --headless --chrome`; natively this file compiles to nothing.
#![cfg(target_arch = "wasm32")]

use attention_explorer::wasm::Explorer;
use js_sys::{Array, Float32Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or_else(|_| panic!("no property {key}"))
}

fn message(e: wasm_bindgen::JsError) -> String {
    let v: JsValue = e.into();
    get(&v, "message").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
fn simd128_is_on() {
    assert!(cfg!(target_feature = "simd128"), "the wasm build must enable +simd128 (.cargo/config.toml)");
}

#[wasm_bindgen_test]
fn analyze_returns_plain_objects_with_float32_matrices() {
    let ex = Explorer::new().expect("built-in model");
    let opts = Object::new();
    Reflect::set(&opts, &"neighbours".into(), &JsValue::TRUE).expect("set");
    let trace = ex.analyze("the quick brown fox", opts.into()).expect("analysis");
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
    let before = ex.count_tokens("hello world");
    assert!(message(ex.analyze("", JsValue::UNDEFINED).err().expect("empty text is refused")).contains("nothing to analyse"));
    let bad = Object::new();
    Reflect::set(&bad, &"temperature".into(), &JsValue::from_str("hot")).expect("set");
    assert!(message(ex.analyze("hi", bad.into()).err().expect("bad options")).contains("invalid options"));
    let opts = |js: &str| js_sys::JSON::parse(js).expect("JSON");
    for (js, says) in [
        (r#"{"tempreature": 2}"#, "unknown option `tempreature`"),
        (r#"{"scale": "no"}"#, "`scale` must be true or false, found string"),
        (r#"{"top_k": 2.5}"#, "`top_k` must be a whole number"),
        (r#"{"disabled_heads": [[0]]}"#, "[layer, head] pair"),
        (r#"{"disabled_heads": 3}"#, "found number"),
        ("[1, 2]", "found an array"),
    ] {
        let msg = message(ex.analyze("hi", opts(js)).err().unwrap_or_else(|| panic!("{js} is refused")));
        assert!(msg.contains(says), "{js}: {msg}");
    }
    let ok = ex.analyze("hi there", opts(r#"{"predict_position": null, "disabled_heads": [[0, 1]], "top_k": 3}"#)).expect("valid options");
    assert_eq!(js_sys::Array::from(&get(&get(&ok, "predict"), "top")).length(), 3);
    let err = ex.load(b"not a model", b"{}").err().expect("garbage is refused");
    assert!(message(err).contains("weights"));
    assert_eq!(ex.count_tokens("hello world"), before, "the previous model is still loaded");
    assert!(ex.analyze("still working", JsValue::UNDEFINED).is_ok());
}
