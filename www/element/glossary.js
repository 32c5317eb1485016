// The glossary: the words the page uses that a newcomer may not know. The first use of each word in a view
// (a step's text, the tour's question and caption) becomes a button that opens its definition right there,
// by pointer or keyboard (Enter or Space; Escape closes it); the whole list is in the element's footer.

import { h } from '../draw.js';

export const GLOSSARY = [
  { id: 'layer-norm', term: 'layer norm', match: /\blayer norm(?:alisation)?\b/i,
    text: 'Layer normalisation: before a layer reads a vector, it rescales it to mean 0 and spread 1 across its numbers, then applies a learned scale and shift, so every token arrives at a comparable size (norm(E) on the page).' },
  { id: 'residual', term: 'residual', match: /\bresidual(?: connection)?\b/i,
    text: 'The residual connection: a layer adds its output to the vector it read (E + ΔE) instead of replacing it, so each layer only proposes a change and the original meaning is kept.' },
  { id: 'logits', term: 'logits', match: /\blogits?\b/i,
    text: 'The raw score of every vocabulary token for what comes next: the last vector’s dot product with each row of the embedding table, before softmax turns the scores into probabilities.' },
  { id: 'w-o', term: 'W_O', match: /\bW_O\b/,
    text: 'The output matrix of attention: it maps each head’s mixed vector (d_head numbers) back to the model’s width (d_model), so the heads’ changes can be added to E.' },
  { id: 'd-head', term: 'd_head', match: /\bd_head\b/,
    text: 'How many numbers one head’s queries, keys and values have: a smaller space than the model’s width d_model (usually d_model divided by the number of heads).' },
  { id: 'principal-component', term: 'principal component', match: /\bprincipal components?\b/i,
    text: 'A direction along which a set of vectors varies most. The maps show the two leading principal components of the embedding table: the flat picture of the long vectors that keeps most of their spread.' },
  { id: 'cosine', term: 'cosine similarity', match: /\bcosine(?: similarity)?\b/i,
    text: 'How alike the directions of two vectors are: their dot product divided by both lengths. 1: the same direction; 0: unrelated (at right angles); −1: opposite.' },
  { id: 'ablation', term: 'ablation', match: /\bablations?\b/i,
    text: 'Switching a part of the model off (a head, the ÷√d_head scaling, the causal mask) to see what it was doing: the page then shows the model with and without it.' },
];

/**
 * `text` as nodes, with the first use (not yet in `seen`) of each glossary word made a button that opens its
 * definition. `seen` is shared by everything in one view, so each word is explained once per view.
 */
export function withTerms(text, seen) {
  const out = [];
  let rest = text;
  for (;;) {
    let first = null;
    for (const g of GLOSSARY) {
      if (seen.has(g.id)) continue;
      const m = g.match.exec(rest);
      if (m && (!first || m.index < first.m.index)) first = { g, m };
    }
    if (!first) break;
    const { g, m } = first;
    seen.add(g.id);
    if (m.index > 0) out.push(rest.slice(0, m.index));
    out.push(termButton(g, m[0]));
    rest = rest.slice(m.index + m[0].length);
  }
  if (rest) out.push(rest);
  return out;
}

let counter = 0;

/** A word that opens its definition, in a box right after the word's paragraph. */
function termButton(g, shown) {
  const id = `ae-gloss-${g.id}-${++counter}`;
  const box = h('span', { class: 'gloss-pop', id, role: 'note', hidden: true },
    h('strong', { text: `${g.term}: ` }), g.text);
  const button = h('button', { type: 'button', class: 'term', 'data-term': g.id, 'aria-expanded': 'false', 'aria-controls': id, title: `What is ${g.term}?`, text: shown,
    on: {
      click: () => toggle(button, box),
      keydown: (e) => { if (e.key === 'Escape' && !box.hidden) { e.stopPropagation(); toggle(button, box); } },
    } });
  return h('span', { class: 'term-wrap' }, button, box);
}

function toggle(button, box) {
  box.hidden = !box.hidden;
  button.setAttribute('aria-expanded', String(!box.hidden));
}

/** The whole glossary, for the element's footer. */
export function glossaryList() {
  return h('details', { class: 'ae-glossary' }, h('summary', { text: 'Glossary' }),
    h('dl', {}, GLOSSARY.map((g) => [h('dt', { id: `ae-gloss-${g.id}`, text: g.term }), h('dd', { text: g.text })])));
}
