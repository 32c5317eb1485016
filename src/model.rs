//! The model: its weights and the forward pass top to bottom, one function per step. Its dimensions
//! are `config.rs`'s `Config`, re-exported here.

pub use crate::config::{Config, Positions};

/// LayerNorm parameters.
#[derive(Clone, Debug, Default)]
pub struct Norm {
    pub weight: Vec<f32>, // (d_model)
    pub bias: Vec<f32>,   // (d_model)
}

/// The MLP of one layer.
#[derive(Clone, Debug, Default)]
pub struct Mlp {
    pub ln: Norm,
    pub w_in: Vec<f32>,  // (d_model, d_mlp)
    pub b_in: Vec<f32>,  // (d_mlp)
    pub w_out: Vec<f32>, // (d_mlp, d_model)
    pub b_out: Vec<f32>, // (d_model)
}

/// One transformer layer.
#[derive(Clone, Debug, Default)]
pub struct Layer {
    pub ln1: Norm,
    pub w_q: Vec<f32>, // (d_model, n_heads * d_head); head h = columns h*d_head..(h+1)*d_head
    pub w_k: Vec<f32>, // (d_model, n_heads * d_head)
    pub w_v: Vec<f32>, // (d_model, n_heads * d_head)
    pub w_o: Vec<f32>, // (n_heads * d_head, d_model); head h = rows h*d_head..(h+1)*d_head
    pub mlp: Option<Mlp>,
}

/// Every weight of a model, expanded to f32 and validated (see `weights.rs`).
#[derive(Clone, Debug)]
pub struct Weights {
    pub config: Config,
    /// A human-readable model name from the file's metadata.
    pub name: String,
    pub tok_emb: Vec<f32>, // (vocab_size, d_model); also the (tied) unembedding
    pub pos_emb: Vec<f32>, // (context, d_model); empty with rotary positions
    pub layers: Vec<Layer>,
    pub ln_f: Norm,
}

use crate::kernels;
use crate::message::float_text;
use crate::trace::{Candidate, HeadTrace, LayerTrace, MapTrace, Matrix, MlpTrace, Neighbour, Neighbours, Options, Prediction};

/// How many nearest vocabulary tokens `Options::neighbours` lists per position.
pub const NEIGHBOURS: usize = 5;

/// A loaded model: its weights and what is derived from them once, at load.
#[derive(Clone, Debug)]
pub struct Model {
    pub weights: Weights,
    /// The embedding map's fixed 2-D projection.
    pub projection: Projection,
    /// ‖W_E[v] − μ‖ for every token v (μ = the mean embedding row), for centred cosine similarities.
    tok_norms: Vec<f32>, // (V)
}

/// The intermediates of the forward pass proper (before the prediction).
#[derive(Clone, Debug)]
pub struct Forward {
    pub token_embeddings: Matrix,            // (T, D)
    pub position_embeddings: Option<Matrix>, // (T, D); None with rotary positions
    pub embeddings: Matrix,                  // (T, D)
    pub layers: Vec<LayerTrace>,
}

/// What the model computes for one window of token ids: the forward pass, the prediction, the
/// embedding map and (if asked) the nearest vocabulary tokens. Token texts are left empty for the
/// caller, which has the tokenizer (`Engine::analyze`).
#[derive(Clone, Debug)]
pub struct Analysis {
    pub forward: Forward,
    pub predict: Prediction,
    pub map: MapTrace,
    pub neighbours: Option<Neighbours>,
}

/// A fixed linear map from d_model to 2-D: the two leading principal components of the
/// token-embedding table. `coords = (x − mean) · axesᵀ`.
#[derive(Clone, Debug)]
pub struct Projection {
    pub mean: Vec<f32>, // (D)
    pub axes: Vec<f32>, // (2, D), unit rows, orthogonal
}

/// Why an analysis could not run. Every message says what was expected and what was found.
#[derive(Clone, Debug, PartialEq)]
pub enum AnalyzeError {
    /// The text produced no tokens.
    Empty,
    BadOption(String),
    /// Not even one token fits the work budget (`budget.rs`); the message names the limit.
    Budget(String),
    /// The forward pass produced NaN or ∞ (weights too large for f32 arithmetic), with where.
    Overflow(String),
}

impl std::fmt::Display for AnalyzeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnalyzeError::Empty => write!(f, "there is nothing to analyse: type at least one character"),
            AnalyzeError::BadOption(m) => write!(f, "invalid options: {m}"),
            AnalyzeError::Budget(m) => write!(f, "this model is too large to analyse here: {m}"),
            AnalyzeError::Overflow(m) => write!(
                f,
                "the model's arithmetic overflowed: expected finite numbers, found {m}; its weights are too large for 32-bit floats"
            ),
        }
    }
}

impl std::error::Error for AnalyzeError {}

impl Model {
    /// Wraps validated weights and derives the embedding map's projection.
    pub fn new(weights: Weights) -> Model {
        let d = weights.config.d_model;
        let projection = principal_axes(&weights.tok_emb, weights.config.vocab_size, d);
        let mean = &projection.mean;
        let tok_norms =
            weights.tok_emb.chunks_exact(d).map(|r| r.iter().zip(mean).map(|(x, m)| (x - m) * (x - m)).sum::<f32>().sqrt()).collect();
        Model { weights, projection, tok_norms }
    }

    pub fn config(&self) -> &Config {
        &self.weights.config
    }

    /// What the scaling step divides the scores by: √Dh, or 1 with scaling switched off.
    pub fn score_divisor(&self, options: &Options) -> f32 {
        if options.scale {
            (self.weights.config.d_head as f32).sqrt()
        } else {
            1.0
        }
    }

    /// The model's part of an analysis, for at least one token id, at most as many as the context
    /// and the work budget allow (`Engine::analyze` makes sure): the forward pass, the prediction at
    /// `options.predict_position` (below `ids.len()`; None is the last token), the embedding map and,
    /// if asked, the nearest tokens. Refused if the arithmetic overflowed.
    pub fn analyze(&self, ids: &[u32], options: &Options) -> Result<Analysis, AnalyzeError> {
        debug_assert!(!ids.is_empty() && options.predict_position.is_none_or(|p| p < ids.len()));
        let forward = self.forward(ids, options);
        let last = forward.layers.last().map_or(&forward.embeddings, |prev| &prev.output);
        let position = options.predict_position.unwrap_or(ids.len() - 1);
        let predict = self.predict(last.row(position), position, options.temperature, options.top_k);
        check_finite(&forward.layers, &predict)?;
        let map = MapTrace {
            embeddings: self.project(&forward.embeddings),
            updated: forward.layers.iter().map(|layer| self.project(&layer.updated)).collect(),
            layers: forward.layers.iter().map(|layer| self.project(&layer.output)).collect(),
        };
        let neighbours = options.neighbours.then(|| Neighbours {
            before: self.nearest_tokens(&forward.embeddings, NEIGHBOURS),
            after: self.nearest_tokens(last, NEIGHBOURS),
        });
        Ok(Analysis { forward, predict, map, neighbours })
    }

    /// The forward pass for token ids (at most `context` of them, all below `vocab_size`).
    pub fn forward(&self, ids: &[u32], options: &Options) -> Forward {
        let cfg = &self.weights.config;
        debug_assert!(ids.len() <= cfg.context && ids.iter().all(|&id| (id as usize) < cfg.vocab_size));
        let (token_embeddings, position_embeddings, embeddings) = self.embed(ids);
        let mut layers: Vec<LayerTrace> = Vec::with_capacity(cfg.n_layers);
        for l in 0..cfg.n_layers {
            let input = layers.last().map_or(&embeddings, |prev| &prev.output).clone();
            layers.push(self.layer(l, input, options));
        }
        Forward { token_embeddings, position_embeddings, embeddings, layers }
    }

    /// token_embeddings (T,D) = W_E[ids]; position_embeddings (T,D) = P[0..T]; embeddings = their sum.
    /// With rotary positions there is no P: embeddings = token_embeddings (positions come in at `rotate`).
    fn embed(&self, ids: &[u32]) -> (Matrix, Option<Matrix>, Matrix) {
        let d = self.weights.config.d_model;
        let t = ids.len();
        let mut tok = Matrix::zeros(t, d);
        for (row, &id) in tok.data.chunks_exact_mut(d).zip(ids) {
            let id = id as usize;
            row.copy_from_slice(&self.weights.tok_emb[id * d..(id + 1) * d]);
        }
        if matches!(self.weights.config.positions, Positions::Rotary { .. }) {
            return (tok.clone(), None, tok);
        }
        let pos = Matrix::from_vec(t, d, self.weights.pos_emb[..elements(t, d)].to_vec());
        let mut e = tok.clone();
        add_into(&mut e.data, &pos.data);
        (tok, Some(pos), e)
    }

    /// rotated (T,Dh) = x (T,Dh) turned by its positions ([`Rotary`]); None with learned positions.
    fn rotate(&self, x: &Matrix) -> Option<Matrix> {
        let Positions::Rotary { base } = self.weights.config.positions else {
            return None;
        };
        Some(Rotary::new(base, x.rows, x.cols).rotate(x))
    }

    /// One layer: pre-norm multi-head causal self-attention with a residual update, then the MLP.
    fn layer(&self, l: usize, input: Matrix, options: &Options) -> LayerTrace {
        let cfg = &self.weights.config;
        let w = &self.weights.layers[l];
        let (t, d, dh) = (input.rows, cfg.d_model, cfg.d_head);
        let hd = cfg.n_heads * dh;

        // normed (T,D) = LN(E; ln1)
        let normed = norm(&input, &w.ln1, cfg.ln_eps);
        // queries, keys, values for all heads at once: (T,H·Dh) = normed (T,D) · W (D,H·Dh)
        let q = project(&normed, &w.w_q, hd);
        let k = project(&normed, &w.w_k, hd);
        let v = project(&normed, &w.w_v, hd);

        let mut delta = Matrix::zeros(t, d);
        let mut heads = Vec::with_capacity(cfg.n_heads);
        for h in 0..cfg.n_heads {
            let enabled = !options.disabled_heads.contains(&(l, h));
            let head = self.head(w, h, columns(&q, h, dh), columns(&k, h, dh), columns(&v, h, dh), enabled, options);
            add_into(&mut delta.data, &head.delta.data);
            heads.push(head);
        }

        // updated (T,D) = E + ΔE: the residual update
        let mut updated = input.clone();
        add_into(&mut updated.data, &delta.data);

        let mlp = w.mlp.as_ref().map(|m| mlp(m, &updated, cfg.ln_eps));
        let mut output = updated.clone();
        if let Some(m) = &mlp {
            add_into(&mut output.data, &m.out.data);
        }
        // cos_updated, cos_output (T,1): each row's turn through attention, then through the MLP
        let (cos_updated, cos_output) = (row_cosines(&input, &updated), row_cosines(&updated, &output));
        LayerTrace { input, normed, heads, delta, updated, mlp, output, cos_updated, cos_output }
    }

    /// One head: scores, scaling, mask, softmax, mixing, and its share of ΔE.
    #[allow(clippy::too_many_arguments)]
    fn head(&self, w: &Layer, h: usize, queries: Matrix, keys: Matrix, values: Matrix, enabled: bool, o: &Options) -> HeadTrace {
        let cfg = &self.weights.config;
        let (t, d, dh) = (queries.rows, cfg.d_model, cfg.d_head);

        // rotated_queries, rotated_keys (T,Dh): Q and K turned by their positions (rotary models only)
        let (rotated_queries, rotated_keys) = (self.rotate(&queries), self.rotate(&keys));
        let q = rotated_queries.as_ref().unwrap_or(&queries);
        let k = rotated_keys.as_ref().unwrap_or(&keys);

        // scores, scaled, masked, weights (T,T) and mixed (T,Dh), with Q and K rotated if the model rotates them
        // with the numbers of each row's softmax, for the page to print (T): max and Σ exp
        let Attention { scores, scaled, masked, weights, mixed, row_max: masked_row_max, row_sum_exp: masked_row_sum_exp } =
            attend(q, k, &values, o);
        // Σ weights of each row (T), for the Σ column
        let weights_row_sum = row_sums(&weights);

        // delta (T,D) = mixed (T,Dh) · W_O[h] (Dh,D); a switched-off head contributes nothing
        let mut delta = Matrix::zeros(t, d);
        if enabled {
            let w_o = &w.w_o[h * dh * d..(h + 1) * dh * d];
            kernels::matmul(&mixed.data, w_o, &mut delta.data, t, dh, d);
        }
        HeadTrace {
            enabled,
            queries,
            keys,
            rotated_queries,
            rotated_keys,
            values,
            scores,
            scaled,
            masked,
            masked_row_max,
            masked_row_sum_exp,
            weights,
            weights_row_sum,
            mixed,
            delta,
        }
    }

    /// The last vector predicts the next token: probs (V) = softmax(LN(x; ln_f) · W_Eᵀ / τ).
    /// Candidates' `text` is left empty for the caller, which has the tokenizer.
    pub fn predict(&self, x: &[f32], position: usize, temperature: f32, top_k: usize) -> Prediction {
        let cfg = &self.weights.config;
        let (d, vocab) = (cfg.d_model, cfg.vocab_size);
        // normed (1,D) = LN(x; ln_f)
        let normed = norm(&Matrix::from_vec(1, d, x.to_vec()), &self.weights.ln_f, cfg.ln_eps);
        // logits (1,V) = normed (1,D) · W_Eᵀ (D,V): the tied unembedding
        let mut logits = Matrix::zeros(1, vocab);
        kernels::matmul_bt(&normed.data, &self.weights.tok_emb, &mut logits.data, 1, d, vocab);
        // probs (1,V) = softmax(logits / τ)
        let mut probs = logits.clone();
        probs.data.iter_mut().for_each(|z| *z /= temperature);
        kernels::softmax_rows(&mut probs.data, 1, vocab, false);

        let top = top_indices(&probs.data, top_k)
            .into_iter()
            .map(|i| Candidate { id: i as u32, text: String::new(), logit: logits.data[i], prob: probs.data[i] })
            .collect();
        Prediction { position, temperature, normed, logits, probs, top }
    }

    /// xc (T,D) = x − μ, with μ the mean embedding row (the projection's centre).
    fn centred(&self, x: &Matrix) -> Matrix {
        let mut xc = x.clone();
        for row in xc.data.chunks_exact_mut(x.cols) {
            row.iter_mut().zip(&self.projection.mean).for_each(|(v, m)| *v -= m);
        }
        xc
    }

    /// coords (T,2) = (x − mean) · axesᵀ on the embedding map.
    pub fn project(&self, x: &Matrix) -> Matrix {
        let d = self.weights.config.d_model;
        let centred = self.centred(x);
        let mut out = Matrix::zeros(x.rows, 2);
        kernels::matmul_bt(&centred.data, &self.projection.axes, &mut out.data, x.rows, d, 2);
        out
    }

    /// For each row of x, the `n` tokens whose embedding rows have the highest cosine similarity with
    /// it, both measured from the mean embedding row μ (the projection's centre): without centring,
    /// the direction every embedding shares dominates and punctuation is everyone's neighbour.
    /// Their `text` is left empty for the caller, which has the tokenizer.
    pub fn nearest_tokens(&self, x: &Matrix, n: usize) -> Vec<Vec<Neighbour>> {
        let (d, vocab) = (self.weights.config.d_model, self.weights.config.vocab_size);
        let mean = &self.projection.mean;
        let xc = self.centred(x);
        // sims (1,V) = xr · (W_E − μ)ᵀ = xr · W_Eᵀ − xr·μ, then divided by both norms; one row at a
        // time, so the temporary is (1,V) whatever T is
        let mut sims = vec![0.0f32; vocab];
        xc.data
            .chunks_exact(d)
            .map(|xr| {
                let row = sims.as_mut_slice();
                kernels::matmul_bt(xr, &self.weights.tok_emb, row, 1, d, vocab);
                let shift: f32 = xr.iter().zip(mean).map(|(a, b)| a * b).sum();
                let xn = xr.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
                row.iter_mut().zip(&self.tok_norms).for_each(|(s, tn)| *s = (*s - shift) / (xn * tn.max(f32::MIN_POSITIVE)));
                top_indices(row, n).into_iter().map(|i| Neighbour { id: i as u32, text: String::new(), similarity: row[i] }).collect()
            })
            .collect()
    }
}

/// One head's attention once its queries and keys are final (rotated, in a rotary model): the
/// steps from `scores` to `mixed`, the same in every model family.
#[derive(Clone, Debug)]
pub struct Attention {
    pub scores: Matrix,  // (T, T)   Q · Kᵀ
    pub scaled: Matrix,  // (T, T)   scores / √Dh (or scores, if scaling is switched off)
    pub masked: Matrix,  // (T, T)   scaled with −∞ where key > query (unless the mask is switched off)
    pub weights: Matrix, // (T, T)   softmax of each row of masked
    pub mixed: Matrix,   // (T, Dh)  weights · V
    /// (T) each row's max of masked and Σ exp(masked − max), as the softmax kernel used them
    pub row_max: Vec<f32>,
    pub row_sum_exp: Vec<f32>,
}

/// scores, scaled, masked, weights and mixed for queries q (T,Dh), keys k (T,Dh), values v (T,Dh).
pub fn attend(q: &Matrix, k: &Matrix, v: &Matrix, o: &Options) -> Attention {
    let (t, dh) = (q.rows, q.cols);
    // scores (T,T) = Q (T,Dh) · Kᵀ (Dh,T)
    let mut scores = Matrix::zeros(t, t);
    kernels::matmul_bt(&q.data, &k.data, &mut scores.data, t, dh, t);

    // scaled (T,T) = scores / √Dh: keeps the softmax out of saturation as Dh grows
    let mut scaled = scores.clone();
    if o.scale {
        let s = 1.0 / (dh as f32).sqrt();
        scaled.data.iter_mut().for_each(|x| *x *= s);
    }

    // masked (T,T): −∞ where key j > query i, so a token cannot look ahead
    let mut masked = scaled.clone();
    if o.causal {
        for i in 0..t {
            masked.data[i * t + i + 1..(i + 1) * t].fill(f32::NEG_INFINITY);
        }
    }

    // weights (T,T) = softmax over each row: every query's distribution over the keys
    let mut weights = masked.clone();
    let (mut row_max, mut row_sum_exp) = (vec![0.0; t], vec![0.0; t]);
    kernels::softmax_rows_terms(&mut weights.data, t, t, o.causal, &mut row_max, &mut row_sum_exp);

    // mixed (T,Dh) = weights (T,T) · V (T,Dh)
    let mut mixed = Matrix::zeros(t, v.cols);
    kernels::matmul(&weights.data, &v.data, &mut mixed.data, t, t, v.cols);
    Attention { scores, scaled, masked, weights, mixed, row_max, row_sum_exp }
}

/// The rotary angles for T positions and heads of Dh dimensions: cos θ and sin θ (in f64) of
/// θ = t·base^(−2i/Dh) for pair i at position t, computed once and applied to any number of heads.
#[derive(Clone, Debug)]
pub struct Rotary {
    pairs: usize,
    cos_sin: Vec<(f64, f64)>, // (T, Dh/2)
}

impl Rotary {
    pub fn new(base: f32, t: usize, dh: usize) -> Rotary {
        // θ_i / t = base^(−2i/Dh): pair 0 turns by 1 radian per position, the last pair the slowest
        let speeds: Vec<f64> = (0..dh / 2).map(|i| f64::from(base).powf(-2.0 * i as f64 / dh as f64)).collect();
        let cos_sin =
            (0..t).flat_map(|pos| speeds.iter().map(move |speed| (pos as f64 * speed).sin_cos())).map(|(sin, cos)| (cos, sin)).collect();
        Rotary { pairs: dh / 2, cos_sin }
    }

    /// rotated (T,Dh) = x (T,Dh) with each adjacent pair (x[2i], x[2i+1]) of row t turned by θ:
    /// r0 = x0·cos θ − x1·sin θ, r1 = x0·sin θ + x1·cos θ (in f64, rounded to f32). Turning q at
    /// position i and k at position j makes q·k depend on i − j, not on i and j.
    pub fn rotate(&self, x: &Matrix) -> Matrix {
        debug_assert!(x.cols == 2 * self.pairs && x.rows * self.pairs <= self.cos_sin.len());
        let mut out = x.clone();
        for (row, angles) in out.data.chunks_exact_mut(x.cols).zip(self.cos_sin.chunks_exact(self.pairs)) {
            for (pair, &(cos, sin)) in row.chunks_exact_mut(2).zip(angles) {
                let (x0, x1) = (f64::from(pair[0]), f64::from(pair[1]));
                pair[0] = (x0 * cos - x1 * sin) as f32;
                pair[1] = (x0 * sin + x1 * cos) as f32;
            }
        }
        out
    }
}

/// cos (T,1) = a_i·b_i / (|a_i| |b_i|) for each row i of two (T,D) matrices, in f64 (0 for a zero row).
fn row_cosines(a: &Matrix, b: &Matrix) -> Matrix {
    debug_assert_eq!((a.rows, a.cols), (b.rows, b.cols));
    let data = (0..a.rows).map(|i| cosine(a.row(i), b.row(i))).collect();
    Matrix::from_vec(a.rows, 1, data)
}

/// a·b / (|a| |b|), accumulated in f64; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    (ab / (aa.sqrt() * bb.sqrt())) as f32
}

/// out (T,D) = LN(x; p), row by row.
fn norm(x: &Matrix, p: &Norm, eps: f32) -> Matrix {
    let mut out = Matrix::zeros(x.rows, x.cols);
    kernels::layer_norm(&x.data, &p.weight, &p.bias, &mut out.data, x.rows, x.cols, eps);
    out
}

/// out (T,N) = x (T,D) · w (D,N).
fn project(x: &Matrix, w: &[f32], n: usize) -> Matrix {
    let mut out = Matrix::zeros(x.rows, n);
    kernels::matmul(&x.data, w, &mut out.data, x.rows, x.cols, n);
    out
}

/// Columns h·Dh..(h+1)·Dh of x (T, H·Dh): head h's slice, as its own (T,Dh) matrix.
fn columns(x: &Matrix, h: usize, dh: usize) -> Matrix {
    let data = x.data.chunks_exact(x.cols).flat_map(|row| &row[h * dh..(h + 1) * dh]).copied().collect();
    Matrix::from_vec(x.rows, dh, data)
}

/// The MLP: hidden (T,F) = gelu(LN(x; ln2) · W_in + b_in); out (T,D) = hidden · W_out + b_out.
fn mlp(m: &Mlp, x: &Matrix, eps: f32) -> MlpTrace {
    let normed = norm(x, &m.ln, eps);
    let mut hidden = project(&normed, &m.w_in, m.b_in.len());
    add_bias(&mut hidden, &m.b_in);
    kernels::gelu(&mut hidden.data);
    let mut out = project(&hidden, &m.w_out, m.b_out.len());
    add_bias(&mut out, &m.b_out);
    MlpTrace { normed, hidden, out }
}

/// rows·cols for slicing weights, checked (a bound the caller already knows holds, never a wrap).
fn elements(rows: usize, cols: usize) -> usize {
    rows.checked_mul(cols).unwrap_or_else(|| panic!("{rows}×{cols} elements overflow usize"))
}

fn add_into(acc: &mut [f32], x: &[f32]) {
    acc.iter_mut().zip(x).for_each(|(a, b)| *a += b);
}

fn add_bias(x: &mut Matrix, b: &[f32]) {
    for row in x.data.chunks_exact_mut(x.cols) {
        add_into(row, b);
    }
}

/// Indices of the `k` largest values, largest first (ties: lower index first). One pass keeping a
/// sorted list of the best `k`: k is small (≤ a few dozen) next to the vocabulary.
pub(crate) fn top_indices(x: &[f32], k: usize) -> Vec<usize> {
    let mut best: Vec<usize> = Vec::with_capacity(k + 1);
    for (i, &v) in x.iter().enumerate() {
        if best.len() == k && best.last().is_none_or(|&j| v.total_cmp(&x[j]).is_le()) {
            continue;
        }
        let at = best.partition_point(|&j| x[j].total_cmp(&v).is_ge());
        best.insert(at, i);
        best.truncate(k);
    }
    best
}

/// Σ_j x[i,j] for every row i of x (T,T), accumulated in f64.
fn row_sums(x: &Matrix) -> Vec<f32> {
    x.data.chunks_exact(x.cols.max(1)).map(|row| row.iter().map(|&v| f64::from(v)).sum::<f64>() as f32).collect()
}

/// Finite weights can still overflow f32 in the forward pass (values near 3e38, say): such a trace would
/// draw NaN everywhere, so it is refused, naming the first place it went wrong.
fn check_finite(layers: &[LayerTrace], predict: &Prediction) -> Result<(), AnalyzeError> {
    let bad = |xs: &[f32]| xs.iter().copied().find(|v| !v.is_finite());
    for (l, layer) in layers.iter().enumerate() {
        for (h, head) in layer.heads.iter().enumerate() {
            if let Some(v) = bad(&head.weights.data) {
                return Err(AnalyzeError::Overflow(format!(
                    "{} in the attention weights of layer {}, head {}",
                    float_text(v),
                    l + 1,
                    h + 1
                )));
            }
        }
        if let Some(v) = bad(&layer.output.data) {
            return Err(AnalyzeError::Overflow(format!("{} in the output of layer {}", float_text(v), l + 1)));
        }
    }
    match bad(&predict.probs.data) {
        Some(v) => Err(AnalyzeError::Overflow(format!("{} in the next-token probabilities", float_text(v)))),
        None => Ok(()),
    }
}

/// How little an axis may move in one power step (in every entry) for the iteration to stop, and the
/// most steps it takes: each step shrinks the error by λ₂/λ₁ (for the second axis λ₃/λ₂), so the
/// axis is then within about 10⁻¹⁰ · λ₂/(λ₁ − λ₂) of the eigenvector, unless λ₂/λ₁ is so close to 1
/// that 10,000 steps are not enough.
const AXIS_STEP: f64 = 1e-10;
const MAX_POWER_STEPS: usize = 10_000;

/// The two leading principal components of the rows of x (n, d): the covariance in f32 (the kernel),
/// then power iteration on it with deflation in f64, each axis until it stops moving
/// ([`AXIS_STEP`]); each axis's sign is fixed so its largest-magnitude entry is positive.
fn principal_axes(x: &[f32], n: usize, d: usize) -> Projection {
    let mut mean = vec![0.0f32; d];
    for row in x.chunks_exact(d) {
        add_into(&mut mean, row);
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f32);
    // cov (D,D) = Xcᵀ (D,N) · Xc (N,D), with Xc the centred rows (unscaled: the axes are the same)
    let mut xct = vec![0.0f32; x.len()];
    for (i, row) in x.chunks_exact(d).enumerate() {
        for j in 0..d {
            xct[j * n + i] = row[j] - mean[j];
        }
    }
    let mut cov = vec![0.0f32; elements(d, d)];
    kernels::matmul_bt(&xct, &xct, &mut cov, d, n, d);
    let cov: Vec<f64> = cov.iter().map(|&c| f64::from(c)).collect();
    let mut axes: Vec<Vec<f64>> = Vec::with_capacity(2);
    for _ in 0..2 {
        let mut v: Vec<f64> = (0..d).map(|j| 1.0 + (j % 7) as f64 / 7.0).collect();
        for _ in 0..MAX_POWER_STEPS {
            // next (D) = cov (D,D) · v, less its parts along the axes already found
            let mut next: Vec<f64> = cov.chunks_exact(d).map(|row| row.iter().zip(&v).map(|(c, x)| c * x).sum()).collect();
            for prev in &axes {
                let dot: f64 = next.iter().zip(prev).map(|(p, q)| p * q).sum();
                next.iter_mut().zip(prev).for_each(|(p, q)| *p -= dot * q);
            }
            let len = next.iter().map(|p| p * p).sum::<f64>().sqrt();
            if len == 0.0 || !len.is_finite() {
                break;
            }
            next.iter_mut().for_each(|p| *p /= len);
            let moved = next.iter().zip(&v).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
            v = next;
            if moved <= AXIS_STEP {
                break;
            }
        }
        let big = v.iter().copied().fold(0.0f64, |m, p| if p.abs() > m.abs() { p } else { m });
        if big < 0.0 {
            v.iter_mut().for_each(|p| *p = -*p);
        }
        axes.push(v);
    }
    Projection { mean, axes: axes.iter().flatten().map(|&p| p as f32).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_indices_matches_a_full_sort() {
        let x: Vec<f32> = (0..200).map(|i| ((i * 37) % 23) as f32 - 11.0).collect();
        for k in [0, 1, 2, 10, 23, 199, 200, 300] {
            let mut want: Vec<usize> = (0..x.len()).collect();
            want.sort_by(|&a, &b| x[b].total_cmp(&x[a]).then(a.cmp(&b)));
            want.truncate(k);
            assert_eq!(top_indices(&x, k), want, "k = {k}");
        }
    }
}
