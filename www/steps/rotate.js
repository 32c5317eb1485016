// Step `rotate`: rotary positions (RoPE) turn each head's queries and keys by their position. Offered
// only for a model with rotary positions (its trace has rotated_queries and rotated_keys).
import { h, heatStrips, maxAbs, fmt, fmt4, at } from '../draw.js';
import { headOf, labelsOf, quote, table, where } from './common.js';

export const id = 'rotate';
export const title = 'Rotate';
export const math = 'Q, K turned by t · θᵢ';
export const scope = 'head';
/** Whether a model (its info or trace: `{ config }`) has this step. */
export const offered = (model) => model?.config?.positions?.kind === 'rope';

export function explain(trace) {
  const c = trace.config;
  const pairs = c.d_head / 2;
  return [
    `This model’s embeddings have no position part: where a token stands comes in here. Each head cuts every query and every key into ${pairs} pairs of numbers and turns each pair like a clock hand, by an angle that grows with the token’s position: the further along the text, the more it is turned.`,
    `When a query and a key are both turned, their dot product (the score) only feels the difference of their angles. So the score depends on how far apart two tokens are, not on where they stand: the same query and key, two tokens apart, score the same at the start of a text as at its end.`,
    `Shape per head: ${trace.tokens.length} × ${c.d_head}, like the queries and keys; turning changes a pair’s direction, never its length. Pair i at position t turns by t · ${fmt(c.positions.base)}^(−2i/${c.d_head}): the first pair fastest (1 radian per position), the last slowest.`,
  ];
}

/** The arithmetic of one rotated number, with this trace's real values. */
function detailOf(trace, plain, turned, name) {
  const dh = trace.config.d_head, base = trace.config.positions.base;
  const labels = labelsOf(trace);
  return (t, d) => {
    const i = Math.floor(d / 2);
    const angle = t * base ** (-2 * i / dh);
    const [x0, x1] = [at(plain, t, 2 * i), at(plain, t, 2 * i + 1)];
    const formula = d % 2 === 0 ? `${fmt(x0)}·cos − ${fmt(x1)}·sin` : `${fmt(x0)}·sin + ${fmt(x1)}·cos`;
    return `${name}[${quote(labels[t])} #${t}, dim ${d}]: pair ${i} turned by ${t} · ${fmt(base)}^(−${2 * i}/${dh}) = ${fmt4(angle)} rad: ${formula} = ${fmt4(at(turned, t, d))}`;
  };
}

export function render(trace, state) {
  const head = headOf(trace, state);
  const labels = labelsOf(trace);
  const w = where(trace, state);
  const dq = maxAbs(head.queries, head.rotated_queries), dk = maxAbs(head.keys, head.rotated_keys);
  return h('div', { class: 'figs' },
    heatStrips({ m: head.queries, labels, caption: `queries (${w})`, title: 'Q before turning', domain: dq }),
    heatStrips({ m: head.rotated_queries, labels, caption: `rotated_queries (${w})`, title: 'Q turned by its position', domain: dq, detail: detailOf(trace, head.queries, head.rotated_queries, 'rotated_queries') }),
    heatStrips({ m: head.keys, labels, caption: `keys (${w})`, title: 'K before turning', domain: dk }),
    heatStrips({ m: head.rotated_keys, labels, caption: `rotated_keys (${w})`, title: 'K turned by its position', domain: dk, detail: detailOf(trace, head.keys, head.rotated_keys, 'rotated_keys') }));
}

export function data(trace, state) {
  const head = headOf(trace, state);
  const labels = labelsOf(trace);
  return { tables: ['queries', 'rotated_queries', 'keys', 'rotated_keys'].map((name) => table(name, head[name], labels)) };
}
