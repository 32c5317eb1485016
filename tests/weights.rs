//! The safetensors reader: the tiny fixtures load with the values the NumPy reference used, and every
//! kind of damaged or hostile file is refused with a message naming what was expected and found.

use attention_explorer::weights::{self, f16_to_f32, load, WeightsError};
use serde_json::{json, Map, Value};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const TINY: &[u8] = include_bytes!("fixtures/tiny/model.safetensors");
const ATTN_ONLY: &[u8] = include_bytes!("fixtures/tiny/attn_only.safetensors");
const GOLDEN: &str = include_str!("fixtures/tiny/golden.json");
const SHIPPED: &[u8] = include_bytes!("../model/model.safetensors");

/// A safetensors file split into its header (as JSON) and its data section.
fn split(file: &[u8]) -> (Map<String, Value>, Vec<u8>) {
    let n = u64::from_le_bytes(file[..8].try_into().expect("8 bytes")) as usize;
    let header: Value = serde_json::from_slice(&file[8..8 + n]).expect("fixture header is JSON");
    (header.as_object().expect("object").clone(), file[8 + n..].to_vec())
}

/// The inverse of `split`: length prefix, JSON header, data.
fn join(header: &Map<String, Value>, data: &[u8]) -> Vec<u8> {
    let text = Value::Object(header.clone()).to_string();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

/// The tiny fixture with `edit` applied to its header and data.
fn edited(edit: impl FnOnce(&mut Map<String, Value>, &mut Vec<u8>)) -> Vec<u8> {
    let (mut header, mut data) = split(TINY);
    edit(&mut header, &mut data);
    join(&header, &data)
}

fn error_of(file: &[u8]) -> String {
    match load(file) {
        Ok(_) => panic!("expected the file to be refused, it loaded"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that loading fails with a message containing every one of `parts`.
fn assert_refused(file: &[u8], parts: &[&str]) {
    let message = error_of(file);
    for part in parts {
        assert!(message.contains(part), "message {message:?} should contain {part:?}");
    }
}

fn offsets(header: &Map<String, Value>, name: &str) -> (usize, usize) {
    let o = &header[name]["data_offsets"];
    (o[0].as_u64().expect("begin") as usize, o[1].as_u64().expect("end") as usize)
}

fn set_meta(header: &mut Map<String, Value>, key: &str, value: Value) {
    header["__metadata__"].as_object_mut().expect("metadata").insert(key.into(), value);
}

fn config_with(field: &str, value: Value) -> Vec<u8> {
    edited(|h, _| {
        let mut config: Value = serde_json::from_str(h["__metadata__"]["config"].as_str().expect("config")).expect("json");
        config[field] = value;
        set_meta(h, "config", Value::from(config.to_string()));
    })
}

fn golden() -> Value {
    serde_json::from_str(GOLDEN).expect("golden.json parses")
}

fn as_f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

// ---------------------------------------------------------------- the fixtures load

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn tiny_fixture_loads_with_its_config_and_shapes() {
    let w = load(TINY).expect("tiny fixture loads");
    let c = &w.config;
    assert_eq!((c.vocab_size, c.d_model, c.n_layers, c.n_heads, c.d_head, c.d_mlp, c.context), (360, 16, 2, 2, 8, 32, 16));
    assert_eq!(c.ln_eps, 1e-5);
    assert_eq!(w.name, "attention-explorer tiny-2L test model");
    assert_eq!(w.tok_emb.len(), 360 * 16);
    assert_eq!(w.pos_emb.len(), 16 * 16);
    assert_eq!(w.layers.len(), 2);
    for layer in &w.layers {
        assert_eq!((layer.w_q.len(), layer.w_k.len(), layer.w_v.len(), layer.w_o.len()), (256, 256, 256, 256));
        let mlp = layer.mlp.as_ref().expect("the tiny model has an MLP");
        assert_eq!((mlp.w_in.len(), mlp.b_in.len(), mlp.w_out.len(), mlp.b_out.len()), (512, 32, 512, 16));
        assert_eq!((mlp.ln.weight.len(), layer.ln1.bias.len()), (16, 16));
    }
    assert_eq!((w.ln_f.weight.len(), w.ln_f.bias.len()), (16, 16));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn attention_only_fixture_loads_without_mlp() {
    let w = load(ATTN_ONLY).expect("attention-only fixture loads");
    assert_eq!((w.config.n_layers, w.config.n_heads, w.config.d_head, w.config.d_mlp), (1, 4, 4, 0));
    assert!(w.layers[0].mlp.is_none());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn shipped_model_loads() {
    let w = load(SHIPPED).expect("model/model.safetensors loads");
    let c = &w.config;
    assert_eq!(c.n_heads * c.d_head, c.d_model);
    assert_eq!(w.tok_emb.len(), c.vocab_size * c.d_model);
    assert_eq!(w.layers.len(), c.n_layers);
    assert!(w.tok_emb.iter().chain(&w.pos_emb).all(|v| v.is_finite()));
    // and it survives a round trip through the F32 writer
    let again = load(&weights::save(&w)).expect("saved copy loads");
    assert_eq!(again.tok_emb, w.tok_emb);
}

/// tok_emb is stored I8 + scale and pos_emb F16: their expansion must equal the reference's, whose
/// `embeddings` = tok_emb[ids] + pos_emb[0..T] (computed in f64, rounded to f32).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dequantised_embeddings_match_the_reference() {
    let w = load(TINY).expect("loads");
    let d = w.config.d_model;
    let mut checked = 0;
    for case in golden()["cases"].as_array().expect("cases") {
        let ids: Vec<usize> = case["ids"].as_array().expect("ids").iter().map(|x| x.as_u64().expect("id") as usize).collect();
        for (t, (&id, row)) in ids.iter().zip(case["embeddings"].as_array().expect("rows")).enumerate() {
            for (j, expected) in as_f64s(row).into_iter().enumerate() {
                let found = w.tok_emb[id * d + j] + w.pos_emb[t * d + j];
                assert!((f64::from(found) - expected).abs() <= 1e-6, "embeddings[{t}][{j}] = {found}, reference {expected}");
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} values checked");
}

/// Every projection of the tiny model mixes storage types (I8, F16, F32): recompute the reference's
/// queries, keys and values from its `normed` input and the loaded matrices, in f64.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dequantised_projections_match_the_reference() {
    let w = load(TINY).expect("loads");
    let (d, dh) = (w.config.d_model, w.config.d_head);
    let g = golden();
    let case = &g["cases"][3]; // the 16-token case
    for (l, layer) in w.layers.iter().enumerate() {
        let trace = &case["layers"][l];
        let normed: Vec<Vec<f64>> = trace["normed"].as_array().expect("normed").iter().map(as_f64s).collect();
        for (field, matrix) in [("queries", &layer.w_q), ("keys", &layer.w_k), ("values", &layer.w_v)] {
            for (h, head) in trace[field].as_array().expect("heads").iter().enumerate() {
                for (t, row) in head.as_array().expect("rows").iter().enumerate() {
                    for (j, expected) in as_f64s(row).into_iter().enumerate() {
                        let col = h * dh + j;
                        let found: f64 = (0..d).map(|k| normed[t][k] * f64::from(matrix[k * d + col])).sum();
                        assert!((found - expected).abs() <= 2e-5, "layer {l} {field}[{h}][{t}][{j}] = {found}, reference {expected}");
                    }
                }
            }
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn save_then_load_gives_identical_weights() {
    for fixture in [TINY, ATTN_ONLY] {
        let w = load(fixture).expect("loads");
        let again = load(&weights::save(&w)).expect("the saved file loads");
        assert_eq!(again.config, w.config);
        assert_eq!(again.name, w.name);
        assert_eq!(again.tok_emb, w.tok_emb);
        assert_eq!(again.pos_emb, w.pos_emb);
        for (a, b) in again.layers.iter().zip(&w.layers) {
            assert_eq!((&a.w_q, &a.w_k, &a.w_v, &a.w_o, &a.ln1.weight), (&b.w_q, &b.w_k, &b.w_v, &b.w_o, &b.ln1.weight));
            assert_eq!(a.mlp.as_ref().map(|m| (&m.w_in, &m.b_out)), b.mlp.as_ref().map(|m| (&m.w_in, &m.b_out)));
        }
        assert_eq!(again.ln_f.bias, w.ln_f.bias);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn f16_conversion_covers_every_class() {
    assert_eq!(f16_to_f32(0x0000).to_bits(), 0.0f32.to_bits());
    assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
    assert_eq!(f16_to_f32(0x3c00), 1.0);
    assert_eq!(f16_to_f32(0xc000), -2.0);
    assert_eq!(f16_to_f32(0x7bff), 65504.0); // largest finite
    assert_eq!(f16_to_f32(0x0400), 6.103_515_6e-5); // smallest normal, 2⁻¹⁴
    assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8); // smallest subnormal, 2⁻²⁴
    assert_eq!(f16_to_f32(0x03ff), 1023.0 * 5.960_464_5e-8); // largest subnormal
    assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
    assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
    assert!(f16_to_f32(0x7e00).is_nan());
}

// ---------------------------------------------------------------- the length prefix

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn empty_and_tiny_files_are_refused() {
    assert_refused(b"", &["file is 0 bytes", "expected at least 8"]);
    assert_refused(&TINY[..5], &["file is 5 bytes", "expected at least 8"]);
    assert!(matches!(load(&TINY[..7]), Err(WeightsError::TooShort { len: 7 })));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn truncated_files_are_refused_at_every_stage() {
    let (header, data) = split(TINY);
    let header_end = TINY.len() - data.len();
    // only the length prefix: the declared header is not there
    assert_refused(&TINY[..8], &["header length", "expected at most 0 bytes", "found"]);
    // cut inside the header
    assert_refused(&TINY[..header_end / 2], &["header length", &format!("expected at most {} bytes", header_end / 2 - 8)]);
    // the header complete but no data at all
    assert_refused(&TINY[..header_end], &["data_offsets", "within 0..=0"]);
    // cut inside the data, and one byte short
    for cut in [data.len() / 2, data.len() - 1] {
        let message = error_of(&TINY[..header_end + cut]);
        assert!(message.contains(&format!("within 0..={cut}")), "cut {cut}: {message}");
    }
    // one byte too many: the tensors no longer cover the data
    let mut longer = TINY.to_vec();
    longer.push(0);
    assert_refused(&longer, &[&format!("cover all {} data bytes", data.len() + 1), &format!("ending at {}", data.len())]);
    assert!(header.contains_key("tok_emb"));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn oversized_header_lengths_are_refused_without_allocating() {
    for declared in [1u64 << 40, u64::MAX, (16u64 << 20) + 1, TINY.len() as u64] {
        let mut file = TINY.to_vec();
        file[..8].copy_from_slice(&declared.to_le_bytes());
        let message = error_of(&file);
        assert!(message.contains("header length") && message.contains(&format!("found {declared}")), "{message}");
    }
    // a header length within the cap but longer than the file
    let mut big = vec![0u8; 64];
    big[..8].copy_from_slice(&(16u64 << 20).to_le_bytes());
    assert_refused(&big, &["expected at most 56 bytes", "found 16777216"]);
}

// ---------------------------------------------------------------- the header and its metadata

fn with_header_text(text: &[u8]) -> Vec<u8> {
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text);
    out
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn malformed_header_json_is_refused() {
    assert_refused(&with_header_text(b"{\"tok_emb\": {"), &["header", "invalid JSON"]);
    assert_refused(&with_header_text(b"not json"), &["invalid JSON"]);
    assert_refused(&with_header_text(b""), &["invalid JSON"]);
    assert_refused(&with_header_text(b"{\"a\":\"\xff\xfe\"}"), &["invalid JSON"]);
    assert_refused(&with_header_text(b"[1, 2]"), &["expected a JSON object, found an array"]);
    assert_refused(&with_header_text(b"{}"), &["metadata `format`", "no `__metadata__`"]);
    assert_refused(&with_header_text(b"{\"__metadata__\": 3}"), &["`__metadata__` to be an object, found a number"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn wrong_metadata_is_refused() {
    let wrong_format = edited(|h, _| set_meta(h, "format", Value::from("pt")));
    assert_refused(&wrong_format, &["metadata `format`", "expected \"attention-explorer/1\"", "found \"pt\""]);
    let no_format = edited(|h, _| {
        h["__metadata__"].as_object_mut().expect("meta").remove("format");
    });
    assert_refused(&no_format, &["metadata `format`", "found nothing"]);
    let no_config = edited(|h, _| {
        h["__metadata__"].as_object_mut().expect("meta").remove("config");
    });
    assert_refused(&no_config, &["metadata `config`", "found nothing"]);
    let bad_config = edited(|h, _| set_meta(h, "config", Value::from("{\"vocab_size\": 360")));
    assert_refused(&bad_config, &["metadata `config`", "expected {\"vocab_size\":V", "found \"{\\\"vocab_size\\\": 360\""]);
    let number_name = edited(|h, _| set_meta(h, "name", json!(7)));
    assert_refused(&number_name, &["metadata `name`", "expected a string, found a number"]);
    assert_refused(&config_with("d_mlp", json!(-1)), &["metadata `config`", "d_mlp"]);
    let missing_field = edited(|h, _| set_meta(h, "config", Value::from("{\"vocab_size\":360}")));
    assert_refused(&missing_field, &["missing field `d_model`"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn out_of_range_configs_are_refused() {
    assert_refused(&config_with("d_model", json!(0)), &["expected `d_model` in 1..=8192, found 0"]);
    assert_refused(&config_with("n_layers", json!(0)), &["expected `n_layers` in 1..=256, found 0"]);
    assert_refused(&config_with("vocab_size", json!(1u64 << 40)), &["vocab_size"]);
    assert_refused(&config_with("context", json!(100_000)), &["expected `context` in 1..=65536, found 100000"]);
    assert_refused(&config_with("d_mlp", json!(1_000_000)), &["expected `d_mlp` in 0..=65536", "found 1000000"]);
    assert_refused(&config_with("n_heads", json!(3)), &["n_heads × d_head = d_model, found 3 × 8 ≠ 16"]);
    assert_refused(&config_with("ln_eps", json!(-1.0)), &["expected `ln_eps` finite and above 0, found -1"]);
    // a valid config that does not describe the tensors in the file
    assert_refused(&config_with("vocab_size", json!(400)), &["tensor `tok_emb`: expected shape [400, 16], found [360, 16]"]);
    assert_refused(&config_with("n_layers", json!(3)), &["tensor `layers.2.ln1.weight`: expected shape [16], found no such tensor"]);
}

// ---------------------------------------------------------------- tensors: names, shapes, dtypes

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn missing_tensors_are_named() {
    let file = edited(|h, _| {
        h.remove("layers.1.attn.w_o");
    });
    assert_refused(&file, &["tensor `layers.1.attn.w_o`: expected shape [16, 16], found no such tensor"]);
    let file = edited(|h, _| {
        h.remove("ln_f.bias");
    });
    assert_refused(&file, &["tensor `ln_f.bias`: expected shape [16], found no such tensor"]);
    // tok_emb is I8: without its scale it cannot be expanded
    let file = edited(|h, _| {
        h.remove("tok_emb.scale");
    });
    assert_refused(&file, &["tensor `tok_emb.scale`: expected shape [360], found no such tensor"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn unknown_tensors_are_named() {
    for extra in ["layers.0.attn.b_q", "layers.2.attn.w_q", "lm_head.weight", "ln_f.weight.scale", "tok_emb.scale.scale"] {
        let file = edited(|h, d| {
            let begin = d.len();
            d.extend_from_slice(&[0; 64]);
            h.insert(extra.into(), json!({"dtype": "F32", "shape": [16], "data_offsets": [begin, begin + 64]}));
        });
        assert_refused(&file, &[&format!("tensor `{extra}`"), "found this unknown one"]);
    }
}

/// Names the format does not know, including layer numbers written differently (`01`, `+1`).
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn non_canonical_layer_names_are_unknown() {
    for name in ["layers.01.ln1.weight", "layers.+1.ln1.weight", "layers..ln1.weight", "layers.1", "layers.99999999999999999999.ln1.bias"] {
        let file = edited(|h, d| {
            let begin = d.len();
            d.extend_from_slice(&[0; 64]);
            h.insert(name.into(), json!({"dtype": "F32", "shape": [16], "data_offsets": [begin, begin + 64]}));
        });
        assert_refused(&file, &[&format!("tensor `{name}`"), "found this unknown one"]);
    }
}

/// JSON allows a name twice; safetensors does not, and neither do we.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn duplicate_names_are_refused() {
    let (header, data) = split(TINY);
    let text = Value::Object(header.clone()).to_string();
    for (key, value) in [("ln_f.bias", header["ln_f.bias"].to_string()), ("__metadata__", header["__metadata__"].to_string())] {
        let doubled = format!("{{\"{key}\":{value},{}", &text[1..]);
        let mut file = (doubled.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(doubled.as_bytes());
        file.extend_from_slice(&data);
        assert_refused(&file, &[&format!("header: expected each name once, found `{key}` twice")]);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn wrong_shapes_are_refused() {
    let file = edited(|h, _| h["layers.0.attn.w_q"]["shape"] = json!([16, 8]));
    assert_refused(&file, &["tensor `layers.0.attn.w_q`: expected shape [16, 16], found [16, 8]"]);
    let file = edited(|h, _| h["tok_emb"]["shape"] = json!([16, 360]));
    assert_refused(&file, &["tensor `tok_emb`: expected shape [360, 16], found [16, 360]"]);
    let file = edited(|h, _| h["ln_f.weight"]["shape"] = json!([16, 1]));
    assert_refused(&file, &["tensor `ln_f.weight`: expected shape [16], found [16, 1]"]);
    let file = edited(|h, _| h["tok_emb.scale"]["shape"] = json!([16]));
    assert_refused(&file, &["tensor `tok_emb.scale`: expected shape [360], found [16]"]);
    let file = edited(|h, _| h["pos_emb"]["shape"] = json!([]));
    assert_refused(&file, &["tensor `pos_emb`: expected shape [16, 16], found []"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn wrong_dtypes_are_refused() {
    let file = edited(|h, _| h["layers.0.attn.w_v"]["dtype"] = json!("BF16"));
    assert_refused(&file, &["tensor `layers.0.attn.w_v`: expected dtype F32, F16 or I8, found BF16"]);
    let file = edited(|h, _| h["layers.0.attn.w_v"]["dtype"] = json!("F64"));
    assert_refused(&file, &["expected dtype F32, F16 or I8, found F64"]);
    let file = edited(|h, _| h["ln_f.bias"]["dtype"] = json!("I8"));
    assert_refused(&file, &["tensor `ln_f.bias`: expected dtype F32 or F16 (1-D tensors are never I8), found I8"]);
    let file = edited(|h, _| h["tok_emb.scale"]["dtype"] = json!("F16"));
    assert_refused(&file, &["tensor `tok_emb.scale`: expected dtype F32 (the scale of an I8 tensor), found F16"]);
    // the dtype changes the byte size: F32 data declared as F16 is twice too long
    let file = edited(|h, _| h["layers.1.attn.w_q"]["dtype"] = json!("F16"));
    assert_refused(&file, &["tensor `layers.1.attn.w_q`", "expected 512 bytes ([16, 16] × 2 bytes per F16)", "= 1024 bytes"]);
    // a scale for a tensor that is not I8
    let file = edited(|h, d| {
        let begin = d.len();
        d.extend_from_slice(&[0; 64]);
        h.insert("layers.0.attn.w_v.scale".into(), json!({"dtype": "F32", "shape": [16], "data_offsets": [begin, begin + 64]}));
    });
    assert_refused(&file, &["tensor `layers.0.attn.w_v`: expected dtype I8 (the file has a scale tensor for it), found F32"]);
    let file = edited(|h, _| h["ln_f.bias"]["dtype"] = json!(4));
    assert_refused(&file, &["tensor `ln_f.bias`", "expected `dtype` a string, found a number"]);
}

// ---------------------------------------------------------------- offsets

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bad_offsets_are_refused() {
    let (header, data) = split(TINY);
    let n = data.len();
    let (b, e) = offsets(&header, "ln_f.bias");
    let file = edited(|h, _| h["ln_f.bias"]["data_offsets"] = json!([n, n + 64]));
    assert_refused(&file, &["tensor `ln_f.bias`", &format!("within 0..={n}"), &format!("found [{n}, {}]", n + 64)]);
    let file = edited(|h, _| h["ln_f.bias"]["data_offsets"] = json!([e, b]));
    assert_refused(&file, &["begin ≤ end", &format!("found [{e}, {b}]")]);
    let file = edited(|h, _| h["ln_f.bias"]["data_offsets"] = json!([u64::MAX - 1, u64::MAX]));
    assert_refused(&file, &["tensor `ln_f.bias`", "within 0..="]);
    let file = edited(|h, _| h["ln_f.bias"]["data_offsets"] = json!([b, e - 4]));
    assert_refused(&file, &["tensor `ln_f.bias`", "expected 64 bytes ([16] × 4 bytes per F32)", "= 60 bytes"]);
    let file = edited(|h, _| h["ln_f.bias"]["data_offsets"] = json!([b]));
    assert_refused(&file, &["expected `data_offsets` [begin, end], found 1 numbers"]);
    let file = edited(|h, _| h["ln_f.bias"]["data_offsets"] = json!([-64, 0]));
    assert_refused(&file, &["expected `data_offsets` to hold non-negative integers, found -64"]);
    let file = edited(|h, _| h["ln_f.bias"]["shape"] = json!([16.0]));
    assert_refused(&file, &["expected `shape` to hold non-negative integers, found 16.0"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn overlapping_and_gapped_offsets_are_refused() {
    // layers.1.ln1.weight and .bias are both F32 [16]: point the bias at the weight's bytes
    let (header, _) = split(TINY);
    let (wb, we) = offsets(&header, "layers.1.ln1.weight");
    let file = edited(|h, _| h["layers.1.ln1.bias"]["data_offsets"] = json!([wb, we]));
    let message = error_of(&file);
    assert!(message.contains("overlapping") && message.contains(&format!("[{wb}, {we}]")), "{message}");
    // move a tensor to new bytes at the end: its old bytes become a hole
    let file = edited(|h, d| {
        let begin = d.len();
        d.extend_from_slice(&[0; 64]);
        h["layers.1.ln1.bias"]["data_offsets"] = json!([begin, begin + 64]);
    });
    assert_refused(&file, &["found a gap", "belong to no tensor"]);
}

// ---------------------------------------------------------------- values

fn poke(data: &mut [u8], at: usize, bytes: &[u8]) {
    data[at..at + bytes.len()].copy_from_slice(bytes);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn non_finite_values_are_refused_in_every_dtype() {
    let (header, _) = split(TINY);
    // F32 NaN, at flat index 5 of layers.1.attn.w_q
    assert_eq!(header["layers.1.attn.w_q"]["dtype"], "F32");
    let (b, _) = offsets(&header, "layers.1.attn.w_q");
    let file = edited(|_, d| poke(d, b + 5 * 4, &f32::NAN.to_le_bytes()));
    assert_refused(&file, &["tensor `layers.1.attn.w_q`: expected finite values, found NaN at flat index 5"]);
    let file = edited(|_, d| poke(d, b, &f32::NEG_INFINITY.to_le_bytes()));
    assert_refused(&file, &["found -inf at flat index 0"]);
    // F16 +∞ in pos_emb
    assert_eq!(header["pos_emb"]["dtype"], "F16");
    let (b, _) = offsets(&header, "pos_emb");
    let file = edited(|_, d| poke(d, b + 2 * 17, &0x7c00u16.to_le_bytes()));
    assert_refused(&file, &["tensor `pos_emb`: expected finite values, found inf at flat index 17"]);
    // I8 with a NaN scale
    assert_eq!(header["tok_emb"]["dtype"], "I8");
    let (b, _) = offsets(&header, "tok_emb.scale");
    let file = edited(|_, d| poke(d, b + 4 * 3, &f32::NAN.to_le_bytes()));
    assert_refused(&file, &["tensor `tok_emb.scale`: expected finite values, found NaN at flat index 3"]);
    // I8 whose finite scale overflows f32 once multiplied: 127 × 3e38 = ∞
    let (qb, _) = offsets(&header, "tok_emb");
    let file = edited(|_, d| {
        poke(d, b, &3.0e38f32.to_le_bytes());
        poke(d, qb, &[0; 16]);
        poke(d, qb + 2, &[127]);
    });
    assert_refused(&file, &["tensor `tok_emb`: expected finite values, found inf at flat index 2"]);
}

/// Seeded random damage (byte flips, truncations, header edits) must only ever produce errors.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn random_damage_never_panics() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let header_end = TINY.len() - split(TINY).1.len();
    let (mut refused, mut loaded) = (0, 0);
    for round in 0..600 {
        let mut file = TINY.to_vec();
        match round % 3 {
            0 => {
                let at = (next() as usize) % header_end; // inside the prefix or the header
                file[at] = next() as u8;
            }
            1 => {
                for _ in 0..4 {
                    let at = (next() as usize) % file.len();
                    file[at] ^= 1 << (next() % 8);
                }
            }
            _ => file.truncate((next() as usize) % TINY.len()),
        }
        match load(&file) {
            Ok(w) => {
                loaded += 1;
                assert!(w.tok_emb.iter().all(|v| v.is_finite()));
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(refused > 300 && loaded > 0, "refused {refused}, loaded {loaded}");
}
