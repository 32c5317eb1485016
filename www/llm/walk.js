// The large model's walkthrough of one step of one head: the matrices the worker's view(layer, head,
// step) returned (ARCHITECTURE.md, "Large models", lists them per step), drawn with the tiny model's
// figures (heat grids for T×T, heat strips for vectors) and their numbers in tables, plus what the
// step does in a few words. Nothing here computes model math: every number comes from the view.

import { h, heatStrips, fmt, pct, cols, rows, maxAbs } from '../draw.js';
import { heatGrid } from '../heat-grid.js';

export const STEP_TITLES = {
  embed: 'Embeddings', queries: 'Queries', keys: 'Keys', rotate: 'Rotation (RoPE)', scores: 'Scores', scaled: 'Scaled by √d',
  masked: 'Causal mask', weights: 'Weights (softmax)', values: 'Values', mix: 'Weighted mix', delta: 'Change ΔE', update: 'Update and MLP', predict: 'Prediction',
};

const SAYS = {
  embed: 'Each token’s row of the embedding table (576 numbers). Llama models add no position here: positions enter by rotating queries and keys.',
  queries: 'RMSNorm scales each row to a fixed size (times learned gains), then W_Q makes this head’s query: what the token is looking for.',
  keys: 'The same normed rows times W_K make the key of the key/value head this query head reads: what each token offers.',
  values: 'W_V makes the values of the shared key/value head: what each token hands over when it is looked at.',
  rotate: 'Rotary positions (RoPE) turn each query and key by an angle that grows with its position.',
  scores: 'Each rotated query dotted with each rotated key.',
  scaled: 'Divided by √64 = 8, so the softmax stays soft.',
  masked: 'A token may not look ahead: entries above the diagonal become −∞.',
  weights: 'Softmax along each row: the weights of each query over the keys it may see, summing to 1.',
  mix: 'Each row of the weights mixes the value rows: what this head hands to each token.',
  delta: 'W_O turns this head’s mix into its share of the change to each token’s vector; layer_delta is all 9 heads together.',
  update: 'The change is added (E′ = E + ΔE), then the SwiGLU MLP adds its own change: this layer’s output.',
  predict: 'The last row, normed, times the embedding table (tied) gives a logit per vocabulary entry; softmax makes probabilities.',
};

/** The RoPE paragraph (shown with the walkthrough). */
export const ROPE = 'Rotary positions (RoPE): instead of adding a position vector, the model splits each 64-number query and key into 32 pairs and turns ' +
  'pair k of the token at position p by the angle p·θ_k, with θ_k = 100000^(−2k/64): the first pairs spin fast, the last barely move. A dot product of two ' +
  'rotated vectors depends only on how far apart their positions are, so each score sees relative position for free. The rotation step shows each query and ' +
  'key before and after turning.';

const TT = new Set(['scores', 'scaled', 'masked', 'weights']);

function figure(name, m, labels, colours) {
  const T = labels.length;
  const caption = name.replace(/_/g, ' ');
  if (rows(m) === T && cols(m) === T && TT.has(name)) {
    const seq = name === 'weights';
    const d = maxAbs(m);
    return heatGrid({ m, labels, kind: seq ? 'seq' : 'div', caption, domain: seq ? [0, 1] : [-d, d], colours });
  }
  if (cols(m) > 4096) return null; // logits / probs over the vocabulary: the top candidates are listed instead
  const rowLabels = rows(m) === T ? labels : rows(m) === 1 ? [labels[T - 1]] : Array.from({ length: rows(m) }, (_, i) => String(i));
  return heatStrips({ m, labels: rowLabels, caption });
}

function topList(top) {
  return h('ol', { class: 'llm-top' }, top.map((c) => h('li', {}, h('code', { text: JSON.stringify(c.text) }), ` ${pct(c.prob)} (logit ${fmt(c.logit, 2)})`)));
}

/** The walkthrough's body for one view; `summary` gives the token labels. */
export function renderView(view, summary, info, colours) {
  const labels = summary.tokens.map((t) => t.text);
  const c = info.config;
  const figs = [];
  for (const [name, m] of Object.entries(view.matrices)) {
    const f = figure(name, m, labels, colours);
    if (f) figs.push(h('h4', { class: 'llm-matrix', text: `${name.replace(/_/g, ' ')} (${m.shape.join(' × ')})` }), f);
    else figs.push(h('p', { class: 'llm-note', text: `${name}: ${cols(m).toLocaleString('en')} numbers, one per vocabulary entry; the largest are listed below.` }));
  }
  const where = view.step === 'embed' || view.step === 'predict' ? '' : ` · layer ${view.layer + 1} of ${c.n_layers}, head ${view.head + 1} of ${c.n_heads} (key/value head ${view.kv_head + 1} of ${c.n_kv_heads})`;
  return h('section', { class: `llm-step ${view.step}`, 'data-step': view.step },
    h('h3', {}, STEP_TITLES[view.step] ?? view.step, h('span', { class: 'where', text: where })),
    h('p', { class: 'explain', text: SAYS[view.step] ?? '' }),
    view.step === 'rotate' ? h('p', { class: 'explain', text: ROPE }) : null,
    figs,
    view.top ? topList(view.top) : null);
}
