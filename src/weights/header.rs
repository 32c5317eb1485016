//! The safetensors header as JSON: `__metadata__` (format, `config`, name) and each tensor's entry.

use crate::config::{Config, Positions};
use crate::json::{quote, Json};

use super::{WeightsError, FORMAT};

pub(super) fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Parses the `config` metadata string into a [`Config`]; unknown members are ignored. `positions`
/// ("learned" or "rope") and `bos_id` are optional: a file without them (format 1 as first written) has
/// learned positions and no start token; "rope" needs `rope_base`, which "learned" must not have.
fn parse_config(text: &str) -> Result<Config, String> {
    let json = Json::parse(text.as_bytes())?;
    if json.as_object().is_none() {
        return Err(format!("expected a JSON object, found {}", kind(&json)));
    }
    let dim = |key: &str| -> Result<usize, String> {
        match json.get(key) {
            None => Err(format!("missing field `{key}`")),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| format!("field `{key}`: expected a non-negative integer, found {}", v.describe())),
        }
    };
    let (vocab_size, d_model, n_layers) = (dim("vocab_size")?, dim("d_model")?, dim("n_layers")?);
    let (n_heads, d_head, d_mlp, context) = (dim("n_heads")?, dim("d_head")?, dim("d_mlp")?, dim("context")?);
    let ln_eps = match json.get("ln_eps") {
        None => return Err("missing field `ln_eps`".into()),
        Some(v) => v.as_f64().ok_or_else(|| format!("field `ln_eps`: expected a number, found {}", v.describe()))? as f32,
    };
    let positions = match json.get("positions") {
        None => "learned",
        Some(Json::String(p)) => p.as_str(),
        Some(v) => return Err(format!("field `positions`: expected \"learned\" or \"rope\", found {}", v.describe())),
    };
    let positions = match (positions, json.get("rope_base")) {
        ("learned", None) => Positions::Learned,
        ("learned", Some(_)) => return Err("field `rope_base`: expected none with learned positions, found one".into()),
        ("rope", None) => return Err("missing field `rope_base` (positions \"rope\" needs it)".into()),
        ("rope", Some(v)) => Positions::Rotary {
            base: v.as_f64().ok_or_else(|| format!("field `rope_base`: expected a number, found {}", v.describe()))? as f32,
        },
        (other, _) => return Err(format!("field `positions`: expected \"learned\" or \"rope\", found {}", quote(other))),
    };
    let bos_id = match json.get("bos_id") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("field `bos_id`: expected a token id (a non-negative integer), found {}", v.describe()))?,
        ),
    };
    Ok(Config { vocab_size, d_model, n_layers, n_heads, d_head, d_mlp, context, ln_eps, positions, bos_id })
}

/// `__metadata__`: `format` must be [`FORMAT`], `config` a JSON object string, `name` optional text.
pub(super) fn read_metadata(meta: Option<&Json>) -> Result<(Config, String), WeightsError> {
    let meta = match meta {
        Some(m @ Json::Object(_)) => m,
        Some(other) => return Err(WeightsError::Header(format!("expected `__metadata__` to be an object, found {}", kind(other)))),
        None => {
            return Err(WeightsError::Metadata {
                key: "format",
                expected: format!("\"{FORMAT}\""),
                found: "no `__metadata__` in the header".into(),
            })
        }
    };
    let string = |key: &'static str| -> Result<Option<&str>, WeightsError> {
        match meta.get(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(WeightsError::Metadata { key, expected: "a string".into(), found: kind(other).into() }),
        }
    };
    match string("format")? {
        Some(FORMAT) => {}
        found => {
            return Err(WeightsError::Metadata {
                key: "format",
                expected: format!("\"{FORMAT}\""),
                found: found.map_or("nothing".to_string(), quote),
            })
        }
    }
    let config_text = string("config")?.ok_or_else(|| WeightsError::Metadata {
        key: "config",
        expected: "a JSON object with the model's dimensions".into(),
        found: "nothing".into(),
    })?;
    let config = parse_config(config_text).map_err(|e| WeightsError::Metadata {
        key: "config",
        expected: "{\"vocab_size\":V,\"d_model\":D,\"n_layers\":L,\"n_heads\":H,\"d_head\":Dh,\"d_mlp\":F,\"context\":C,\"ln_eps\":eps} (optionally \"positions\":\"rope\" with \"rope_base\", and \"bos_id\")".into(),
        found: format!("{} ({e})", quote(config_text)),
    })?;
    let name = string("name")?.unwrap_or("unnamed model").to_string();
    Ok((config, name))
}

/// One header entry: `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}`, offsets in bounds.
/// A header entry as read: dtype name, shape, data offsets (in bounds, begin ≤ end).
pub(super) type RawEntry = (String, Vec<u64>, usize, usize);

pub(super) fn read_entry(name: &str, info: &Json, data_len: usize) -> Result<RawEntry, WeightsError> {
    let bad = |what: String| WeightsError::Header(format!("tensor `{name}`: {what}"));
    let obj = match info {
        o @ Json::Object(_) => o,
        other => return Err(bad(format!("expected an object with `dtype`, `shape` and `data_offsets`, found {}", kind(other)))),
    };
    let dtype = match obj.get("dtype") {
        Some(Json::String(s)) => s.clone(),
        other => return Err(bad(format!("expected `dtype` a string, found {}", other.map_or("nothing", kind)))),
    };
    let numbers = |key: &str| -> Result<Vec<u64>, WeightsError> {
        match obj.get(key) {
            Some(Json::Array(items)) => items
                .iter()
                .map(|x| x.as_u64().ok_or_else(|| bad(format!("expected `{key}` to hold non-negative integers, found {}", x.describe()))))
                .collect(),
            other => Err(bad(format!("expected `{key}` an array of integers, found {}", other.map_or("nothing", kind)))),
        }
    };
    let shape = numbers("shape")?;
    let offsets = numbers("data_offsets")?;
    let [begin, end] = offsets[..] else {
        return Err(bad(format!("expected `data_offsets` [begin, end], found {} numbers", offsets.len())));
    };
    let in_bounds = |x: u64| usize::try_from(x).ok().filter(|&x| x <= data_len);
    match (in_bounds(begin), in_bounds(end)) {
        (Some(b), Some(e)) if b <= e => Ok((dtype, shape, b, e)),
        _ => Err(WeightsError::Offsets {
            name: name.to_string(),
            detail: format!("expected data_offsets within 0..={data_len} with begin ≤ end, found [{begin}, {end}]"),
        }),
    }
}
