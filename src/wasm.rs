//! The only `#[wasm_bindgen]` surface: `Explorer`. It validates what JavaScript hands in, converts
//! errors into `JsError`s with readable messages, and sends each trace across the boundary once, as
//! plain objects whose matrices are `{ shape, data: Float32Array }`.

use serde::Serialize;
use wasm_bindgen::prelude::*;

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

fn options_from_js(options: JsValue) -> Result<Options, JsError> {
    if options.is_undefined() || options.is_null() {
        return Ok(Options::default());
    }
    serde_wasm_bindgen::from_value(options).map_err(|e| {
        JsError::new(&format!(
            "invalid options: {e} (expected an object with any of scale, causal, disabled_heads, temperature, \
             predict_position, top_k, neighbours)"
        ))
    })
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

    /// A model from a weights file (safetensors) and a tokenizer file (tokenizer.json).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(weights: &[u8], tokenizer: &[u8]) -> Result<Explorer, JsError> {
        Ok(Explorer { engine: Engine::load(weights, tokenizer).map_err(|e| JsError::new(&e.to_string()))? })
    }

    /// Replaces the model; on any error the current model stays loaded.
    pub fn load(&mut self, weights: &[u8], tokenizer: &[u8]) -> Result<(), JsError> {
        self.engine = Engine::load(weights, tokenizer).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(())
    }

    /// `{ name, config }` of the loaded model.
    pub fn info(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Info<'a> {
            name: &'a str,
            config: &'a crate::model::Config,
        }
        let w = &self.engine.model.weights;
        to_js(&Info { name: &w.name, config: &w.config })
    }

    /// Every intermediate of the forward pass for `text` (see `trace.rs`); `options` may be omitted.
    pub fn analyze(&self, text: &str, options: JsValue) -> Result<JsValue, JsError> {
        let options = options_from_js(options)?;
        let trace = self.engine.analyze(text, &options).map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&trace)
    }

    /// How many tokens `text` has (cheap: no forward pass).
    #[wasm_bindgen(js_name = countTokens)]
    pub fn count_tokens(&self, text: &str) -> usize {
        self.engine.tokenizer.encode(text).len()
    }

    /// Background points for the embedding map: the first `n` whole-word tokens of the vocabulary (the
    /// most frequent words), as `{ ids, texts, coords: {shape: [n, 2], data} }` on the same projection
    /// the traces use.
    #[wasm_bindgen(js_name = vocabMap)]
    pub fn vocab_map(&self, n: usize) -> Result<JsValue, JsError> {
        to_js(&self.engine.vocab_map(n))
    }
}
