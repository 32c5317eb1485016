// Step `tokens`: the text cut into tokens, with their ids.
import { h } from '../draw.js';

export const id = 'tokens';
export const title = 'Tokens';
export const math = 'text → token ids';
export const scope = 'model';

export function explain(trace) {
  const c = trace.config;
  return [
    `The model never sees letters. A tokenizer cuts the text into pieces it knows (whole common words, parts of rarer ones, a leading space included) and replaces each piece by its number in a vocabulary of ${c.vocab_size} tokens.`,
    `This sentence becomes ${trace.tokens.length} token${trace.tokens.length === 1 ? '' : 's'}. The model reads at most ${c.context} at a time (its context).`,
  ];
}

export function render(trace, state, ctx) {
  const chips = trace.tokens.map((t, i) => h('li', { class: 'chip', 'data-tok': i, tabindex: 0, 'aria-label': `token ${i}: “${t.text}”, id ${t.id}` },
    h('span', { class: 'chip-text', text: t.text.replace(/ /g, '·') }),
    h('span', { class: 'chip-id', text: `#${i} · id ${t.id}` })));
  const parts = [];
  if (trace.dropped_tokens > 0) {
    const first = trace.tokens[0];
    parts.push(h('p', { class: 'note', role: 'note' },
      `Your text has ${trace.total_tokens} tokens but the model reads only the last ${trace.config.context}: the first ${trace.dropped_tokens} are left out`,
      ctx.text && first ? [' (', h('span', { class: 'dropped', text: ctx.text.slice(0, first.start) }), ')'] : null, '.'));
  }
  parts.push(h('ol', { class: 'chips', 'aria-label': 'tokens' }, chips));
  return h('div', {}, parts);
}

export function data(trace) {
  const values = new Float32Array(trace.tokens.length * 3);
  trace.tokens.forEach((t, i) => values.set([t.id, t.start, t.end], i * 3));
  return { tables: [{ name: 'tokens', rows: trace.tokens.length, cols: 3, values, rowLabels: trace.tokens.map((t) => t.text), colLabels: ['id', 'start', 'end'] }] };
}
