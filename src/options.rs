//! The one validator for the analysis options: types, ranges and shapes, with messages that name the
//! option. JavaScript's options object reaches it as a [`Value`] (`wasm.rs` converts the `JsValue`,
//! nothing more); options built in Rust are checked by [`Options::check`], which [`from_value`] ends
//! with too. [`Options::key`] is the canonical form that JavaScript's trace cache is keyed on, so two
//! option objects share a cache entry exactly when the engine would compute the same trace.

use crate::config::Config;
use crate::json::quote;
use crate::message::float_text;
use crate::model::AnalyzeError;
use crate::trace::Options;

/// The option names, in the order messages list them.
pub const NAMES: [&str; 7] = ["scale", "causal", "disabled_heads", "temperature", "predict_position", "top_k", "neighbours"];
/// The softmax temperature's range: below 0.01 the logits ÷ τ overflow f32 for ordinary logits, and
/// the distribution is one-hot long before; above 100 it is flat to the fourth decimal.
pub const MIN_TEMPERATURE: f64 = 0.01;
pub const MAX_TEMPERATURE: f64 = 100.0;
/// The same range for messages (formatting an f64 with `{}` would pull ~17 KB of float printing into
/// the wasm module).
const TEMPERATURE_RANGE: &str = "from 0.01 to 100";
/// The most next-token candidates one trace lists.
pub const MAX_TOP_K: usize = 100;

/// A JavaScript value as the validator sees it. Arrays and objects are converted only as deep as the
/// options go (object → `disabled_heads` array → pair → number); anything deeper is `Other`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    BigInt,
    String(String),
    Array(Vec<Value>),
    /// An array too long to be any option's value, with its length (not converted).
    LongArray(usize),
    /// An object's own enumerable string keys and their values, in order.
    Object(Vec<(String, Value)>),
    /// Anything else, with how to name it: "a function", "a symbol", "an array nested too deep".
    Other(&'static str),
}

impl Value {
    /// How a message names the value: `a string ("abc")`, `null`, `an array of 3`.
    pub fn describe(&self) -> String {
        match self {
            Value::Undefined => "undefined".into(),
            Value::Null => "null".into(),
            Value::Bool(b) => format!("a boolean ({b})"),
            Value::Number(x) => format!("a number ({})", number_text(*x)),
            Value::BigInt => "a BigInt".into(),
            Value::String(s) => {
                let short: String = s.chars().take(40).collect();
                let more = if short.len() < s.len() { "…" } else { "" };
                format!("a string ({}{more})", quote(&short))
            }
            Value::Array(items) => format!("an array of {}", items.len()),
            Value::LongArray(n) => format!("an array of {n}"),
            Value::Object(_) => "an object".into(),
            Value::Other(what) => (*what).into(),
        }
    }
}

/// `x` for a message, without f64 formatting machinery: integers whole, others as [`float_text`]
/// does (f32 precision is enough to say what was found), and beyond f32's range by its power of ten.
fn number_text(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    if x.is_finite() && x.abs() > f64::from(f32::MAX) {
        let (mut m, mut exponent) = (x.abs(), 0);
        while m >= 10.0 {
            m /= 10.0;
            exponent += 1;
        }
        return format!("{}1e{exponent}", if x < 0.0 { "-" } else { "" });
    }
    float_text(x as f32)
}

fn bad(message: String) -> AnalyzeError {
    AnalyzeError::BadOption(message)
}

fn boolean(name: &str, v: &Value) -> Result<bool, AnalyzeError> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(bad(format!("`{name}` must be true or false, found {}", other.describe()))),
    }
}

/// A whole number in `0..below`; `label` names it in messages (`` `top_k` ``), `range` says which.
fn whole(label: &str, v: &Value, below: usize, range: &str) -> Result<usize, AnalyzeError> {
    match v {
        Value::Number(x) if x.fract() == 0.0 && *x >= 0.0 && *x < below as f64 => Ok(*x as usize),
        other => Err(bad(format!("{label} must be a whole number {range}, found {}", other.describe()))),
    }
}

/// Reads an options object: `undefined` or `null` means every default; unknown names are refused;
/// an option whose value is `undefined` keeps its default.
pub fn from_value(v: &Value, c: &Config) -> Result<Options, AnalyzeError> {
    let mut o = Options::default();
    let members = match v {
        Value::Undefined | Value::Null => return Ok(o),
        Value::Object(members) => members,
        other => return Err(bad(format!("expected an object with any of {}, found {}", NAMES.join(", "), other.describe()))),
    };
    let layers = format!("below {} (the model's layers)", c.n_layers);
    let heads = format!("below {} (the model's heads)", c.n_heads);
    for (name, value) in members {
        if *value == Value::Undefined {
            continue;
        }
        match name.as_str() {
            "scale" => o.scale = boolean(name, value)?,
            "causal" => o.causal = boolean(name, value)?,
            "neighbours" => o.neighbours = boolean(name, value)?,
            "temperature" => o.temperature = temperature(value)?,
            "top_k" => o.top_k = whole("`top_k`", value, MAX_TOP_K + 1, &format!("from 0 to {MAX_TOP_K}"))?,
            "predict_position" => {
                o.predict_position = match value {
                    Value::Null => None,
                    v => Some(whole("`predict_position`", v, c.context, &format!("below {} (the context) or null", c.context))?),
                }
            }
            "disabled_heads" => {
                let Value::Array(pairs) = value else {
                    return Err(bad(format!("`disabled_heads` must be an array of [layer, head] pairs, found {}", value.describe())));
                };
                o.disabled_heads = Vec::with_capacity(pairs.len());
                for (i, pair) in pairs.iter().enumerate() {
                    let [layer, head] = match pair {
                        Value::Array(xs) if xs.len() == 2 => [&xs[0], &xs[1]],
                        other => {
                            return Err(bad(format!(
                                "`disabled_heads[{i}]` must be a [layer, head] pair of whole numbers, found {}",
                                other.describe()
                            )))
                        }
                    };
                    let l = whole(&format!("`disabled_heads[{i}][0]` (a layer)"), layer, c.n_layers, &layers)?;
                    let h = whole(&format!("`disabled_heads[{i}][1]` (a head)"), head, c.n_heads, &heads)?;
                    o.disabled_heads.push((l, h));
                }
            }
            _ => {
                return Err(bad(format!(
                    "unknown option `{}` (expected any of {})",
                    name.chars().take(40).collect::<String>(),
                    NAMES.join(", ")
                )))
            }
        }
    }
    o.check(c)?;
    Ok(o.canonical())
}

fn temperature(v: &Value) -> Result<f32, AnalyzeError> {
    match v {
        Value::Number(x) if (MIN_TEMPERATURE..=MAX_TEMPERATURE).contains(x) => Ok(*x as f32),
        other => Err(bad(format!(
            "`temperature` must be a number {TEMPERATURE_RANGE}, found {}",
            match other {
                Value::Number(x) => number_text(*x),
                _ => other.describe(),
            }
        ))),
    }
}

impl Options {
    /// Checks every option against the model's dimensions (a `predict_position` past the tokens of
    /// the text means the last token: the analysis, which knows them, says so in `Trace::options`).
    pub fn check(&self, c: &Config) -> Result<(), AnalyzeError> {
        let t = f64::from(self.temperature);
        if !(MIN_TEMPERATURE as f32..=MAX_TEMPERATURE as f32).contains(&self.temperature) {
            return Err(bad(format!("`temperature` must be a number {TEMPERATURE_RANGE}, found {}", number_text(t))));
        }
        if self.top_k > MAX_TOP_K {
            return Err(bad(format!("`top_k` must be a whole number from 0 to {MAX_TOP_K}, found {}", self.top_k)));
        }
        if let Some(&(l, h)) = self.disabled_heads.iter().find(|&&(l, h)| l >= c.n_layers || h >= c.n_heads) {
            return Err(bad(format!(
                "`disabled_heads` has [{l}, {h}], which does not exist: the model has layers 0..{} and heads 0..{}",
                c.n_layers, c.n_heads
            )));
        }
        if let Some(p) = self.predict_position.filter(|&p| p >= c.context) {
            return Err(bad(format!("`predict_position` must be a token index below {} (the context), found {p}", c.context)));
        }
        Ok(())
    }

    /// The same options with `disabled_heads` sorted and without repeats (a set: order and repeats
    /// change nothing). Linear: a bitmap over the heads named, walked in order (no sort machinery in
    /// the wasm module, and no quadratic case for a long list).
    pub fn canonical(mut self) -> Options {
        let Some(&(max_l, _)) = self.disabled_heads.iter().max_by_key(|p| p.0) else { return self };
        let heads = self.disabled_heads.iter().map(|p| p.1).max().unwrap_or(0) + 1;
        let cells = (max_l + 1).checked_mul(heads);
        // only options that `check` refuses name heads farther apart; those stay as they are
        if let Some(n) = cells.filter(|&n| n <= 1 << 20) {
            let mut on = vec![false; n];
            for &(l, h) in &self.disabled_heads {
                on[l * heads + h] = true;
            }
            self.disabled_heads = (0..n).filter(|&i| on[i]).map(|i| (i / heads, i % heads)).collect();
        }
        self
    }

    /// A string that is equal for two options exactly when they give the same trace: the canonical
    /// form, with the temperature as its f32 bits (an opaque key, not for display).
    pub fn key(&self) -> String {
        let o = self.clone().canonical();
        let heads: Vec<String> = o.disabled_heads.iter().map(|(l, h)| format!("{l}.{h}")).collect();
        format!(
            "scale={} causal={} heads={} temperature={:08x} position={} top_k={} neighbours={}",
            u8::from(o.scale),
            u8::from(o.causal),
            heads.join(","),
            o.temperature.to_bits(),
            o.predict_position.map_or("last".to_string(), |p| p.to_string()),
            o.top_k,
            u8::from(o.neighbours)
        )
    }
}
