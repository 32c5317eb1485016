// The tour's first six stops, in the order of the notes the page is built on: tokens are lookup rows with
// no context; position; queries live in a smaller space; keys and the dot product; only differences within a
// row matter; one head, one kind of relation. Each stop has its own sentence(s), a step, a head chosen from
// the model's measured profile (or, without one, from the live trace), and a `lesson(ctx)` that reads the
// live trace and returns the question, the answer, the caption with the trace's numbers and what to mark.
//
// ctx: { trace, other (the second sentence's trace), pair ([i, j]: the token compared), comparison,
//        baseline, info, layer, head }. A lesson that cannot work on the sentence returns { missing }.

import { fmt } from '../draw.js';
import { headName, headsNamed, auxTrained, auxNote } from '../heads.js';
import { word, wordAt, cell, visibleKeys, extremeKey, lastRepeat, clearestRepeat, sameRow, stackRows, isStart, w2, c3 } from './facts.js';

export const FLUFFY = 'a fluffy blue creature roamed the verdant forest';
export const RIVER = 'we sat on the river bank and watched the water';
export const ACCOUNT = 'she paid the money into her bank account';
export const DURSLEY = 'Mr Dursley said hello. Mr Dursley said';

const rope = (trace) => !trace.position_embeddings;
const cap = (t) => t.charAt(0).toUpperCase() + t.slice(1);
const lastText = (trace) => trace.tokens.length - 1;

/** "head 2 of layer 2 (‘induction’)": a head as captions name it. */
export function headDesc(info, trace, layer, head) {
  const name = headName(info, layer, head);
  const where = trace.config.n_layers > 1 ? `head ${head + 1} of layer ${layer + 1}` : `head ${head + 1}`;
  return name ? `${where} (‘${name}’)` : where;
}

/**
 * The head a stop shows: the most typical head the profile names `name` (in `layer`, if given), or without
 * a profile the head of the live trace that scores highest on `score(headTrace)`; `{ layer, head }`.
 */
export function pickHead(info, trace, name, score, layer = null) {
  const named = headsNamed(info, name).filter((x) => layer === null || x.layer === layer);
  if (named.length) return { layer: named[0].layer, head: named[0].head };
  const aux = auxTrained(info);
  if (aux && aux.target === name && (layer === null || aux.layer === layer)) return { layer: aux.layer, head: aux.head };
  let best = { layer: layer ?? 0, head: 0 }, top = -Infinity;
  trace.layers.forEach((L, l) => {
    if (layer !== null && l !== layer) return;
    L.heads.forEach((hd, h) => { const v = score(hd, l, h); if (v > top) { top = v; best = { layer: l, head: h }; } });
  });
  return best;
}

/** Weight on the previous token from the last token (a fallback measure of a previous-token head). */
const prevScore = (trace) => (hd) => { const q = lastText(trace); return q > 0 ? cell(hd.weights, q, q - 1) : 0; };

/** The visible keys of row q as choices, and the index of `answer` among them. */
function keyChoices(trace, head, q, answer) {
  const keys = visibleKeys(head, q);
  return { choices: keys.map((k) => wordAt(trace, k)), answer: keys.indexOf(answer), values: keys };
}

export const lookup = {
  id: 'lookup', title: 'Tokens are rows of a lookup table', text: RIVER, compare: ACCOUNT, step: 'embed',
  lesson({ trace, other, pair, comparison }) {
    if (!other || !pair) return { missing: 'the two sentences share no token to compare: give the second sentence a word of the first' };
    const [i, j] = pair;
    const name = rope(trace) ? 'embeddings' : 'token_embeddings';
    const same = sameRow(trace[name], i, other[name], j);
    const vec = rope(trace) ? 'vector E' : 'row of the lookup table W_E';
    const tail = rope(trace) ? ` The cosine between the two vectors E is ${c3(comparison.stages[0].cosine)}.`
      : ` Only the position rows differ (#${i} and #${j}), so the two E have a cosine of ${c3(comparison.stages[0].cosine)}.`;
    return {
      question: `${word(trace, i)} is in both “${trace.tokens.slice(isStart(trace, 0) ? 1 : 0).map((t) => t.text).join('').trim()}” and “${other.tokens.slice(isStart(other, 0) ? 1 : 0).map((t) => t.text).join('').trim()}”. Does it start from the same ${vec} in both?`,
      choices: ['Yes: the very same numbers', 'No: each sentence gives it its own numbers'],
      answer: same ? 0 : 1,
      caption: `${word(trace, i)} is token id ${trace.tokens[i].id} in both sentences, so it gets ${same ? 'the very same' : 'different'} ${trace.config.d_model} numbers from W_E in both (starting ${fmt(trace[name].data[i * trace.config.d_model])}, ${fmt(trace[name].data[i * trace.config.d_model + 1])}, …).${tail} Nothing in these numbers knows whether it is a river bank or a bank account: giving them context is attention’s job.`,
      mark: { tok: i },
      exhibit: { m: stackRows([{ m: trace[name], i }, { m: other[name], i: j }]),
        labels: [`${word(trace, i)} in sentence 1`, `${word(other, j)} in sentence 2`], title: `${name} row of ${word(trace, i)} in each sentence (same colour scale)` },
    };
  },
};

export const position = {
  id: 'position', title: 'Where a token stands', text: DURSLEY, step: (info) => (info.config.positions?.kind === 'rope' ? 'rotate' : 'embed'),
  pick: (info, trace) => pickHead(info, trace, 'previous token', prevScore(trace), 0),
  lesson({ trace, layer, head }) {
    const rep = lastRepeat(trace);
    if (!rep) return { missing: 'this stop needs a word that appears twice: try “Mr Dursley said hello. Mr Dursley said”' };
    const { q, earlier: e } = rep;
    if (!rope(trace)) {
      const sameTok = sameRow(trace.token_embeddings, e, trace.token_embeddings, q), sameE = sameRow(trace.embeddings, e, trace.embeddings, q);
      const P = trace.position_embeddings, D = trace.config.d_model;
      return {
        question: `${word(trace, q)} appears at #${e} and at #${q}. Does the second start from the same vector E as the first?`,
        choices: ['Yes: the same token, the same vector', 'No: E also says where the token stands'], answer: sameE ? 0 : 1,
        caption: `Both copies get ${sameTok ? 'the same' : 'different'} row of W_E, but E adds a position row P: P[${e}] starts ${fmt(P.data[e * D])}, P[${q}] starts ${fmt(P.data[q * D])}. So E ${sameE ? 'is the same' : 'differs'}: the vector now carries where the token stands.`,
        mark: { tok: q },
      };
    }
    const hd = trace.layers[layer].heads[head];
    const keysSame = sameRow(hd.keys, e, hd.keys, q), turnedSame = sameRow(hd.rotated_keys, e, hd.rotated_keys, q);
    const K = hd.keys, R = hd.rotated_keys, dh = K.shape[1];
    const start = (m, i) => `${fmt(m.data[i * dh])}, ${fmt(m.data[i * dh + 1])}, …`;
    return {
      question: `${word(trace, q)} appears at #${e} and at #${q}. ${keysSame ? 'In this layer their keys are the same numbers.' : 'Their keys start out different here.'} After Rotate turns each key by its position, are the two keys the same?`,
      choices: ['Yes: still the same numbers', 'No: now they differ'], answer: turnedSame ? 0 : 1,
      caption: `Before turning, the key of ${wordAt(trace, e)} starts ${start(K, e)} and the key of ${wordAt(trace, q)} starts ${start(K, q)}${keysSame ? ': the same' : ''}. Turned by their positions they start ${start(R, e)} and ${start(R, q)}${turnedSame ? '' : ': different'}. A query turned the same way scores a key by how far apart the two are, not by where they stand.`,
      mark: { tok: q },
      exhibit: { m: stackRows([{ m: K, i: e }, { m: K, i: q }, { m: R, i: e }, { m: R, i: q }]),
        labels: [`key #${e}`, `key #${q}`, `turned #${e}`, `turned #${q}`], title: `keys of ${word(trace, q)} before and after Rotate, ${headDesc(null, trace, layer, head)}` },
    };
  },
};

export const queries = {
  id: 'queries', title: 'Queries live in a smaller space', text: FLUFFY, step: 'queries',
  pick: (info, trace) => pickHead(info, trace, 'previous token', prevScore(trace), 0),
  lesson({ trace, layer, head }) {
    const hd = trace.layers[layer].heads[head];
    const dh = hd.queries.shape[1], D = trace.embeddings.shape[1], T = trace.tokens.length;
    const values = [...new Set([dh, D, T])].sort((a, b) => a - b);
    return {
      question: `Each token’s vector E has ${D} numbers. How many numbers does its query have in one head?`,
      choices: values.map(String), answer: values.indexOf(dh),
      caption: `${dh}: W_Q is ${D} × ${dh}, so a query lives in a ${dh}-dimensional space, ${dh < D ? 'smaller than' : 'as large as'} E’s ${D} (d_head < d_model). Each of the ${trace.config.n_heads} heads has its own W_Q and its own small space, where it can look for one kind of thing.`,
      mark: { tok: lastText(trace) },
    };
  },
};

export const keys = {
  id: 'keys', title: 'Keys, and the dot product as “attending to”', text: FLUFFY, step: 'scores',
  pick: (info, trace) => pickHead(info, trace, 'previous token', prevScore(trace), 0),
  lesson({ trace, info, layer, head }) {
    const hd = trace.layers[layer].heads[head];
    const q = lastText(trace);
    const best = extremeKey(hd.scores, hd, q), worst = extremeKey(hd.scores, hd, q, true);
    const [Q, K] = hd.rotated_queries ? [hd.rotated_queries, hd.rotated_keys] : [hd.queries, hd.keys];
    return {
      question: `In ${headDesc(info, trace, layer, head)}, which key will the query of ${wordAt(trace, q)} match best (the largest score)?`,
      ...keyChoices(trace, hd, q, best),
      caption: `q·k of ${word(trace, q)} with ${wordAt(trace, best)} is ${fmt(cell(hd.scores, q, best))}, the largest in its row: of all the keys it can see, that one ${cell(hd.scores, q, best) > 0 ? 'lines up with the query best' : 'works against the query least'}. With ${wordAt(trace, worst)} it is ${fmt(cell(hd.scores, q, worst))}, the smallest: ${cell(hd.scores, q, worst) < 0 ? 'that key points against the query' : 'that key lines up with it least'}. Below, the query and the two keys number by number: where their colours agree (both red or both blue), a product adds to the score; where they disagree, it takes away.`,
      mark: { q, k: best },
      exhibit: { m: stackRows([{ m: Q, i: q }, { m: K, i: best }, { m: K, i: worst }]),
        labels: [`query ${word(trace, q)}`, `key ${word(trace, best)}`, `key ${word(trace, worst)}`], title: `the query and two keys${hd.rotated_queries ? ' (turned)' : ''}, ${headDesc(info, trace, layer, head)}` },
    };
  },
};

export const softmax = {
  id: 'softmax', title: 'Only differences within a row matter', text: FLUFFY, step: 'masked',
  // the head whose last row lies lowest shows best that the row's level does not count
  pick: (info, trace) => pickHead(info, trace, '', (hd) => -hd.masked.data[(lastText(trace) + 1) * hd.masked.shape[1] - 1]),
  lesson({ trace, layer, head }) {
    const hd = trace.layers[layer].heads[head];
    const q = lastText(trace);
    const top = extremeKey(hd.masked, hd, q), low = extremeKey(hd.masked, hd, q, true);
    const [max, min] = [cell(hd.masked, q, top), cell(hd.masked, q, low)];
    const heaviest = extremeKey(hd.weights, hd, q);
    const negative = max < 0;
    return {
      question: `${negative ? 'Every' : 'Not every'} score in the row of ${word(trace, q)} is negative: they run from ${fmt(min)} to ${fmt(max)}. Which key gets the most weight after softmax?`,
      choices: [`The one with the largest score, ${wordAt(trace, top)} (${fmt(max)})`, negative ? 'None: negative scores get no weight' : 'Only the keys with positive scores share it', 'All keys share it equally'],
      answer: heaviest === top ? 0 : 2,
      caption: `The scores of ${word(trace, q)} run from ${fmt(min)} to ${fmt(max)}${negative ? ', all negative' : ''}, yet ${wordAt(trace, top)}, the largest, gets ${w2(cell(hd.weights, q, top))} of the weight and the row sums to 1: softmax sees only how far each score lies below the row’s largest, never the row’s level.`,
      mark: { q, k: top },
    };
  },
};

export const heads = {
  id: 'heads', title: 'One head, one kind of relation', text: DURSLEY, step: 'weights',
  pick: (info, trace) => pickHead(info, trace, 'induction', (hd) => {
    const rep = clearestRepeat(trace, hd);
    return rep ? cell(hd.weights, rep.q, rep.target) : 0;
  }, trace.config.n_layers > 1 ? trace.config.n_layers - 1 : null),
  lesson({ trace, info, layer, head }) {
    const hd = trace.layers[layer].heads[head];
    // of the repeated tokens, the one whose earlier copy's successor this head weighs most: the clearest case
    const rep = clearestRepeat(trace, hd);
    if (!rep) return { missing: 'this stop needs a word that appears twice: try “Mr Dursley said hello. Mr Dursley said”' };
    const { q, earlier, target } = rep;
    const k = extremeKey(hd.weights, hd, q);
    const desc = headDesc(info, trace, layer, head);
    const found = k === target
      ? `In ${desc}, ${wordAt(trace, q)} puts ${w2(cell(hd.weights, q, k))} of its weight on ${wordAt(trace, target)}, the token that followed ${word(trace, q)} last time (#${earlier}): the pattern of an induction head.`
      : `In ${desc}, ${wordAt(trace, q)} looks most at ${wordAt(trace, k)} (${w2(cell(hd.weights, q, k))}); the token after its earlier copy, ${wordAt(trace, target)}, gets ${w2(cell(hd.weights, q, target))}.`;
    const prev = pickHead(info, trace, 'previous token', prevScore(trace), 0);
    const ph = trace.layers[prev.layer].heads[prev.head], pk = extremeKey(ph.weights, ph, q);
    const contrast = prev.layer === layer && prev.head === head ? ''
      : ` ${cap(headDesc(info, trace, prev.layer, prev.head))} looks from the same token at ${wordAt(trace, pk)} (${w2(cell(ph.weights, q, pk))}): another head, another relation${auxNote(info, prev.layer, prev.head) ? `; ${auxNote(info, prev.layer, prev.head)}` : ''}.`;
    return {
      question: `In ${desc}, which earlier token will ${wordAt(trace, q)} look at most?`,
      ...keyChoices(trace, hd, q, k),
      caption: found + contrast,
      mark: { q, k },
    };
  },
};
