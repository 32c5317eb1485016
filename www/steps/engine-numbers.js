// The numbers the views print that are derived from a head's matrices rather than being one of them: each
// attention row's max and Σ exp of `masked` (the softmax arithmetic in the detail panel), each row's Σ of
// `weights` (the Σ column) and the divisor of the scaling step. They are the engine's to compute; this
// module is the one place the views read them, so the JavaScript keeps no copy of the math.
//
// The trace is to carry them (src/trace.rs), per head of every layer:
//   masked_row_max      (T)  max_k masked[q, k]
//   masked_row_sum_exp  (T)  Σ_k exp(masked[q, k] − masked_row_max[q])
//   weights_row_sum     (T)  Σ_k weights[q, k]
// and once per trace:
//   score_divisor            √d_head when scaling is on, 1 when it is switched off
// each a Float32Array (a Vec<f32> through serde-wasm-bindgen) or a number. Until the engine's trace has a
// field, the function for it falls back to the same arithmetic the views did before (`fallback…` below);
// that code goes when the field lands.

const field = (head, name) => (head[name] === undefined ? null : head[name]);

/** The softmax of row q of a head, as the detail panel prints it: { max, sumExp, exp(k) }. */
export function softmaxRow(head, q) {
  const max = field(head, 'masked_row_max'), sumExp = field(head, 'masked_row_sum_exp');
  if (max && sumExp) {
    const T = head.weights.shape[1];
    // exp(x_k − max) = weight_k · Σ: the engine's weights are exactly that quotient.
    return { max: max[q], sumExp: sumExp[q], exp: (k) => head.weights.data[q * T + k] * sumExp[q] };
  }
  return fallbackSoftmaxRow(head, q);
}

/** Σ of each row of a head's weights (the Σ column next to the grid). */
export function weightsRowSums(head) {
  return field(head, 'weights_row_sum') ?? fallbackRowSums(head.weights);
}

/** The largest entry of each row of a head's `name` matrix (scores, scaled or masked; −∞ never wins):
 * the engine's `<name>_row_max` when the trace carries it. A maximum picks one of the printed numbers:
 * it is a selection, not arithmetic, so the fallback is exact. */
export function rowMaxima(head, name) {
  const carried = field(head, `${name}_row_max`);
  if (carried) return carried;
  const m = head[name], [R, C] = m.shape;
  return Float32Array.from({ length: R }, (_, q) => {
    let mx = -Infinity;
    for (let k = 0; k < C; k++) if (m.data[q * C + k] > mx) mx = m.data[q * C + k];
    return mx;
  });
}

/** What the scaling step divides the scores by. */
export function scoreDivisor(trace) {
  if (typeof trace.score_divisor === 'number') return trace.score_divisor;
  return trace.options.scale ? Math.sqrt(trace.config.d_head) : 1;
}

function fallbackSoftmaxRow(head, q) {
  const m = head.masked, T = m.shape[1];
  let max = -Infinity;
  for (let j = 0; j < T; j++) max = Math.max(max, m.data[q * T + j]);
  let sumExp = 0;
  for (let j = 0; j < T; j++) sumExp += Math.exp(m.data[q * T + j] - max);
  return { max, sumExp, exp: (k) => Math.exp(m.data[q * T + k] - max) };
}

function fallbackRowSums(m) {
  const [R, C] = m.shape;
  return Float64Array.from({ length: R }, (_, q) => {
    let x = 0;
    for (let k = 0; k < C; k++) x += m.data[q * C + k];
    return x;
  });
}
