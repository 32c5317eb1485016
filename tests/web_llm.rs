//! Browser-only tests of `LlmExplorer`, the large-model surface: plain objects with `Float32Array`
//! matrices, every step of `view`, readable errors for bad GGUF files with the previous model kept,
//! and SmolLM2 against its float64 golden file when the test server can serve
//! models/smollm2-135m.Q4_1.gguf (wasm-bindgen-test-runner serves the crate directory as a fallback;
//! a symlink out of it is refused, so the note says when the file is skipped).
#![cfg(target_arch = "wasm32")]

mod support;

use attention_explorer::llm::Llm;
use attention_explorer::wasm::LlmExplorer;
use js_sys::{Array, Float32Array, Function, JsString, Object, Promise, Reflect, Uint8Array};
use support::gguf_writer::{s, tiny_llama, V};
use support::llama_golden::{assert_within, compare};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TINY: &[u8] = include_bytes!("fixtures/gguf/tiny-llama.gguf");

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or_else(|_| panic!("no property {key}"))
}

fn num(v: &JsValue, key: &str) -> f64 {
    get(v, key).as_f64().unwrap_or_else(|| panic!("{key} is not a number"))
}

fn message(e: wasm_bindgen::JsError) -> String {
    let v: JsValue = e.into();
    get(&v, "message").as_string().unwrap_or_default()
}

fn tiny() -> LlmExplorer {
    LlmExplorer::from_gguf(&Uint8Array::from(TINY), None).expect("the tiny Llama loads")
}

/// (rows, cols) of a `{shape, data}` matrix, checking that data is a Float32Array of rows·cols.
fn shape(m: &JsValue) -> (u32, u32) {
    let s: Array = get(m, "shape").dyn_into().expect("shape is an array");
    let (r, c) = (s.get(0).as_f64().expect("rows") as u32, s.get(1).as_f64().expect("cols") as u32);
    let data: Float32Array = get(m, "data").dyn_into().expect("data is a Float32Array");
    assert_eq!(data.length(), r * c);
    (r, c)
}

#[wasm_bindgen_test]
fn info_summary_and_views_are_plain_objects() {
    let mut ex = tiny();
    let info = ex.info().expect("info");
    assert_eq!(get(&info, "family").as_string().as_deref(), Some("llama"));
    let c = get(&info, "config");
    assert_eq!((num(&c, "n_heads"), num(&c, "n_kv_heads"), num(&c, "d_head")), (2.0, 1.0, 16.0));
    assert_eq!(get(&get(&c, "positions"), "kind").as_string().as_deref(), Some("rope"));
    assert!(get(&info, "heads").is_null() && get(&c, "bos_id").is_null());
    assert_eq!(Array::from(&get(&info, "steps")).length(), 13);

    let summary = ex.analyze(&JsString::from("ab abc de ab abc de"), JsValue::UNDEFINED).expect("analysis");
    let t = Array::from(&get(&summary, "tokens")).length();
    let heads = Array::from(&get(&summary, "heads"));
    assert_eq!(heads.length(), 4);
    let h = heads.get(3);
    assert_eq!((num(&h, "layer"), num(&h, "head"), num(&h, "kv_head")), (1.0, 1.0, 0.0));
    assert!(num(&h, "prev") >= 0.0 && num(&h, "induction") >= 0.0 && num(&h, "self") >= 0.0);
    assert_eq!(shape(&get(&h, "thumbnail")), (t, t));
    assert!(Array::from(&get(&get(&summary, "predict"), "top")).length() > 0);

    let wants: [(&str, &str, (u32, u32)); 6] = [
        ("embed", "embeddings", (t, 32)),
        ("keys", "keys", (t, 16)),
        ("rotate", "rotated_queries", (t, 16)),
        ("masked", "masked", (t, t)),
        ("delta", "delta", (t, 32)),
        ("update", "mlp_hidden", (t, 64)),
    ];
    for (step, name, want) in wants {
        let v = ex.view(1.0, 1.0, step).unwrap_or_else(|e| panic!("{step}: {}", message(e)));
        assert_eq!(shape(&get(&get(&v, "matrices"), name)), want, "{step}.{name}");
    }
    let masked: Float32Array =
        get(&get(&get(&ex.view(0.0, 0.0, "masked").expect("masked"), "matrices"), "masked"), "data").dyn_into().expect("data");
    assert_eq!(masked.get_index(1), f32::NEG_INFINITY, "−∞ above the diagonal");
    let p = ex.view(0.0, 0.0, "predict").expect("predict");
    assert_eq!(shape(&get(&get(&p, "matrices"), "probs")), (1, 264));
    assert!(Array::is_array(&get(&p, "top")));
    assert!(get(&ex.view(0.0, 0.0, "weights").expect("weights"), "top").is_null());
}

#[wasm_bindgen_test]
fn bad_requests_are_readable_errors() {
    let mut ex = tiny();
    assert!(message(ex.view(0.0, 0.0, "weights").unwrap_err()).contains("there is no analysis to view"));
    ex.analyze(&JsString::from("ab"), JsValue::UNDEFINED).expect("analysis");
    assert_eq!(message(ex.view(-1.0, 0.0, "weights").unwrap_err()), "`layer` must be a whole number ≥ 0, found -1");
    assert_eq!(message(ex.view(0.0, 0.5, "weights").unwrap_err()), "`head` must be a whole number ≥ 0, found 0.5");
    assert!(message(ex.view(9.0, 0.0, "weights").unwrap_err()).contains("the model has layers 0..2"));
    assert!(message(ex.view(0.0, 0.0, "tokens").unwrap_err()).starts_with("unknown step `tokens`"));
    let opts = Object::new();
    Reflect::set(&opts, &"neighbours".into(), &JsValue::TRUE).expect("set");
    assert!(message(ex.analyze(&JsString::from("ab"), opts.into()).unwrap_err()).contains("`neighbours` is not offered"));
    assert!(message(ex.analyze(&JsString::from(""), JsValue::UNDEFINED).unwrap_err()).contains("nothing to analyse"));
    assert!(ex.view(0.0, 0.0, "weights").is_ok(), "the last analysis survives refused requests");
}

#[wasm_bindgen_test]
fn bad_gguf_files_are_refused_and_the_previous_model_stays() {
    let mut ex = tiny();
    ex.analyze(&JsString::from("ab abc"), JsValue::UNDEFINED).expect("analysis");
    let mut wrong_magic = TINY.to_vec();
    wrong_magic[..4].copy_from_slice(b"GGML");
    let mut phi = tiny_llama(1);
    phi.kv("general.architecture", s("phi3"));
    let mut q5k = tiny_llama(1);
    q5k.find("blk.0.attn_q.weight").ty = 13;
    let mut absurd = tiny_llama(1);
    absurd.kv("llama.embedding_length", V::U64(1 << 40));
    let cases: [(Vec<u8>, &str); 5] = [
        (TINY[..TINY.len() / 2].to_vec(), "the weights file cannot be used: file ends at byte 13376 inside tensor"),
        (wrong_magic, "expected magic GGUF (47 47 55 46), found 47 47 4d 4c"),
        (phi.bytes(), "architecture `phi3` is not supported (llama is)"),
        (q5k.bytes(), "tensor type Q5_K (13) of blk.0.attn_q.weight is not supported"),
        (absurd.bytes(), "absurd sizes: llama.embedding_length = 1099511627776"),
    ];
    for (bytes, want) in cases {
        let got = message(ex.load(&Uint8Array::from(bytes.as_slice()), None).unwrap_err());
        assert!(got.contains(want), "expected {want:?}, found {got:?}");
        assert!(message(LlmExplorer::from_gguf(&Uint8Array::from(bytes.as_slice()), None).err().expect("refused")).contains(want));
    }
    assert!(ex.view(0.0, 0.0, "weights").is_ok(), "the analysis of the previous model stays");
    assert_eq!(get(&ex.info().expect("info"), "name").as_string().as_deref(), Some("tiny llama for tests"));
    ex.analyze(&JsString::from("de"), JsValue::UNDEFINED).expect("the previous model still analyses");
    assert!(LlmExplorer::max_file_bytes() >= 1 << 30);
}

/// The file from the test server, or None (with a note) if it cannot be had.
async fn fetch(path: &str) -> Option<Vec<u8>> {
    let global = js_sys::global();
    let fetch: Function = get(&global, "fetch").dyn_into().ok()?;
    let response = JsFuture::from(fetch.call1(&global, &path.into()).ok()?.dyn_into::<Promise>().ok()?).await.ok()?;
    if !get(&response, "ok").as_bool().unwrap_or(false) {
        web_sys::console::log_1(&format!("skipped: the test server does not serve {path} (status {})", num(&response, "status")).into());
        return None;
    }
    let read: Function = get(&response, "arrayBuffer").dyn_into().ok()?;
    let buffer = JsFuture::from(read.call0(&response).ok()?.dyn_into::<Promise>().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

const GOLDEN: &str = include_str!("fixtures/smollm2/golden.json");

#[wasm_bindgen_test]
async fn smollm2_matches_the_float64_reference_in_the_browser() {
    let Some(bytes) = fetch("/models/smollm2-135m.Q4_1.gguf").await else { return };
    let mut llm = Llm::load(bytes, None).expect("SmolLM2 loads");
    let golden: serde_json::Value = serde_json::from_str(GOLDEN).expect("golden.json");
    let worst = compare(&mut llm, &golden);
    for w in &worst {
        web_sys::console::log_1(&format!("SmolLM2 in Chromium: {:<16} max rel {:.2e}", w.name, w.rel).into());
    }
    assert_within(&worst, 1e-3, "SmolLM2 in Chromium");
    let s = llm.analyze("The capital of France is", &Default::default()).expect("analysis");
    assert_eq!(s.predict.top[0].text, " Paris");
}
