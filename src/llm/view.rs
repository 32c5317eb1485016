//! One step of one head of one layer of the last analysis: what the page draws, asked for when it
//! draws it. Every matrix is the trace's own, except a head's share of ΔE (`delta`), computed on
//! request from its `mixed` and W_O (the forward pass computes ΔE for all heads at once).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use super::Llm;
use crate::trace::{Candidate, Matrix};

/// The steps [`Llm::view`] offers, in the page's order, and the matrices each returns (T tokens,
/// D = d_model, Dh = d_head, F = d_mlp, V = vocab_size; "its" = the asked query head's, or for keys
/// and values its key/value head's):
///
/// | step      | matrices                                                                 |
/// |-----------|--------------------------------------------------------------------------|
/// | `embed`   | `embeddings` (T,D) (the layer and head are ignored)                      |
/// | `queries` | `normed` (T,D), `queries` (T,Dh)                                         |
/// | `keys`    | `normed` (T,D), `keys` (T,Dh)                                            |
/// | `rotate`  | `queries`, `keys`, `rotated_queries`, `rotated_keys` (T,Dh)              |
/// | `scores`  | `rotated_queries`, `rotated_keys` (T,Dh), `scores` (T,T)                 |
/// | `scaled`  | `scores`, `scaled` (T,T)                                                 |
/// | `masked`  | `scaled`, `masked` (T,T) (−∞ above the diagonal)                         |
/// | `weights` | `masked`, `weights` (T,T)                                                |
/// | `values`  | `normed` (T,D), `values` (T,Dh)                                          |
/// | `mix`     | `weights` (T,T), `values` (T,Dh), `mixed` (T,Dh)                         |
/// | `delta`   | `mixed` (T,Dh), `delta` (T,D) (its share), `layer_delta` (T,D) (ΔE of all heads) |
/// | `update`  | `input`, `delta`, `updated`, `mlp_normed` (T,D), `mlp_hidden` (T,F), `mlp_out`, `output` (T,D) |
/// | `predict` | `normed` (1,D), `logits`, `probs` (1,V); and `top` (the layer and head are ignored) |
pub const STEPS: [&str; 13] =
    ["embed", "queries", "keys", "rotate", "scores", "scaled", "masked", "weights", "values", "mix", "delta", "update", "predict"];

/// One step's matrices, by name; `top` only for `predict`.
#[derive(Clone, Debug, Serialize)]
pub struct View<'a> {
    pub step: &'static str,
    pub layer: usize,
    pub head: usize,
    pub kv_head: usize,
    pub matrices: BTreeMap<&'static str, Cow<'a, Matrix>>,
    pub top: Option<&'a [Candidate]>,
}

impl Llm {
    /// The matrices of `step` (one of [`STEPS`]) for query head `head` of layer `layer` of the last
    /// analysis. Errors name what was asked and what exists.
    pub fn view(&self, layer: usize, head: usize, step: &str) -> Result<View<'_>, String> {
        let c = &self.model.config;
        let Some(a) = self.last() else {
            return Err("there is no analysis to view: analyse a text first".into());
        };
        let Some(&step) = STEPS.iter().find(|&&s| s == step) else {
            let shown: String = step.chars().take(40).collect();
            return Err(format!("unknown step `{shown}`: expected one of {}", STEPS.join(", ")));
        };
        if layer >= c.n_layers || head >= c.n_heads {
            return Err(format!(
                "layer {layer}, head {head} does not exist: the model has layers 0..{} and heads 0..{}",
                c.n_layers, c.n_heads
            ));
        }
        let g = c.kv_head(head);
        let l = &a.trace.layers[layer];
        let at = &l.heads[head];
        let input = if layer == 0 { &a.trace.embeddings } else { &a.trace.layers[layer - 1].output };
        let b = Cow::Borrowed;
        let list: Vec<(&'static str, Cow<Matrix>)> = match step {
            "embed" => vec![("embeddings", b(&a.trace.embeddings))],
            "queries" => vec![("normed", b(&l.normed)), ("queries", b(&l.queries[head]))],
            "keys" => vec![("normed", b(&l.normed)), ("keys", b(&l.keys[g]))],
            "rotate" => vec![
                ("queries", b(&l.queries[head])),
                ("keys", b(&l.keys[g])),
                ("rotated_queries", b(&l.rotated_queries[head])),
                ("rotated_keys", b(&l.rotated_keys[g])),
            ],
            "scores" => {
                vec![("rotated_queries", b(&l.rotated_queries[head])), ("rotated_keys", b(&l.rotated_keys[g])), ("scores", b(&at.scores))]
            }
            "scaled" => vec![("scores", b(&at.scores)), ("scaled", b(&at.scaled))],
            "masked" => vec![("scaled", b(&at.scaled)), ("masked", b(&at.masked))],
            "weights" => vec![("masked", b(&at.masked)), ("weights", b(&at.weights))],
            "values" => vec![("normed", b(&l.normed)), ("values", b(&l.values[g]))],
            "mix" => vec![("weights", b(&at.weights)), ("values", b(&l.values[g])), ("mixed", b(&at.mixed))],
            "delta" => {
                let enabled = !a.options.disabled_heads.contains(&(layer, head));
                let share = if enabled { self.model.head_delta(layer, head, &at.mixed) } else { Matrix::zeros(l.delta.rows, l.delta.cols) };
                vec![("mixed", b(&at.mixed)), ("delta", Cow::Owned(share)), ("layer_delta", b(&l.delta))]
            }
            "update" => vec![
                ("input", b(input)),
                ("delta", b(&l.delta)),
                ("updated", b(&l.updated)),
                ("mlp_normed", b(&l.mlp.normed)),
                ("mlp_hidden", b(&l.mlp.hidden)),
                ("mlp_out", b(&l.mlp.out)),
                ("output", b(&l.output)),
            ],
            _ => vec![("normed", b(&a.predict.normed)), ("logits", b(&a.predict.logits)), ("probs", b(&a.predict.probs))],
        };
        let top = (step == "predict").then_some(a.predict.top.as_slice());
        Ok(View { step, layer, head, kv_head: g, matrices: list.into_iter().collect(), top })
    }
}
