//! The only `#[wasm_bindgen]` surface: `Explorer` (the tiny model) and `LlmExplorer` (a large
//! model from a GGUF file, whose traces stay inside wasm). It validates what JavaScript hands in, converts
//! errors into `JsError`s with readable messages, and sends each trace across the boundary once, as
//! plain objects whose matrices are `{ shape, data: Float32Array }`.

use js_sys::{JsString, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::llm::{Llm, MAX_FILE_BYTES, STEPS};
use crate::message;
use crate::options::{self, Value};
use crate::trace::Options;
use crate::{Engine, MAX_TEXT_UNITS};

/// Routes Rust panics to `console.error` with their message, instead of a bare `unreachable` trap.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// `{ key, options }` for validated options: the canonical options as a plain object and the string
/// a trace cache should key on (equal exactly when the traces are).
fn valid_js(o: &Options) -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Valid<'a> {
        key: String,
        options: &'a Options,
    }
    to_js(&Valid { key: o.key(), options: o })
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true).serialize_missing_as_null(true);
    value.serialize(&serializer).map_err(|e| JsError::new(&format!("could not convert the result for JavaScript: {e}")))
}

#[wasm_bindgen]
extern "C" {
    /// `Object.keys`, catching what a Proxy's trap throws (js_sys's binding would let it unwind
    /// through Rust frames and leave the Explorer borrowed).
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn object_keys(o: &JsValue) -> Result<js_sys::Array, JsValue>;
}

/// The longest array converted for the validator: more than any model has layers × heads.
const MAX_ARRAY: u32 = (crate::weights::MAX_LAYERS * crate::weights::MAX_HEADS) as u32;

fn unreadable(path: &str) -> JsError {
    let what = if path.is_empty() { "the options object" } else { path };
    JsError::new(&format!("invalid options: {what} cannot be read (a getter or proxy threw)"))
}

/// Converts a JavaScript value for the validator (`options.rs`), only as deep as options go (object,
/// array, pair, number): the types are judged there, not here. Reads go through `Reflect`, so a
/// throwing getter or proxy is an error, not an exception unwinding through Rust.
fn to_value(v: &JsValue, depth: u32, path: &str) -> Result<Value, JsError> {
    Ok(if v.is_undefined() {
        Value::Undefined
    } else if v.is_null() {
        Value::Null
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(x) = v.as_f64() {
        Value::Number(x)
    } else if v.is_bigint() {
        Value::BigInt
    } else if let Some(s) = v.as_string() {
        Value::String(s)
    } else if v.is_function() {
        Value::Other("a function")
    } else if v.is_symbol() {
        Value::Other("a symbol")
    } else if depth >= 3 {
        Value::Other("a value nested deeper than any option goes")
    } else if js_sys::Array::is_array(v) {
        let length = js_sys::Reflect::get(v, &"length".into()).map_err(|_| unreadable(path))?.as_f64().unwrap_or(0.0) as u32;
        if length > MAX_ARRAY {
            return Ok(Value::LongArray(length as usize));
        }
        let mut items = Vec::with_capacity(length as usize);
        for i in 0..length {
            let at = format!("{path}[{i}]");
            let item = js_sys::Reflect::get_u32(v, i).map_err(|_| unreadable(&at))?;
            items.push(to_value(&item, depth + 1, &at)?);
        }
        Value::Array(items)
    } else {
        let keys = object_keys(v).map_err(|_| unreadable(path))?;
        let mut members = Vec::with_capacity(keys.length().min(64) as usize);
        for key in keys.iter() {
            let name = key.as_string().unwrap_or_default();
            let at = if path.is_empty() { format!("`{name}`") } else { format!("{path}.{name}") };
            let item = js_sys::Reflect::get(v, &key).map_err(|_| unreadable(&at))?;
            members.push((name, to_value(&item, depth + 1, &at)?));
        }
        Value::Object(members)
    })
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

    /// `{ name, config, heads, max_tokens }` of the loaded model: `heads` is its head profile (see
    /// `heads.rs`: `{ model, measured_on, rules, trained_by_auxiliary_loss, heads: [{ layer, head, name,
    /// prev, self, start, duplicate, induction, mean_distance }] }`, heads in layer-major order) or null;
    /// `max_tokens` the most tokens one analysis reads (the context, or fewer if the work budget says so).
    pub fn info(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Info<'a> {
            name: &'a str,
            config: &'a crate::config::Config,
            heads: Option<&'a crate::heads::HeadProfile>,
            max_tokens: usize,
        }
        let w = &self.engine.model.weights;
        to_js(&Info { name: &w.name, config: &w.config, heads: self.engine.heads.as_ref(), max_tokens: self.engine.max_tokens() })
    }

    /// Validates `options` (see `options.rs`) and returns `{ key, options }`: the canonical options as
    /// a plain object and the string a trace cache should key on (equal exactly when the traces are).
    pub fn validate(&self, options: JsValue) -> Result<JsValue, JsError> {
        valid_js(&self.options(&options)?)
    }

    /// Every intermediate of the forward pass for `text` (see `trace.rs`); `options` may be omitted.
    /// Only the last `MAX_TEXT_UNITS` UTF-16 units of `text` are copied into wasm at all.
    pub fn analyze(&self, text: &JsString, options: JsValue) -> Result<JsValue, JsError> {
        let options = self.options(&options)?;
        let (tail, cut) = js_tail(text);
        let mut trace = self.engine.analyze(&tail, &options).map_err(|e| JsError::new(&e.to_string()))?;
        trace.cut_text(cut, MAX_TEXT_UNITS);
        to_js(&trace)
    }

    /// One token in two contexts (`Engine::compare`): `{ positions, stages: [{ name, layer, cosine }] }`,
    /// the cosine between the token's vector at `positionA` of `textA` and at `positionB` of `textB`
    /// after each sub-step, both analysed with `options`.
    pub fn compare(
        &self,
        text_a: &JsString,
        text_b: &JsString,
        position_a: usize,
        position_b: usize,
        options: JsValue,
    ) -> Result<JsValue, JsError> {
        let options = self.options(&options)?;
        let (a, b) = (js_tail(text_a).0, js_tail(text_b).0);
        let c = self.engine.compare([&a, &b], [position_a, position_b], &options).map_err(|e| JsError::new(&e.to_string()))?;
        to_js(&c)
    }

    /// How many tokens the model sees for `text` before the context limit, the start token included
    /// (cheap: no forward pass), counting its last `MAX_TEXT_UNITS` units.
    #[wasm_bindgen(js_name = countTokens)]
    pub fn count_tokens(&self, text: &JsString) -> usize {
        self.engine.count_tokens(&js_tail(text).0)
    }

    /// Background points for the embedding map: the first `n` whole-word tokens of the vocabulary (the
    /// most frequent words), as `{ ids, texts, coords: {shape: [n, 2], data} }` on the same projection
    /// the traces use.
    #[wasm_bindgen(js_name = vocabMap)]
    pub fn vocab_map(&self, n: usize) -> Result<JsValue, JsError> {
        to_js(&self.engine.vocab_map(n))
    }

    /// Traps (`unreachable`) while this Explorer is borrowed, as a bug deep in the engine would: for the
    /// tests of engine.js's recovery, which must never reuse the instance afterwards.
    #[wasm_bindgen(js_name = __trapForTests)]
    pub fn trap_for_tests(&self) {
        core::arch::wasm32::unreachable()
    }
}

impl Explorer {
    fn options(&self, options: &JsValue) -> Result<Options, JsError> {
        let value = to_value(options, 0, "")?;
        options::from_value(&value, self.engine.model.config()).map_err(|e| JsError::new(&e.to_string()))
    }
}

/// The last `MAX_TEXT_UNITS` UTF-16 units of `text` as a Rust string, and how many units were left
/// out. The cut is made on the JavaScript string, so a huge text is never copied into wasm memory; it
/// never starts on the second half of a surrogate pair.
fn js_tail(text: &JsString) -> (String, usize) {
    let n = text.length();
    let max = MAX_TEXT_UNITS as u32;
    if n <= max {
        return (String::from(text), 0);
    }
    let mut start = n - max;
    if (0xDC00..0xE000).contains(&(text.char_code_at(start) as u32)) {
        start += 1;
    }
    (String::from(text.slice(start, n)), start as usize)
}

// ---------------------------------------------------------------------------------------------
// Large models

/// A large model: a Llama-family GGUF file (SmolLM2-135M and the like), meant to run in a Web
/// Worker. Its traces stay inside wasm: `analyze` returns a summary, `view` one step of one head.
/// ARCHITECTURE.md ("Large models") describes the protocol; every method throws an `Error` whose
/// message says what was expected and what was found, and a failed call changes nothing (except
/// that an analysis that reaches the forward pass drops the previous one first, to make room).
#[wasm_bindgen]
pub struct LlmExplorer {
    llm: Llm,
}

/// Copies a GGUF file out of JavaScript, refusing one above `MAX_FILE_BYTES` before copying, and
/// saying so if the memory for it cannot be had (instead of aborting).
fn gguf_bytes(bytes: &Uint8Array) -> Result<Vec<u8>, JsError> {
    let n = bytes.length() as usize;
    if n > MAX_FILE_BYTES {
        return Err(JsError::new(&format!("the weights file cannot be used: {}", crate::llm::too_large(n))));
    }
    let mut file: Vec<u8> = Vec::new();
    file.try_reserve_exact(n).map_err(|_| {
        JsError::new(&format!(
            "not enough memory to load the model: its file needs {} more, which the browser refused",
            message::bytes(n as u64)
        ))
    })?;
    let copied = bytes.copy_to_uninit(&mut file.spare_capacity_mut()[..n]).len();
    // SAFETY: copy_to_uninit initialised the first `copied` (= n) bytes of the spare capacity.
    unsafe { file.set_len(copied) };
    Ok(file)
}

fn llm(bytes: &Uint8Array, heads: Option<Vec<u8>>) -> Result<Llm, JsError> {
    Llm::load(gguf_bytes(bytes)?, heads.as_deref()).map_err(|e| JsError::new(&e.to_string()))
}

/// A layer or head index from JavaScript: a whole number ≥ 0.
fn index(x: f64, what: &str) -> Result<usize, JsError> {
    if x.fract() == 0.0 && (0.0..4_294_967_296.0).contains(&x) {
        Ok(x as usize)
    } else {
        Err(JsError::new(&format!("`{what}` must be a whole number ≥ 0, found {x}")))
    }
}

#[wasm_bindgen]
impl LlmExplorer {
    /// `LlmExplorer.fromGguf(bytes: Uint8Array, heads?: Uint8Array) → LlmExplorer`: a model from a
    /// GGUF file (architecture `llama`; tensors F32, F16, Q8_0, Q4_0, Q4_1; tokenizer `gpt2` with
    /// pre-tokenizer `smollm`) and optionally its head profile (`heads.json`, see `heads.rs`). The
    /// file is copied into wasm once and stays there (its quantised weights are read in place).
    #[wasm_bindgen(js_name = fromGguf)]
    pub fn from_gguf(bytes: &Uint8Array, heads: Option<Vec<u8>>) -> Result<LlmExplorer, JsError> {
        Ok(LlmExplorer { llm: llm(bytes, heads)? })
    }

    /// `load(bytes: Uint8Array, heads?: Uint8Array)`: replaces the model (and drops the last
    /// analysis); on any error the current model and analysis stay.
    pub fn load(&mut self, bytes: &Uint8Array, heads: Option<Vec<u8>>) -> Result<(), JsError> {
        self.llm = llm(bytes, heads)?;
        Ok(())
    }

    /// The largest GGUF file `fromGguf` and `load` accept, in bytes (check before reading a file).
    #[wasm_bindgen(js_name = maxFileBytes)]
    pub fn max_file_bytes() -> usize {
        MAX_FILE_BYTES
    }

    /// `info() → { name, family: "llama", config: { vocab_size, d_model, n_layers, n_heads,
    /// n_kv_heads, d_head, d_mlp, context, ln_eps (RMSNorm's ε), positions: { kind: "rope", base },
    /// bos_id (null: no start token) }, heads (the profile, or null), max_tokens, file_bytes, steps }`;
    /// `steps` lists the step ids `view` takes, in the page's order.
    pub fn info(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct LlmConfig {
            #[serde(flatten)]
            config: crate::model::Config,
            n_kv_heads: usize,
        }
        #[derive(Serialize)]
        struct Info<'a> {
            name: &'a str,
            family: &'static str,
            config: LlmConfig,
            heads: Option<&'a crate::heads::HeadProfile>,
            max_tokens: usize,
            file_bytes: usize,
            steps: &'static [&'static str],
        }
        let m = &self.llm.model;
        to_js(&Info {
            name: &m.name,
            family: "llama",
            config: LlmConfig { config: self.llm.config(), n_kv_heads: m.config.n_kv_heads },
            heads: self.llm.heads.as_ref(),
            max_tokens: self.llm.max_tokens,
            file_bytes: m.file_bytes(),
            steps: &STEPS,
        })
    }

    /// `validate(options) → { key, options }`, as `Explorer.validate`.
    pub fn validate(&self, options: JsValue) -> Result<JsValue, JsError> {
        valid_js(&self.options(&options)?)
    }

    /// `analyze(text: string, options?) → summary`: runs the model on the last `max_tokens` tokens
    /// of `text` and keeps every intermediate inside wasm for `view`. Options as `Explorer`'s
    /// (`scale`, `causal`, `disabled_heads`, `temperature`, `predict_position`, `top_k`), except
    /// that `neighbours` must be false. The summary is `{ model, options, total_tokens,
    /// dropped_tokens, max_tokens, text_cut, notice, trace_bytes, tokens: [{ id, text, start, end,
    /// special }], predict: { position, temperature, top: [{ id, text, logit, prob }] }, heads: [{
    /// layer, head, kv_head, prev, self, start, duplicate, induction, mean_distance, thumbnail: {
    /// shape: [s, s], data: Float32Array } }] }`, heads layer-major, each number measured on this
    /// text or null where undefined (`llm/gallery.rs`), s = min(T, 24).
    pub fn analyze(&mut self, text: &JsString, options: JsValue) -> Result<JsValue, JsError> {
        let options = self.options(&options)?;
        let (tail, cut) = js_tail(text);
        let mut summary = self.llm.analyze(&tail, &options).map_err(|e| JsError::new(&e.to_string()))?;
        crate::trace::record_cut(&mut summary.text_cut, &mut summary.tokens, &mut summary.notice, cut, MAX_TEXT_UNITS);
        to_js(&summary)
    }

    /// `view(layer: number, head: number, step: string) → { step, layer, head, kv_head, matrices:
    /// { name: { shape, data: Float32Array } }, top }` for the last analysis: the matrices of one
    /// step for query head `head` of layer `layer` (keys and values: its key/value head `kv_head`);
    /// `top` is the candidates for `predict`, else null. Which matrices each step returns: the
    /// table at `llm::STEPS` (ARCHITECTURE.md repeats it).
    pub fn view(&self, layer: f64, head: f64, step: &str) -> Result<JsValue, JsError> {
        let v = self.llm.view(index(layer, "layer")?, index(head, "head")?, step).map_err(|e| JsError::new(&e))?;
        to_js(&v)
    }

    /// How many tokens the model sees for `text` before the context limit, the start token
    /// included (no forward pass).
    #[wasm_bindgen(js_name = countTokens)]
    pub fn count_tokens(&self, text: &JsString) -> usize {
        self.llm.count_tokens(&js_tail(text).0)
    }
}

impl LlmExplorer {
    fn options(&self, options: &JsValue) -> Result<Options, JsError> {
        let value = to_value(options, 0, "")?;
        options::from_value(&value, &self.llm.config()).map_err(|e| JsError::new(&e.to_string()))
    }
}
