// The numbers the views print that are derived from a head's matrices rather than being one of them: each
// attention row's max and Σ exp of `masked` (the softmax arithmetic in the detail panel), each row's Σ of
// `weights` (the Σ column) and the divisor of the scaling step. The engine computes them (src/model.rs's
// head step; their shapes are in src/trace.rs), per head of every layer:
//   masked_row_max      (T)  max_k masked[q, k]
//   masked_row_sum_exp  (T)  Σ_k exp(masked[q, k] − masked_row_max[q])
//   weights_row_sum     (T)  Σ_k weights[q, k]
// and once per trace:
//   score_divisor            √d_head when scaling is on, 1 when it is switched off
// This module is the one place the views read them; JavaScript keeps no copy of the math.

/** The softmax of row q of a head, as the detail panel prints it: { max, sumExp, exp(k) }. */
export function softmaxRow(head, q) {
  const max = head.masked_row_max[q], sumExp = head.masked_row_sum_exp[q];
  const T = head.weights.shape[1];
  // exp(x_k − max) = weight_k · Σ: the engine's weights are exactly that quotient.
  return { max, sumExp, exp: (k) => head.weights.data[q * T + k] * sumExp };
}

/** Σ of each row of a head's weights (the Σ column next to the grid). */
export function weightsRowSums(head) {
  return head.weights_row_sum;
}

/** The largest entry of each row of a head's `name` matrix (scores, scaled or masked; −∞ never wins):
 * the engine's `masked_row_max` for masked. A maximum picks one of the printed numbers: it is a
 * selection, not arithmetic, so picking it here is exact. */
export function rowMaxima(head, name) {
  if (name === 'masked') return head.masked_row_max;
  const m = head[name], [R, C] = m.shape;
  return Float32Array.from({ length: R }, (_, q) => {
    let mx = -Infinity;
    for (let k = 0; k < C; k++) if (m.data[q * C + k] > mx) mx = m.data[q * C + k];
    return mx;
  });
}

/** What the scaling step divides the scores by. */
export function scoreDivisor(trace) {
  return trace.score_divisor;
}
