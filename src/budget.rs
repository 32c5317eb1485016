//! The work budget: what one analysis costs, computed from the model's dimensions and the number of
//! tokens T before anything is allocated, in checked `u64` arithmetic (on wasm32 `usize` is 32 bits,
//! and `t * t` wraps at t = 65,536).
//!
//! [`shapes`] lists every matrix one analysis allocates, trace and temporaries, with how many of each:
//! it is the one place the sizes are spelled out, and `tests/budget.rs` checks it against real traces.
//! From it, [`cost`] gives the trace's bytes, the peak bytes held at once and the work in steps. An
//! analysis must stay within [`MAX_TRACE_BYTES`], [`MAX_PEAK_BYTES`] and [`MAX_WORK`].
//!
//! **Steps of work.** A multiply-add of a matrix product is one step; each value of the trace costs
//! [`STEPS_PER_VALUE`] more (the elementwise steps, and its copy into a JavaScript `Float32Array`) and
//! each trace matrix [`STEPS_PER_MATRIX`] (the objects serde-wasm-bindgen makes for it). Measured in
//! headless Chromium on a shared 2-core machine (release build, simd128), one step is about 0.3 ns:
//! a 12×12 model's 118 tokens (32 MB of trace, 1,300 matrices) took 92–158 ms, a 6-layer d_model-256
//! model's 178 tokens (0.94e9 multiply-adds) 430 ms, a 256-layer × 64-head model's 5 tokens (149,000
//! matrices) 570–780 ms.
//!
//! **What happens when a text is too long for the budget.** The engine analyses the last
//! [`window`]`(config)` tokens (never more than the context), the same way it already keeps the last
//! `context` tokens, and the trace says so (`Trace::notice`): a long text still shows its end. A model
//! whose single-token analysis does not fit is refused at load ([`check_model`]), since no text could
//! ever be analysed with it.

use crate::config::{Config, Positions};
use crate::gguf::llama::LlamaConfig;
use crate::message::{bytes, thousands};

/// The most bytes of f32 data one trace may hold: the JavaScript heap receives a copy of all of it.
/// The shipped model's full context (64 tokens) needs about 1.9 MB.
pub const MAX_TRACE_BYTES: u64 = 32 << 20;
/// The most bytes one analysis may hold at once: the trace plus its largest temporary.
pub const MAX_PEAK_BYTES: u64 = 48 << 20;
/// The most work one analysis may do, in steps: about 180 ms of the main thread (see above). The
/// shipped model's full context, nearest neighbours included, needs about 1.3e8.
pub const MAX_WORK: u64 = 600_000_000;
/// Steps per value of the trace, beyond the multiply-adds that computed it.
pub const STEPS_PER_VALUE: u64 = 60;
/// Steps per matrix of the trace.
pub const STEPS_PER_MATRIX: u64 = 10_000;

/// What one analysis of T tokens costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    /// Bytes of f32 data in the trace (what JavaScript receives and its cache holds).
    pub trace_bytes: u64,
    /// The trace plus the largest temporary alive at the same time.
    pub peak_bytes: u64,
    /// Steps of work: multiply-adds, plus [`STEPS_PER_VALUE`] per trace value and
    /// [`STEPS_PER_MATRIX`] per trace matrix.
    pub work: u64,
}

/// `count` matrices of `rows × cols` f32s, named after the trace field (or the temporary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub name: &'static str,
    pub count: u64,
    pub rows: u64,
    pub cols: u64,
    /// Part of the trace (sent to JavaScript), or a temporary of the forward pass.
    pub in_trace: bool,
}

/// Every matrix an analysis of `t` tokens allocates, nearest neighbours included (the worst case).
pub fn shapes(c: &Config, t: u64) -> Vec<Shape> {
    let (l, h) = (c.n_layers as u64, c.n_heads as u64);
    let (d, dh, f, v) = (c.d_model as u64, c.d_head as u64, c.d_mlp as u64, c.vocab_size as u64);
    let hd = h.saturating_mul(dh);
    let lh = l.saturating_mul(h);
    let s = |name, count, rows, cols| Shape { name, count, rows, cols, in_trace: true };
    let temp = |name, count, rows, cols| Shape { name, count, rows, cols, in_trace: false };
    let rotary = matches!(c.positions, Positions::Rotary { .. });
    let mut out = vec![
        // rotary positions: no position_embeddings, and each head adds rotated_queries, rotated_keys
        s("token_embeddings, position_embeddings, embeddings", if rotary { 2 } else { 3 }, t, d),
        s("layers[].input, normed, delta, updated, output", l.saturating_mul(5), t, d),
        s("layers[].heads[].queries, keys, values, mixed", lh.saturating_mul(4), t, dh),
        s("layers[].heads[].scores, scaled, masked, weights", lh.saturating_mul(4), t, t),
        s("layers[].heads[].masked_row_max, masked_row_sum_exp, weights_row_sum", lh.saturating_mul(3), t, 1),
        s("layers[].heads[].delta", lh, t, d),
        s("predict.normed", 1, 1, d),
        s("predict.logits, probs", 2, 1, v),
        s("map.embeddings, map.updated[], map.layers[]", l.saturating_mul(2).saturating_add(1), t, 2),
        s("layers[].cos_updated, cos_output", l.saturating_mul(2), t, 1),
        // temporaries: one layer's queries, keys and values for all heads; one row of similarities
        temp("queries, keys, values of one layer (all heads)", 3, t, hd),
        temp("similarities of one position to the vocabulary", 1, 1, v),
    ];
    if rotary {
        out.push(s("layers[].heads[].rotated_queries, rotated_keys", lh.saturating_mul(2), t, dh));
    }
    if f > 0 {
        out.push(s("layers[].mlp.normed, out", l.saturating_mul(2), t, d));
        out.push(s("layers[].mlp.hidden", l, t, f));
    }
    out
}

/// The multiply-adds of the matrix products for `t` tokens, nearest neighbours included.
fn multiply_adds(c: &Config, t: u64) -> Option<u64> {
    let (l, h) = (c.n_layers as u64, c.n_heads as u64);
    let (d, dh, f, v) = (c.d_model as u64, c.d_head as u64, c.d_mlp as u64, c.vocab_size as u64);
    let hd = h.checked_mul(dh)?;
    // per layer: Q, K, V (T,D)·(D,HD); per head: S = Q·Kᵀ, A·V, mixed·W_O[h]; MLP in and out
    let qkv = product(&[3, t, d, hd])?;
    let per_head = product(&[t, t, dh])?.checked_mul(2)?.checked_add(product(&[t, dh, d])?)?;
    let mlp = product(&[2, t, d, f])?;
    // the two cosines of every row (cos_updated, cos_output): three dot products of length D each
    let cosines = product(&[6, t, d])?;
    let layer = qkv.checked_add(per_head.checked_mul(h)?)?.checked_add(mlp)?.checked_add(cosines)?;
    // the prediction (D,V), the map's projections (T,D)·(D,2), the neighbours (T,D)·(D,V) twice
    let predict = d.checked_mul(v)?;
    let map = product(&[l.checked_mul(2)?.checked_add(1)?, t, d, 2])?;
    let neighbours = product(&[2, t, d, v])?;
    layer.checked_mul(l)?.checked_add(predict)?.checked_add(map)?.checked_add(neighbours)
}

fn product(xs: &[u64]) -> Option<u64> {
    xs.iter().try_fold(1u64, |acc, &x| acc.checked_mul(x))
}

/// What an analysis of `t` tokens costs, or `None` if it does not even fit in `u64`.
#[inline(never)] // called from several places: one copy in the wasm module
pub fn cost(c: &Config, t: u64) -> Option<Cost> {
    cost_of(&shapes(c, t), multiply_adds(c, t)?, STEPS_PER_VALUE, STEPS_PER_MATRIX)
}

/// The cost of allocating `shapes` and doing `multiply_adds`: the trace's bytes, the trace plus
/// the largest temporary, and the work (multiply-adds, plus `per_value` steps per trace value and
/// `per_matrix` per trace matrix).
fn cost_of(shapes: &[Shape], multiply_adds: u64, per_value: u64, per_matrix: u64) -> Option<Cost> {
    let (mut trace, mut temp_max, mut matrices) = (0u64, 0u64, 0u64);
    for s in shapes {
        let bytes = product(&[s.count, s.rows, s.cols, 4])?;
        if s.in_trace {
            trace = trace.checked_add(bytes)?;
            matrices = matrices.checked_add(s.count)?;
        } else {
            temp_max = temp_max.max(bytes);
        }
    }
    let values = (trace / 4).checked_mul(per_value)?;
    let work = multiply_adds.checked_add(values)?.checked_add(matrices.checked_mul(per_matrix)?)?;
    Some(Cost { trace_bytes: trace, peak_bytes: trace.checked_add(temp_max)?, work })
}

/// Whether `cost` is within every limit.
pub fn fits(cost: Option<Cost>) -> bool {
    fits_in(cost, &SMALL)
}

fn fits_in(cost: Option<Cost>, l: &Limits) -> bool {
    cost.is_some_and(|c| c.trace_bytes <= l.trace_bytes && c.peak_bytes <= l.peak_bytes && c.work <= l.work)
}

/// The most tokens one analysis of this model reads: the context, or fewer if the budget says so
/// (0 if not even one token fits).
#[inline(never)] // called from several places: one copy in the wasm module
pub fn window(c: &Config) -> usize {
    largest(c.context, |t| fits(cost(c, t as u64)))
}

/// The largest t ≤ `max` with `fits(t)` (0 if none): costs grow with T, so a binary search finds it.
fn largest(max: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0usize, max);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Refuses a model none of whose analyses could fit, naming the limit it exceeds.
pub fn check_model(c: &Config) -> Result<(), String> {
    if window(c) > 0 {
        return Ok(());
    }
    Err(format!("{}; no text can be analysed with it", over_budget(c, 1)))
}

/// The limits one analysis must stay within.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub trace_bytes: u64,
    pub peak_bytes: u64,
    pub work: u64,
}

/// The tiny model's limits: [`MAX_TRACE_BYTES`], [`MAX_PEAK_BYTES`], [`MAX_WORK`].
pub const SMALL: Limits = Limits { trace_bytes: MAX_TRACE_BYTES, peak_bytes: MAX_PEAK_BYTES, work: MAX_WORK };

/// The three limits, in the order they are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Limit {
    Trace,
    Peak,
    Work,
}

/// The first of `limits` that `cost` exceeds (`None`: within all of them; a cost past `u64` exceeds
/// the trace's).
fn exceeded(cost: Option<Cost>, limits: &Limits) -> Option<Limit> {
    match cost {
        None => Some(Limit::Trace),
        Some(k) if k.trace_bytes > limits.trace_bytes => Some(Limit::Trace),
        Some(k) if k.peak_bytes > limits.peak_bytes => Some(Limit::Peak),
        Some(k) if k.work > limits.work => Some(Limit::Work),
        Some(_) => None,
    }
}

/// `t` tokens, costing `k`, measured against one of `limits`: "this model's trace for 3,000 tokens
/// would need 2.4 GB; the limit is 32 MB".
fn against(k: Option<Cost>, limits: &Limits, t: usize, limit: Limit) -> String {
    let tokens = if t == 1 { "a single token".to_string() } else { format!("{} tokens", thousands(t as u64)) };
    let Some(k) = k else {
        return format!("this model's analysis of {tokens} would need more than 2⁶⁴ bytes");
    };
    match limit {
        Limit::Trace => {
            format!("this model's trace for {tokens} would need {}; the limit is {}", bytes(k.trace_bytes), bytes(limits.trace_bytes))
        }
        Limit::Peak => format!(
            "this model's analysis of {tokens} would hold {} at once; the limit is {}",
            bytes(k.peak_bytes),
            bytes(limits.peak_bytes)
        ),
        Limit::Work => format!(
            "this model's analysis of {tokens} would take {} steps of work; the limit is {}{}",
            thousands(k.work),
            thousands(limits.work),
            if *limits == SMALL { " (about 0.2 s)" } else { "" }
        ),
    }
}

/// Why `t` tokens costing `k` do not fit `limits`, naming the first limit they exceed (for `t`
/// within the budget, the work they take).
fn explain(k: Option<Cost>, limits: &Limits, t: usize) -> String {
    against(k, limits, t, exceeded(k, limits).unwrap_or(Limit::Work))
}

/// Why `t` tokens do not fit the tiny model's budget.
pub fn over_budget(c: &Config, t: usize) -> String {
    explain(cost(c, t as u64), &SMALL, t)
}

/// Why an analysis that wanted `wanted` tokens reads only the last `window`: the limit that one more
/// token than the window would exceed, with what `wanted` tokens would need of it.
#[inline(never)] // called from several places: one copy in the wasm module
pub fn notice(c: &Config, wanted: usize, window: usize) -> String {
    let binding = exceeded(cost(c, window as u64 + 1), &SMALL).unwrap_or(Limit::Work);
    format!("{}: only the last {} tokens are analysed", against(cost(c, wanted as u64), &SMALL, wanted, binding), thousands(window as u64))
}

// ---------------------------------------------------------------------------------------------
// Large models (the Llama family, `llama.rs`)

/// A large model's limits. It runs in a Web Worker, so a second of work is acceptable where the tiny
/// model's budget counts main-thread milliseconds; and its trace stays inside wasm (the page asks for
/// one head and step at a time, `llm.rs`), so the trace limit bounds wasm memory, not a copy in the
/// JavaScript heap. With SmolLM2-135M (a 98 MB file, held in wasm as it is) that is at most
/// 98 MB + 112 MB + the tokenizer (~10 MB) of wasm memory, within the 300 MB goal; 64 tokens need
/// 71 MB of trace and 7.0e9 multiply-adds; the window is 81 tokens (`tests/llama.rs`).
pub const LARGE: Limits = Limits { trace_bytes: 96 << 20, peak_bytes: 112 << 20, work: 20_000_000_000 };

/// The side of a head's weights thumbnail for `t` tokens: the weights themselves up to 24 × 24,
/// max-pooled to 24 × 24 beyond.
pub const THUMBNAIL: u64 = 24;

/// Every matrix an analysis of `t` tokens of a Llama model allocates (`llama.rs`, `llm.rs`).
pub fn llama_shapes(c: &LlamaConfig, t: u64) -> Vec<Shape> {
    let (l, h, g) = (c.n_layers as u64, c.n_heads as u64, c.n_kv_heads as u64);
    let (d, dh, f, v) = (c.d_model as u64, c.d_head as u64, c.d_mlp as u64, c.vocab_size as u64);
    let (lh, lg) = (l.saturating_mul(h), l.saturating_mul(g));
    let s = |name, count, rows, cols| Shape { name, count, rows, cols, in_trace: true };
    let temp = |name, count, rows, cols| Shape { name, count, rows, cols, in_trace: false };
    let side = t.min(THUMBNAIL);
    vec![
        s("embeddings", 1, t, d),
        s("layers[].normed, delta, updated, mlp.normed, mlp.out, output", l.saturating_mul(6), t, d),
        s("layers[].queries, rotated_queries, heads[].mixed", lh.saturating_mul(3), t, dh),
        s("layers[].keys, rotated_keys, values", lg.saturating_mul(3), t, dh),
        s("layers[].heads[].scores, scaled, masked, weights", lh.saturating_mul(4), t, t),
        s("layers[].mlp.hidden", l, t, f),
        s("predict.normed", 1, 1, d),
        s("predict.logits, probs", 2, 1, v),
        s("heads[].thumbnail (the summary)", lh, side, side),
        // temporaries: one layer's queries, keys and values (all heads); its heads' mixed side by
        // side; the MLP's up projection
        temp("queries, keys, values of one layer", 1, t, h.saturating_add(g.saturating_mul(2)).saturating_mul(dh)),
        temp("mixed of one layer, heads side by side", 1, t, h.saturating_mul(dh)),
        temp("the MLP's up projection", 1, t, f),
    ]
}

/// The multiply-adds of a Llama model's matrix products for `t` tokens.
fn llama_multiply_adds(c: &LlamaConfig, t: u64) -> Option<u64> {
    let (l, h, g) = (c.n_layers as u64, c.n_heads as u64, c.n_kv_heads as u64);
    let (d, dh, f, v) = (c.d_model as u64, c.d_head as u64, c.d_mlp as u64, c.vocab_size as u64);
    // per layer: Q, K, V (T,D)·(D,(H+2G)·Dh); per head S = Q·Kᵀ and A·V; W_O; the MLP's three
    let qkv = product(&[t, d, h.checked_add(g.checked_mul(2)?)?, dh])?;
    let heads = product(&[2, h, t, t, dh])?;
    let out = product(&[t, h, dh, d])?;
    let mlp = product(&[3, t, d, f])?;
    let layer = qkv.checked_add(heads)?.checked_add(out)?.checked_add(mlp)?;
    // the prediction: one row (D) against the output matrix (V,D)
    layer.checked_mul(l)?.checked_add(d.checked_mul(v)?)
}

/// What an analysis of `t` tokens of a Llama model costs, or `None` if it does not fit in `u64`. Its
/// trace stays inside wasm (no copy into JavaScript objects): one step per value written.
pub fn llama_cost(c: &LlamaConfig, t: u64) -> Option<Cost> {
    cost_of(&llama_shapes(c, t), llama_multiply_adds(c, t)?, 1, 0)
}

/// The most tokens one analysis of this Llama model reads: its context, or fewer if [`LARGE`] says so.
pub fn llama_window(c: &LlamaConfig) -> usize {
    largest(c.context, |t| fits_in(llama_cost(c, t as u64), &LARGE))
}

/// Why `t` tokens of this Llama model do not fit.
pub fn llama_over_budget(c: &LlamaConfig, t: usize) -> String {
    explain(llama_cost(c, t as u64), &LARGE, t)
}
