//! Head profiles: what each attention head of a model was measured to do, and the short name that
//! follows from it ("previous token", "induction", "start/resting", …). Names are data shipped with
//! the model (`model/heads.json`, written by `trainer/eval.py --heads`), never written by hand in the
//! page. The file:
//!
//! ```text
//! { "model": "name in the weights' metadata", "measured_on": "…" (optional),
//!   "rules": [ { "name": "previous token", "when": "≥ 0.6 of its weight on token i−1" }, … ],
//!   "trained_by_auxiliary_loss": { "layer": 0, "head": 0, "target": "previous token" } or null,
//!   "heads": [ { "layer": 0, "head": 0, "name": "previous token", "prev": 0.98, "self": 0.01,
//!                "start": 0.0, "duplicate": 0.0, "induction": 0.02, "mean_distance": 1.1 }, … ] }
//! ```
//! [`HeadProfile::parse`] checks it against the model: every layer and head exactly once, every weight
//! fraction a finite number in 0..=1, mean distances finite and ≥ 0, names non-empty, at most
//! [`MAX_NAME_CHARS`] characters and one of the rules' names.

use serde::Serialize;

use crate::config::Config;
use crate::json::{quote, Json};

/// The longest head or rule name accepted, in characters (the head picker has little room).
pub const MAX_NAME_CHARS: usize = 40;

/// A model's measured head profile, heads in layer-major order (`heads[layer * n_heads + head]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeadProfile {
    pub model: String,
    /// What the numbers were measured on, if the file says.
    pub measured_on: Option<String>,
    /// How a name follows from the numbers: the first rule that holds names the head.
    pub rules: Vec<NameRule>,
    /// The head an auxiliary loss trained towards a target (disclosed on the page), if any.
    pub trained_by_auxiliary_loss: Option<TrainedHead>,
    pub heads: Vec<HeadInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NameRule {
    pub name: String,
    pub when: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainedHead {
    pub layer: usize,
    pub head: usize,
    pub target: String,
}

/// One head's profile: mean attention weight on the previous token, on itself, on the start token, on
/// earlier copies of its own token, its induction score, and the mean distance to what it looks at.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeadInfo {
    pub layer: usize,
    pub head: usize,
    pub name: String,
    pub prev: f32,
    #[serde(rename = "self")]
    pub self_: f32,
    pub start: f32,
    pub duplicate: f32,
    pub induction: f32,
    pub mean_distance: f32,
}

fn kind(v: Option<&Json>) -> String {
    v.map_or_else(|| "nothing".to_string(), Json::describe)
}

fn text(v: Option<&Json>, what: &str) -> Result<String, String> {
    match v {
        Some(Json::String(s)) => Ok(s.clone()),
        other => Err(format!("`{what}`: expected a string, found {}", kind(other))),
    }
}

fn name(v: Option<&Json>, what: &str) -> Result<String, String> {
    let s = text(v, what)?;
    let n = s.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(format!("`{what}`: expected a name of 1 to {MAX_NAME_CHARS} characters, found {} ({n})", quote(&s)));
    }
    Ok(s)
}

fn index(v: Option<&Json>, what: &str, below: usize, of: &str) -> Result<usize, String> {
    match v.and_then(Json::as_u64).and_then(|n| usize::try_from(n).ok()) {
        Some(i) if i < below => Ok(i),
        _ => Err(format!("`{what}`: expected a {of} index in 0..{below}, found {}", kind(v))),
    }
}

/// A finite number ≥ 0, and at most 1 if it is a `fraction` (of a head's attention weight).
fn number(v: Option<&Json>, what: &str, fraction: bool) -> Result<f32, String> {
    let x = v.and_then(Json::as_f64).filter(|x| x.is_finite() && *x >= 0.0 && (!fraction || *x <= 1.0));
    x.map(|x| x as f32).ok_or_else(|| {
        let range = if fraction { "in 0..=1" } else { "finite and ≥ 0" };
        format!("`{what}`: expected a number {range}, found {}", kind(v))
    })
}

fn array<'a>(v: Option<&'a Json>, what: &str) -> Result<&'a [Json], String> {
    v.and_then(Json::as_array).ok_or_else(|| format!("`{what}`: expected an array, found {}", kind(v)))
}

impl HeadProfile {
    /// Reads a head profile and checks it against the model it is for (`model_name`, `config`).
    pub fn parse(bytes: &[u8], model_name: &str, config: &Config) -> Result<HeadProfile, String> {
        let json = Json::parse(bytes)?;
        if json.as_object().is_none() {
            return Err(format!("expected a JSON object, found {}", json.describe()));
        }
        let model = text(json.get("model"), "model")?;
        if model != model_name {
            return Err(format!("`model`: expected the profile of {}, found one for {}", quote(model_name), quote(&model)));
        }
        let measured_on = json.get("measured_on").map(|v| text(Some(v), "measured_on")).transpose()?;
        let mut rules = Vec::new();
        for (i, r) in array(json.get("rules"), "rules")?.iter().enumerate() {
            rules.push(NameRule {
                name: name(r.get("name"), &format!("rules[{i}].name"))?,
                when: text(r.get("when"), &format!("rules[{i}].when"))?,
            });
        }
        let (n_layers, n_heads) = (config.n_layers, config.n_heads);
        let trained_by_auxiliary_loss = match json.get("trained_by_auxiliary_loss") {
            None | Some(Json::Null) => None,
            Some(t @ Json::Object(_)) => Some(TrainedHead {
                layer: index(t.get("layer"), "trained_by_auxiliary_loss.layer", n_layers, "layer")?,
                head: index(t.get("head"), "trained_by_auxiliary_loss.head", n_heads, "head")?,
                target: text(t.get("target"), "trained_by_auxiliary_loss.target")?,
            }),
            Some(other) => return Err(format!("`trained_by_auxiliary_loss`: expected an object or null, found {}", other.describe())),
        };
        let heads = heads(array(json.get("heads"), "heads")?, &rules, n_layers, n_heads)?;
        Ok(HeadProfile { model, measured_on, rules, trained_by_auxiliary_loss, heads })
    }

    /// The profile of head `head` of layer `layer`.
    pub fn head(&self, layer: usize, head: usize) -> Option<&HeadInfo> {
        self.heads.iter().find(|h| h.layer == layer && h.head == head)
    }
}

/// Every head of an `n_layers` × `n_heads` model exactly once, in layer-major order.
fn heads(items: &[Json], rules: &[NameRule], n_layers: usize, n_heads: usize) -> Result<Vec<HeadInfo>, String> {
    let mut slots: Vec<Option<(usize, HeadInfo)>> = vec![None; n_layers * n_heads];
    for (i, v) in items.iter().enumerate() {
        let at = |key: &str| format!("heads[{i}].{key}");
        let layer = index(v.get("layer"), &at("layer"), n_layers, "layer")?;
        let head = index(v.get("head"), &at("head"), n_heads, "head")?;
        let head_name = name(v.get("name"), &at("name"))?;
        if !rules.iter().any(|r| r.name == head_name) {
            let names: Vec<String> = rules.iter().map(|r| quote(&r.name)).collect();
            return Err(format!("`{}`: expected one of the rules' names ({}), found {}", at("name"), names.join(", "), quote(&head_name)));
        }
        let fraction = |key: &str| number(v.get(key), &at(key), true);
        let info = HeadInfo {
            layer,
            head,
            name: head_name,
            prev: fraction("prev")?,
            self_: fraction("self")?,
            start: fraction("start")?,
            duplicate: fraction("duplicate")?,
            induction: fraction("induction")?,
            mean_distance: number(v.get("mean_distance"), &at("mean_distance"), false)?,
        };
        let slot = &mut slots[layer * n_heads + head];
        if let Some((first, _)) = slot {
            return Err(format!("`heads[{i}]`: expected each head once, found layer {layer} head {head} again (first at heads[{first}])"));
        }
        *slot = Some((i, info));
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(k, s)| {
            s.map(|(_, info)| info).ok_or_else(|| {
                format!(
                    "`heads`: expected every head of the model ({n_layers} layers × {n_heads} heads) once, found none for layer {} head {}",
                    k / n_heads,
                    k % n_heads
                )
            })
        })
        .collect()
}
