//! The only `#[wasm_bindgen]` surface: `Explorer`. It validates what JavaScript hands in, converts
//! errors into `JsError`s with readable messages, and sends each trace across the boundary once, as
//! plain objects whose matrices are `{ shape, data: Float32Array }`.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::trace::Options;
use crate::Engine;

/// Routes Rust panics to `console.error` with their message, instead of a bare `unreachable` trap.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true).serialize_missing_as_null(true);
    value.serialize(&serializer).map_err(|e| JsError::new(&format!("could not convert the result for JavaScript: {e}")))
}

const OPTION_NAMES: &str = "scale, causal, disabled_heads, temperature, predict_position, top_k, neighbours";

fn invalid(what: &str) -> JsError {
    JsError::new(&format!("invalid options: {what} (expected an object with any of {OPTION_NAMES})"))
}

/// What JavaScript calls the value's type, for messages.
fn kind(v: &JsValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    if js_sys::Array::is_array(v) {
        return "an array".into();
    }
    v.js_typeof().as_string().unwrap_or_default()
}

fn boolean(name: &str, v: &JsValue) -> Result<bool, JsError> {
    v.as_bool().ok_or_else(|| invalid(&format!("`{name}` must be true or false, found {}", kind(v))))
}

fn number(name: &str, v: &JsValue) -> Result<f64, JsError> {
    v.as_f64().ok_or_else(|| invalid(&format!("`{name}` must be a number, found {}", kind(v))))
}

fn whole(name: &str, v: &JsValue) -> Result<usize, JsError> {
    let x = number(name, v)?;
    if x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64 {
        Ok(x as usize)
    } else {
        Err(invalid(&format!("`{name}` must be a whole number ≥ 0")))
    }
}

/// Reads the options object by hand (not with serde): unknown keys and wrong types are refused with
/// a message naming the option; `undefined` values keep their defaults; `predict_position` may be null.
fn options_from_js(options: JsValue) -> Result<Options, JsError> {
    let mut o = Options::default();
    if options.is_undefined() || options.is_null() {
        return Ok(o);
    }
    if !options.is_object() || js_sys::Array::is_array(&options) {
        return Err(invalid(&format!("found {}", kind(&options))));
    }
    let object: &js_sys::Object = options.unchecked_ref();
    for key in js_sys::Object::keys(object).iter() {
        let name = key.as_string().unwrap_or_default();
        let v = js_sys::Reflect::get(&options, &key).map_err(|_| invalid(&format!("`{name}` cannot be read")))?;
        if v.is_undefined() {
            continue;
        }
        match name.as_str() {
            "scale" => o.scale = boolean(&name, &v)?,
            "causal" => o.causal = boolean(&name, &v)?,
            "neighbours" => o.neighbours = boolean(&name, &v)?,
            "temperature" => o.temperature = number(&name, &v)? as f32,
            "top_k" => o.top_k = whole(&name, &v)?,
            "predict_position" => o.predict_position = if v.is_null() { None } else { Some(whole(&name, &v)?) },
            "disabled_heads" => {
                let pairs: js_sys::Array = v
                    .dyn_into()
                    .map_err(|v| invalid(&format!("`disabled_heads` must be an array of [layer, head] pairs, found {}", kind(&v))))?;
                o.disabled_heads = pairs
                    .iter()
                    .map(|pair| {
                        let pair: js_sys::Array = pair.dyn_into().map_err(|_| invalid("each disabled head must be a [layer, head] pair"))?;
                        if pair.length() != 2 {
                            return Err(invalid("each disabled head must be a [layer, head] pair"));
                        }
                        Ok((whole("disabled_heads layer", &pair.get(0))?, whole("disabled_heads head", &pair.get(1))?))
                    })
                    .collect::<Result<_, _>>()?;
            }
            _ => return Err(invalid(&format!("unknown option `{name}`"))),
        }
    }
    Ok(o)
}

fn engine(weights: &[u8], tokenizer: &[u8], heads: Option<Vec<u8>>) -> Result<Engine, JsError> {
    let engine = Engine::load(weights, tokenizer).and_then(|e| match heads {
        Some(profile) => e.with_heads(&profile),
        None => Ok(e),
    });
    engine.map_err(|e| JsError::new(&e.to_string()))
}

/// A loaded model, ready to analyse text.
#[wasm_bindgen]
pub struct Explorer {
    engine: Engine,
}

#[wasm_bindgen]
impl Explorer {
    /// The built-in model.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Explorer, JsError> {
        Ok(Explorer { engine: Engine::builtin().map_err(|e| JsError::new(&e.to_string()))? })
    }

    /// A model from a weights file (safetensors), a tokenizer file (tokenizer.json) and, optionally,
    /// its head profile (heads.json).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(weights: &[u8], tokenizer: &[u8], heads: Option<Vec<u8>>) -> Result<Explorer, JsError> {
        Ok(Explorer { engine: engine(weights, tokenizer, heads)? })
    }

    /// Replaces the model (and its head profile, if given); on any error the current model stays loaded.
    pub fn load(&mut self, weights: &[u8], tokenizer: &[u8], heads: Option<Vec<u8>>) -> Result<(), JsError> {
        self.engine = engine(weights, tokenizer, heads)?;
        Ok(())
    }

    /// `{ name, config, heads }` of the loaded model: `heads` is its head profile (see `heads.rs`:
    /// `{ model, measured_on, rules, trained_by_auxiliary_loss, heads: [{ layer, head, name, prev, self,
    /// start, duplicate, induction, mean_distance }] }`, heads in layer-major order) or null.
    pub fn info(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Info<'a> {
            name: &'a str,
            config: &'a crate::model::Config,
            heads: Option<&'a crate::heads::HeadProfile>,
        }
        let w = &self.engine.model.weights;
        to_js(&Info { name: &w.name, config: &w.config, heads: self.engine.heads.as_ref() })
    }

    /// Every intermediate of the forward pass for `text` (see `trace.rs`); `options` may be omitted.
    pub fn analyze(&self, text: &str, options: JsValue) -> Result<JsValue, JsError> {
        let options = options_from_js(options)?;
        let trace = self.engine.analyze(text, &options).map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&trace)
    }

    /// How many tokens the model sees for `text` before the context limit, the start token included
    /// (cheap: no forward pass).
    #[wasm_bindgen(js_name = countTokens)]
    pub fn count_tokens(&self, text: &str) -> usize {
        self.engine.count_tokens(text)
    }

    /// Background points for the embedding map: the first `n` whole-word tokens of the vocabulary (the
    /// most frequent words), as `{ ids, texts, coords: {shape: [n, 2], data} }` on the same projection
    /// the traces use.
    #[wasm_bindgen(js_name = vocabMap)]
    pub fn vocab_map(&self, n: usize) -> Result<JsValue, JsError> {
        to_js(&self.engine.vocab_map(n))
    }
}
