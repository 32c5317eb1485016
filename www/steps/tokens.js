// Step `tokens`: the text cut into tokens, with their ids (the start token first, for a model with one).
import { h } from '../draw.js';

export const id = 'tokens';
export const title = 'Tokens';
export const math = 'text → token ids';
export const scope = 'model';

/** Whether the trace begins with the model's start token (not a piece of the text). */
const startsWithStartToken = (trace) => trace.config.bos_id != null && trace.tokens.length > 0 && trace.tokens[0].special && trace.tokens[0].id === trace.config.bos_id;

export function explain(trace) {
  const c = trace.config;
  const start = startsWithStartToken(trace);
  const n = trace.tokens.length - (start ? 1 : 0);
  const paragraphs = [
    `The model never sees letters. A tokenizer cuts the text into pieces it knows (whole common words, parts of rarer ones, a leading space included) and replaces each piece by its number in a vocabulary of ${c.vocab_size} tokens.`,
    `This sentence becomes ${n} token${n === 1 ? '' : 's'}. The model reads at most ${c.context} at a time (its context).`,
  ];
  if (start) paragraphs.push(`The first token, ${trace.tokens[0].text}, is not from your text: it is a neutral start token that every analysis begins with, and heads that have nothing better to do rest their attention on it.`);
  return paragraphs;
}

export function render(trace, state, ctx) {
  const start = startsWithStartToken(trace);
  const chips = trace.tokens.map((t, i) => {
    const isStart = start && i === 0;
    return h('li', { class: isStart ? 'chip start-token' : 'chip', 'data-tok': i, tabindex: 0, 'aria-label': `token ${i}: “${t.text}”, id ${t.id}${isStart ? ', the start token (not from your text)' : ''}` },
      h('span', { class: 'chip-text', text: t.text.replace(/ /g, '·') }),
      h('span', { class: 'chip-id', text: `#${i}${isStart ? ' · start' : ''} · id ${t.id}` }));
  });
  const parts = [];
  if (trace.dropped_tokens > 0) {
    const first = trace.tokens[start ? 1 : 0];
    const reads = start ? `the start token and the last ${trace.config.context - 1} of your text` : `only the last ${trace.config.context}`;
    parts.push(h('p', { class: 'note', role: 'note' },
      // the engine's notice says why when its work budget, not the context, set the limit
      trace.notice ? `Your text has ${trace.total_tokens - (start ? 1 : 0)} tokens: ${trace.notice}; the first ${trace.dropped_tokens} are left out`
        : `Your text has ${trace.total_tokens - (start ? 1 : 0)} tokens but the model reads ${reads}: the first ${trace.dropped_tokens} are left out`,
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
