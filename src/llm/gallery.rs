//! The head gallery's data: for every head, what it does on this text, measured live, and a small
//! picture of its weights.
//!
//! For a head's weights A (T×T, row = query i, column = key j) and the analysed ids, over the
//! queries i = 1..T−1 (query 0 can only look at itself):
//! - `prev`: mean A[i, i−1], the weight on the previous token;
//! - `self`: mean A[i, i];
//! - `start`: mean A[i, 0], the weight on the first token (the start token, if the model has one);
//! - `mean_distance`: mean Σⱼ A[i, j]·(i − j), in tokens;
//! - `duplicate`: over the queries whose token occurred before, mean Σ A[i, j] over the earlier
//!   positions j < i holding the same token;
//! - `induction`: over the same queries, mean Σ A[i, j + 1] over those earlier positions j: the
//!   weight on the token that followed an earlier occurrence of the query's token (high on repeated
//!   text for an induction head).
//!
//! Each is null where no query qualifies (a single token; no repeated token). Unlike a shipped head
//! profile (`heads.rs`, measured on held-out text from position 8 on), these describe this text only.

use serde::Serialize;

use crate::gguf::llama::LlamaConfig;
use crate::llama::LlamaTrace;
use crate::trace::Matrix;

/// The largest thumbnail side: up to this many tokens a thumbnail is the weights themselves.
pub const THUMBNAIL: usize = crate::budget::THUMBNAIL as usize;

/// One head of the gallery.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeadSummary {
    pub layer: usize,
    pub head: usize,
    /// The key/value head it reads (grouped-query attention).
    pub kv_head: usize,
    pub prev: Option<f32>,
    #[serde(rename = "self")]
    pub self_: Option<f32>,
    pub start: Option<f32>,
    pub duplicate: Option<f32>,
    pub induction: Option<f32>,
    pub mean_distance: Option<f32>,
    /// (s, s) with s = min(T, 24): the weights, max-pooled when T > 24 (each cell the largest weight
    /// of the (query, key) pairs it covers: rows and columns ⌊a·T/s⌋..⌊(a+1)·T/s⌋).
    pub thumbnail: Matrix,
}

/// Every head of the trace, layer-major.
pub fn summaries(c: &LlamaConfig, trace: &LlamaTrace, ids: &[u32]) -> Vec<HeadSummary> {
    let mut out = Vec::with_capacity(c.n_layers * c.n_heads);
    for (layer, l) in trace.layers.iter().enumerate() {
        for (head, h) in l.heads.iter().enumerate() {
            out.push(summary(layer, head, c.kv_head(head), &h.weights, ids));
        }
    }
    out
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f32> {
    let (sum, n) = xs.fold((0.0f64, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| (sum / n as f64) as f32)
}

/// One head's numbers and thumbnail.
pub fn summary(layer: usize, head: usize, kv_head: usize, a: &Matrix, ids: &[u32]) -> HeadSummary {
    let t = a.rows;
    let w = |i: usize, j: usize| f64::from(a.at(i, j));
    let queries = || 1..t;
    // for each query, the earlier positions holding its token
    let earlier = |i: usize| (0..i).filter(move |&j| ids[j] == ids[i]);
    let repeated = || queries().filter(move |&i| earlier(i).next().is_some());
    HeadSummary {
        layer,
        head,
        kv_head,
        prev: mean(queries().map(|i| w(i, i - 1))),
        self_: mean(queries().map(|i| w(i, i))),
        start: mean(queries().map(|i| w(i, 0))),
        duplicate: mean(repeated().map(|i| earlier(i).map(|j| w(i, j)).sum())),
        induction: mean(repeated().map(|i| earlier(i).map(|j| w(i, j + 1)).sum())),
        mean_distance: mean(queries().map(|i| (0..t).map(|j| w(i, j) * (i as f64 - j as f64)).sum())),
        thumbnail: thumbnail(a, THUMBNAIL),
    }
}

/// (s, s), s = min(T, side): x itself, or max-pooled over ⌊a·T/s⌋..⌊(a+1)·T/s⌋ rows and columns.
pub fn thumbnail(x: &Matrix, side: usize) -> Matrix {
    let t = x.rows;
    if t <= side {
        return x.clone();
    }
    let cut = |a: usize| a * t / side;
    let mut out = Matrix::zeros(side, side);
    for a in 0..side {
        for b in 0..side {
            let mut best = f32::NEG_INFINITY;
            for i in cut(a)..cut(a + 1) {
                best = x.row(i)[cut(b)..cut(b + 1)].iter().copied().fold(best, f32::max);
            }
            out.data[a * side + b] = best;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_keep_small_matrices_and_max_pool_large_ones() {
        let small = Matrix::from_vec(2, 2, vec![1.0, 0.0, 0.5, 0.5]);
        assert_eq!(thumbnail(&small, 24), small);
        // 4×4 to 2×2: each cell the max of a 2×2 block
        let x = Matrix::from_vec(4, 4, (0..16).map(|v| v as f32).collect());
        assert_eq!(thumbnail(&x, 2).data, vec![5.0, 7.0, 13.0, 15.0]);
        // 5×5 to 2×2: rows 0..2 and 2..5
        let x = Matrix::from_vec(5, 5, (0..25).map(|v| v as f32).collect());
        assert_eq!(thumbnail(&x, 2).data, vec![6.0, 9.0, 21.0, 24.0]);
    }

    #[test]
    fn head_numbers_follow_their_definitions() {
        // tokens a b a b: query 2 (a) has an earlier a at 0, followed by b at 1; query 3 (b) has b at 1, followed by a at 2
        let ids = [7, 8, 7, 8];
        let mut a = Matrix::zeros(4, 4);
        for (i, row) in [[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0], [0.2, 0.6, 0.2, 0.0], [0.1, 0.1, 0.3, 0.5]].iter().enumerate() {
            a.data[i * 4..(i + 1) * 4].copy_from_slice(row);
        }
        let s = summary(3, 1, 0, &a, &ids);
        let near = |x: Option<f32>, want: f64| (f64::from(x.expect("a value")) - want).abs() < 1e-6;
        assert!(near(s.prev, (0.5 + 0.6 + 0.3) / 3.0));
        assert!(near(s.self_, (0.5 + 0.2 + 0.5) / 3.0));
        assert!(near(s.start, (0.5 + 0.2 + 0.1) / 3.0));
        assert!(near(s.duplicate, (0.2 + 0.1) / 2.0));
        assert!(near(s.induction, (0.6 + 0.3) / 2.0));
        assert!(near(s.mean_distance, (0.5 + (0.2 * 2.0 + 0.6) + (0.1 * 3.0 + 0.1 * 2.0 + 0.3)) / 3.0));
        assert_eq!((s.layer, s.head, s.kv_head), (3, 1, 0));
        let one = summary(0, 0, 0, &Matrix::from_vec(1, 1, vec![1.0]), &[5]);
        assert_eq!((one.prev, one.duplicate, one.induction, one.mean_distance), (None, None, None, None));
    }
}
