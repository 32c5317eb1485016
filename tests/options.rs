//! The options validator (`src/options.rs`), natively and in headless Chromium: every value issue 13
//! found misread is refused with a message naming the option, and the canonical key tells apart
//! exactly the options that give different traces (NaN no longer collides with null).

use attention_explorer::model::{Config, Positions};
use attention_explorer::options::{from_value, Value, MAX_TOP_K};
use attention_explorer::trace::Options;
use attention_explorer::Engine;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn config() -> Config {
    Config {
        vocab_size: 360,
        d_model: 8,
        n_layers: 2,
        n_heads: 4,
        d_head: 2,
        d_mlp: 0,
        context: 16,
        ln_eps: 1e-5,
        positions: Positions::Learned,
        bos_id: None,
    }
}

fn object(members: &[(&str, Value)]) -> Value {
    Value::Object(members.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn num(x: f64) -> Value {
    Value::Number(x)
}

fn pair(l: f64, h: f64) -> Value {
    Value::Array(vec![num(l), num(h)])
}

fn refused(v: Value) -> String {
    match from_value(&v, &config()) {
        Ok(o) => panic!("{v:?} was accepted as {o:?}"),
        Err(e) => e.to_string(),
    }
}

fn accepted(v: Value) -> Options {
    from_value(&v, &config()).unwrap_or_else(|e| panic!("{v:?} was refused: {e}"))
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn disabled_heads_of_the_wrong_shape_are_refused_by_name() {
    let heads = |v: Value| refused(object(&[("disabled_heads", v)]));
    let cases = [
        (Value::String("abc".into()), "`disabled_heads` must be an array of [layer, head] pairs, found a string (\"abc\")"),
        (Value::Array(vec![num(1.0), num(2.0)]), "`disabled_heads[0]` must be a [layer, head] pair of whole numbers, found a number (1)"),
        (Value::Array(vec![Value::Null]), "`disabled_heads[0]` must be a [layer, head] pair of whole numbers, found null"),
        (Value::Object(vec![]), "`disabled_heads` must be an array of [layer, head] pairs, found an object"),
        // ['01'] was read as head 1 of layer 0 by destructuring the string
        (
            Value::Array(vec![Value::String("01".into())]),
            "`disabled_heads[0]` must be a [layer, head] pair of whole numbers, found a string (\"01\")",
        ),
        (
            Value::Array(vec![Value::Array(vec![Value::String("0".into()), num(1.0)])]),
            "`disabled_heads[0][0]` (a layer) must be a whole number below 2 (the model's layers), found a string (\"0\")",
        ),
        (
            Value::Array(vec![pair(0.0, 1.5)]),
            "`disabled_heads[0][1]` (a head) must be a whole number below 4 (the model's heads), found a number (1.5e0)",
        ),
        (
            Value::Array(vec![pair(-1.0, 0.0)]),
            "`disabled_heads[0][0]` (a layer) must be a whole number below 2 (the model's layers), found a number (-1)",
        ),
        (Value::Array(vec![pair(0.0, 4.0)]), "found a number (4)"),
        (Value::Array(vec![Value::Array(vec![num(0.0), num(1.0), num(2.0)])]), "found an array of 3"),
        (Value::LongArray(5_000_000), "found an array of 5000000"),
    ];
    for (value, says) in cases {
        let m = heads(value.clone());
        assert!(m.starts_with("invalid options: ") && m.contains(says), "{value:?}: {m}");
    }
    let o = accepted(object(&[("disabled_heads", Value::Array(vec![pair(1.0, 3.0), pair(0.0, 1.0), pair(1.0, 3.0)]))]));
    assert_eq!(o.disabled_heads, vec![(0, 1), (1, 3)], "sorted, each head once");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn numbers_that_are_not_numbers_are_refused_by_name() {
    let cases = [
        (object(&[("predict_position", Value::BigInt)]), "`predict_position` must be a whole number below 16 (the context) or null, found a BigInt"),
        (object(&[("predict_position", num(f64::NAN))]), "`predict_position` must be a whole number below 16 (the context) or null, found a number (NaN)"),
        (object(&[("predict_position", num(16.0))]), "found a number (16)"),
        (object(&[("temperature", num(f64::NAN))]), "`temperature` must be a number from 0.01 to 100, found NaN"),
        (object(&[("temperature", num(1e-30))]), "`temperature` must be a number from 0.01 to 100, found 1e-30"),
        (object(&[("temperature", num(1e40))]), "`temperature` must be a number from 0.01 to 100, found 1e40"),
        (object(&[("temperature", Value::Null)]), "found null"),
        (object(&[("temperature", Value::String("hot".into()))]), "found a string (\"hot\")"),
        (object(&[("top_k", num(4_294_967_295.0))]), "`top_k` must be a whole number from 0 to 100, found a number (4294967295)"),
        (object(&[("top_k", num(f64::INFINITY))]), "found a number (inf)"),
        (object(&[("scale", Value::String("no".into()))]), "`scale` must be true or false, found a string (\"no\")"),
        (object(&[("causal", num(0.0))]), "`causal` must be true or false, found a number (0)"),
        (object(&[("neighbours", Value::Other("a function"))]), "found a function"),
        (object(&[("tempreature", num(2.0))]), "unknown option `tempreature` (expected any of scale, causal"),
        (num(f64::NAN), "expected an object with any of scale, causal, disabled_heads, temperature, predict_position, top_k, neighbours, found a number (NaN)"),
        (Value::Array(vec![]), "found an array of 0"),
        (Value::String("{}".into()), "found a string (\"{}\")"),
    ];
    for (value, says) in cases {
        let m = refused(value.clone());
        assert!(m.contains(says), "{value:?}: {m}");
    }
    assert_eq!(accepted(object(&[("top_k", num(MAX_TOP_K as f64))])).top_k, MAX_TOP_K);
    assert_eq!(accepted(object(&[("temperature", num(0.01))])).temperature, 0.01);
    assert_eq!(accepted(object(&[("temperature", num(100.0))])).temperature, 100.0);
    for outside in [0.009_999, 100.5, 0.0, -1.0] {
        assert!(refused(object(&[("temperature", num(outside))])).contains("`temperature` must be a number from 0.01 to 100"), "{outside}");
    }
    assert_eq!(accepted(Value::Undefined), Options::default());
    assert_eq!(accepted(Value::Null), Options::default());
    assert_eq!(accepted(object(&[("temperature", Value::Undefined)])), Options::default(), "undefined keeps the default");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_key_tells_apart_exactly_the_options_that_differ() {
    let key = |v: Value| accepted(v).key();
    let base = key(Value::Undefined);
    assert_eq!(base, key(object(&[("predict_position", Value::Null)])));
    assert_eq!(base, key(object(&[("disabled_heads", Value::Array(vec![]))])));
    assert_eq!(
        key(object(&[("disabled_heads", Value::Array(vec![pair(1.0, 0.0), pair(0.0, 2.0)]))])),
        key(object(&[("disabled_heads", Value::Array(vec![pair(0.0, 2.0), pair(1.0, 0.0), pair(0.0, 2.0)]))])),
        "order and repeats of disabled heads change nothing"
    );
    let different = [
        object(&[("predict_position", num(0.0))]),
        object(&[("temperature", num(0.3))]),
        object(&[("temperature", num(0.300_000_04))]), // the next f32 after 0.3
        object(&[("top_k", num(3.0))]),
        object(&[("scale", Value::Bool(false))]),
        object(&[("causal", Value::Bool(false))]),
        object(&[("neighbours", Value::Bool(true))]),
        object(&[("disabled_heads", Value::Array(vec![pair(0.0, 1.0)]))]),
        object(&[("disabled_heads", Value::Array(vec![pair(1.0, 0.0)]))]),
    ];
    let mut keys: Vec<String> = different.iter().map(|v| key(v.clone())).collect();
    keys.push(base);
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "{keys:#?}");
    // NaN was stringified as null by JSON.stringify, so it shared null's cache entry: now it is refused
    assert!(from_value(&object(&[("predict_position", num(f64::NAN))]), &config()).is_err());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn options_built_in_rust_meet_the_same_checks() {
    let e = Engine::builtin().expect("the built-in model");
    let msg = |o: Options| match e.analyze("the cat sat", &o) {
        Ok(_) => panic!("{o:?} was accepted"),
        Err(err) => err.to_string(),
    };
    assert!(
        msg(Options { temperature: 1e-30, ..Options::default() }).contains("`temperature` must be a number from 0.01 to 100, found 1e-30")
    );
    assert!(msg(Options { top_k: usize::MAX, ..Options::default() }).contains("`top_k` must be a whole number from 0 to 100"));
    let ctx = e.model.config().context;
    let past = format!("`predict_position` must be a token index below {ctx} (the context), found {ctx}");
    assert!(msg(Options { predict_position: Some(ctx), ..Options::default() }).contains(&past));
    let t = e.analyze("the cat sat", &Options { disabled_heads: vec![(1, 0), (0, 1), (1, 0)], ..Options::default() }).expect("valid");
    assert_eq!(t.options.disabled_heads, vec![(0, 1), (1, 0)], "the trace carries the canonical options");
}
