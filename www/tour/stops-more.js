// The tour's later stops: attention over a long distance; the weighted mix moves a vector toward its meaning
// in context (one token in two sentences); heads in parallel and layers stacked (an ablation shows layer 2
// reading layer 1); the last vector predicts the next word; training, not a person, set every weight. Same
// contract as stops.js.

import { pct } from '../draw.js';
import { headName, ruleFor, auxTrained } from '../heads.js';
import { DURSLEY, RIVER, ACCOUNT, headDesc, pickHead } from './stops.js';
import { word, wordAt, cell, extremeKey, lastRepeat, clearestRepeat, isStart, w2, c3 } from './facts.js';

/** A name 30+ tokens back (within the 63 text tokens the context holds after the start token). */
export const LONG = 'Yesterday Mr Pickwick came to our town on a cold grey morning in the spring. He walked down the long street past the old church, the school and the mill by the river, and when at last he sat down the whole town came to see Mr';

const quoted = (t) => `‘${t.trim() || t}’`;

/** The induction head of the last layer (profile), else the head that weighs the repeat's target most. */
function inductionHead(info, trace) {
  const last = trace.config.n_layers > 1 ? trace.config.n_layers - 1 : null;
  return pickHead(info, trace, 'induction', (hd) => { const rep = clearestRepeat(trace, hd); return rep ? cell(hd.weights, rep.q, rep.target) : 0; }, last);
}

const prevHead = (info, trace) => pickHead(info, trace, 'previous token', (hd) => {
  const q = trace.tokens.length - 1;
  return q > 0 ? cell(hd.weights, q, q - 1) : 0;
}, 0);

/** Up to `n` keys of row q to choose from: the answer, the target, the previous token and the start, in order. */
function fewKeys(trace, q, picks) {
  const keys = [...new Set(picks.filter((k) => k >= 0 && k <= q))].sort((a, b) => a - b);
  return { choices: keys.map((k) => wordAt(trace, k)), values: keys };
}

export const distance = {
  id: 'distance', title: 'Attention does not care how far back', text: LONG, step: 'weights',
  pick: inductionHead,
  lesson({ trace, info, layer, head }) {
    const rep = lastRepeat(trace);
    if (!rep) return { missing: 'this stop needs a word that appears twice, far apart: try the tour’s own sentence' };
    const hd = trace.layers[layer].heads[head];
    const { q, earlier, target } = rep;
    const k = extremeKey(hd.weights, hd, q);
    const { choices, values } = fewKeys(trace, q, [k, target, q - 1, isStart(trace, 0) ? 0 : 1]);
    const top = trace.predict.top[0];
    const back = q - target;
    const found = k === target ? `puts ${w2(cell(hd.weights, q, k))} of its weight on ${wordAt(trace, target)}, ${back} tokens back: the token that followed ${word(trace, q)} the first time (#${earlier})`
      : `looks most at ${wordAt(trace, k)} (${w2(cell(hd.weights, q, k))}); ${wordAt(trace, target)}, ${back} tokens back after the first ${word(trace, q)}, gets ${w2(cell(hd.weights, q, target))}`;
    return {
      question: `${word(trace, q)} at #${q} appeared once before, at #${earlier}. In ${headDesc(info, trace, layer, head)}, which token will it look at most?`,
      choices, answer: values.indexOf(k),
      caption: `In ${headDesc(info, trace, layer, head)}, ${wordAt(trace, q)} ${found}. A score is a dot product, and a dot product does not get smaller with distance. The model’s top guess for the next token: ${quoted(top.text)} (${pct(top.prob)}).`,
      mark: { q, k },
    };
  },
};

export const update = {
  id: 'update', title: 'The mix moves each vector toward its meaning in context', text: RIVER, compare: ACCOUNT, step: 'update', view: 'compare',
  pick: () => ({ layer: 0, head: 0 }),
  lesson({ trace, other, pair, comparison, info, layer, head }) {
    if (!other || !pair || !comparison) return { missing: 'the two sentences share no token to compare: give the second sentence a word of the first' };
    const [i, j] = pair;
    const st = comparison.stages;
    const [s0, s1, s2] = [st[0].cosine, st[1].cosine, st[2]?.cosine];
    const change = s1 < s0 - 5e-4 ? 0 : s1 > s0 + 5e-4 ? 2 : 1;
    const [ha, hb] = [trace.layers[layer].heads[head], other.layers[layer].heads[head]];
    const [ka, kb] = [extremeKey(ha.weights, ha, i), extremeKey(hb.weights, hb, j)];
    const rest = st.slice(3).filter((s) => s.name === 'output').map((s) => `, ${c3(s.cosine)} after layer ${s.layer + 1}`).join('');
    return {
      question: `${word(trace, i)} starts from ${s0 >= 0.9995 ? 'the same vector' : 'almost the same vector'} in both sentences (cosine ${c3(s0)}). After layer 1’s attention adds ΔE, will the two be more alike, just as alike, or less alike?`,
      choices: ['Less alike', 'Just as alike', 'More alike'], answer: change,
      caption: `The cosine between the two ${word(trace, i)}s: ${c3(s0)} at E, ${c3(s1)} after layer 1’s attention (E + ΔE)${s2 === undefined ? '' : `, ${c3(s2)} after its MLP`}${rest}. In ${headDesc(info, trace, layer, head)}, ${word(trace, i)} looks most at ${wordAt(trace, ka)} (${w2(cell(ha.weights, i, ka))}) in one sentence and at ${wordAt(other, kb)} (${w2(cell(hb.weights, j, kb))}) in the other: each mixes in its own context.`,
      mark: { tok: i },
    };
  },
};

export const stack = {
  id: 'stack', title: 'Heads side by side, layers stacked', text: DURSLEY, step: 'weights',
  pick: inductionHead,
  options: (info, trace) => {
    const p = prevHead(info, trace), ind = inductionHead(info, trace);
    return { disabled_heads: p.layer < ind.layer ? [[p.layer, p.head]] : [] };
  },
  lesson({ trace, baseline, info, layer, head }) {
    const off = trace.options.disabled_heads[0];
    // the clearest copy with every head on (the ablated trace is the one being shown)
    const rep = baseline ? clearestRepeat(baseline, baseline.layers[layer].heads[head]) : null;
    if (!off || !baseline || !rep) return { missing: trace.config.n_layers < 2 ? 'this model has one layer: there is nothing stacked to show' : 'this stop needs a word that appears twice: try “Mr Dursley said hello. Mr Dursley said”' };
    const { q, target } = rep;
    const [on, now] = [cell(baseline.layers[layer].heads[head].weights, q, target), cell(trace.layers[layer].heads[head].weights, q, target)];
    const answer = now < on - 5e-3 ? 0 : now > on + 5e-3 ? 2 : 1;
    const desc = headDesc(info, trace, layer, head), offDesc = headDesc(info, trace, off[0], off[1]);
    return {
      question: `All ${trace.config.n_heads} heads of a layer work side by side, and each layer reads what the one below wrote. Switch off ${offDesc}: what happens to how much ${wordAt(trace, q)} looks at ${wordAt(trace, target)} in ${desc}?`,
      choices: ['It weakens', 'It stays the same', 'It grows'], answer,
      caption: `With every head on, ${wordAt(trace, q)} puts ${w2(on)} of its weight on ${wordAt(trace, target)} in ${desc}; with ${offDesc} switched off it puts ${w2(now)}.${answer === 0 ? ' The later head uses what the earlier one wrote into each vector: layers compose.' : ''}`,
      mark: { q, k: target },
    };
  },
};

export const predict = {
  id: 'predict', title: 'The last vector predicts the next word', text: DURSLEY, step: 'predict',
  lesson({ trace }) {
    const top = trace.predict.top;
    const pos = trace.predict.position;
    const offered = top.slice(0, 4).map((c) => c.text).sort((a, b) => a.localeCompare(b));
    const rep = lastRepeat(trace);
    const copied = rep && rep.q === pos && trace.tokens[rep.target].id === top[0].id ? `: the token that followed ${word(trace, pos)} last time, copied forward by attention` : '';
    return {
      question: `What will the model say comes after ${wordAt(trace, pos)}?`,
      choices: offered.map(quoted), answer: offered.indexOf(top[0].text),
      caption: `After ${wordAt(trace, pos)} the model’s top guess is ${quoted(top[0].text)} (${pct(top[0].prob)})${copied}, then ${quoted(top[1].text)} (${pct(top[1].prob)}). Only the last token’s vector is used: after the last layer it is compared with every one of the ${trace.config.vocab_size} rows of W_E, and softmax turns those scores into probabilities.`,
      mark: null,
    };
  },
};

export const training = {
  id: 'training', title: 'Nobody set these weights', text: DURSLEY, step: 'weights',
  pick: (info, trace) => inductionHead(info, trace),
  lesson({ trace, info, layer, head }) {
    const name = headName(info, layer, head);
    const aux = auxTrained(info);
    const rule = name ? ruleFor(info, name) : null;
    const named = name ? ` The names came afterwards: each head was measured on held-out text and named by fixed rules (‘${name}’: ${rule ?? 'its rule is not in the profile'}).` : ' This model ships no head profile, so its heads have no names here.';
    const helped = aux ? ` One head had help: ${headDesc(info, trace, aux.layer, aux.head)} was also trained by an auxiliary loss to look at the ${aux.target}, and the page says so wherever it names it.` : '';
    return {
      question: `Who decided that ${headDesc(info, trace, layer, head)} should attend the way it does?`,
      choices: ['A programmer wrote the rule', 'Training found it, by lowering a cost'], answer: 1,
      caption: `Training. Every number of W_Q, W_K, W_V and W_O in every head started random, and training nudged them, step by step, to lower one cost: how surprised the model is by each next token of its training text.${named}${helped} Nothing made the heads tidy, which is why they are hard to read.`,
      mark: null,
    };
  },
};
