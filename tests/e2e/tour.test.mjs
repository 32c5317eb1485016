// The guided tour (issue 11): every stop, opened from the URL (#tour=N) on its own sentence, asks before it
// tells (the figures are veiled and inert until a choice is made), is answered with the keyboard, and its
// caption's claim is checked against the live trace (el.trace) by arithmetic done here, independently of
// the page's own code: the numbers it prints, the token it names, the cell it marks.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ready } from './helpers.mjs';

let env;
before(async () => { env = await start({ viewport: { width: 1280, height: 800 } }); });
after(async () => { await env.close(); });

/** The page's number format, restated: short, a real minus sign. */
const fmt = (v, digits) => {
  const a = Math.abs(v), d = digits ?? (a >= 100 ? 0 : a >= 10 ? 1 : 2), t = a.toFixed(d);
  return (v < 0 && Number(t) !== 0 ? '−' : '') + t;
};
const pct = (p) => (p >= 0.1 ? (p * 100).toFixed(1) : p >= 0.001 ? (p * 100).toFixed(2) : (p * 100).toExponential(1)) + '%';

/** In the page: everything a claim is checked against, for the element's stop. */
function snapshot() {
  const el = document.querySelector('attention-explorer');
  const root = el.shadowRoot;
  const body = root.querySelector('.ae-view section > :last-child');
  const grid = root.querySelector('.ae-view section canvas.grid');
  return {
    mode: el.mode, stop: el.stop, stopAttr: el.getAttribute('stop'), hash: location.hash, step: el.step, layer: el.layer, head: el.head,
    text: el.text, lesson: el.lesson ? { ...el.lesson, exhibit: Boolean(el.lesson.exhibit) } : null, revealed: el.revealed,
    inert: Boolean(body && body.inert), veiled: Boolean(body && body.classList.contains('veiled')),
    // the words of the answer as read (a glossary word's definition box, closed, is not part of them)
    answer: (() => { const a = root.querySelector('.tour-answer')?.cloneNode(true); if (!a) return ''; for (const x of a.querySelectorAll('.gloss-pop')) x.remove(); return a.textContent; })(), title: root.querySelector('.tour-title')?.textContent ?? '',
    choices: [...root.querySelectorAll('.tour-choice')].map((b) => b.textContent), gridMark: grid ? grid.__grid.mark : null,
    focusedAnswer: root.activeElement?.classList.contains('tour-answer') ?? false,
  };
}

/** In the page: independent facts from the trace (and from fresh analyses for the second sentence or the ablation). */
async function facts(arg) {
  const el = document.querySelector('attention-explorer');
  const t = el.trace, L = el.layer, H = el.head, hd = t.layers[L].heads[H], T = t.tokens.length, D = t.config.d_model;
  const { loadEngine } = await import('/engine.js');
  const engine = await loadEngine();
  const at = (m, i, j) => m.data[i * m.shape[1] + j];
  const row = (m, i) => Array.from(m.data.subarray(i * m.shape[1], (i + 1) * m.shape[1]));
  const visible = (q) => Array.from({ length: T }, (_, k) => k).filter((k) => at(hd.masked, q, k) !== -Infinity);
  const argmax = (m, q) => visible(q).reduce((b, k) => (at(m, q, k) > at(m, q, b) ? k : b), visible(q)[0]);
  const argmin = (m, q) => visible(q).reduce((b, k) => (at(m, q, k) < at(m, q, b) ? k : b), visible(q)[0]);
  const cos = (a, i, b, j) => { let ab = 0, aa = 0, bb = 0; for (let d = 0; d < D; d++) { const x = at(a, i, d), y = at(b, j, d); ab += x * y; aa += x * x; bb += y * y; } return ab / Math.sqrt(aa * bb); };
  const special = (tr, i) => tr.tokens[i].special;
  let rep = null; // the last token with an earlier copy (not the start token), and the token after that copy
  for (let q = T - 1; q >= 0 && !rep; q--) for (let e = q - 1; e >= 0; e--) if (!special(t, q) && !special(t, e) && t.tokens[e].id === t.tokens[q].id && e + 1 < q) { rep = { q, earlier: e, target: e + 1 }; break; }
  // every repeated token (its latest earlier copy) and, for a head, the one it copies most clearly
  const repeats = [];
  for (let q = T - 1; q >= 0; q--) {
    for (let e = q - 1; e >= 0; e--) {
      if (t.tokens[e].id !== t.tokens[q].id) continue;
      if (!special(t, q) && !special(t, e) && e + 1 < q) repeats.push({ q, earlier: e, target: e + 1 });
      break;
    }
  }
  const clearest = (h) => repeats.reduce((b, r) => (!b || at(h.weights, r.q, r.target) > at(h.weights, b.q, b.target) ? r : b), null);
  const out = { T, D, dh: t.config.d_head, rope: !t.position_embeddings, rep, q: T - 1, words: t.tokens.map((x) => x.text.trim()), heads: el.model.heads, nHeads: t.config.n_heads };
  out.best = argmax(hd.scores, T - 1); out.worst = argmin(hd.scores, T - 1);
  out.bestScore = at(hd.scores, T - 1, out.best); out.worstScore = at(hd.scores, T - 1, out.worst);
  out.maskTop = argmax(hd.masked, T - 1); out.maskLow = argmin(hd.masked, T - 1);
  out.maskMax = at(hd.masked, T - 1, out.maskTop); out.maskMin = at(hd.masked, T - 1, out.maskLow); out.weightTop = at(hd.weights, T - 1, out.maskTop);
  out.heaviest = argmax(hd.weights, T - 1);
  out.clear = clearest(hd);
  if (out.clear) { out.clearArg = argmax(hd.weights, out.clear.q); out.clearArgW = at(hd.weights, out.clear.q, out.clearArg); }
  if (rep) {
    out.repArg = argmax(hd.weights, rep.q); out.repArgW = at(hd.weights, rep.q, out.repArg); out.repTargetW = at(hd.weights, rep.q, rep.target);
    out.keysSame = row(hd.keys, rep.earlier).every((v, d) => v === at(hd.keys, rep.q, d));
    out.turnedSame = hd.rotated_keys ? row(hd.rotated_keys, rep.earlier).every((v, d) => v === at(hd.rotated_keys, rep.q, d)) : null;
    out.keyStarts = [at(hd.keys, rep.earlier, 0), at(hd.keys, rep.earlier, 1), at(hd.keys, rep.q, 0), at(hd.keys, rep.q, 1)];
    out.turnedStarts = hd.rotated_keys ? [at(hd.rotated_keys, rep.earlier, 0), at(hd.rotated_keys, rep.earlier, 1), at(hd.rotated_keys, rep.q, 0), at(hd.rotated_keys, rep.q, 1)] : null;
    out.posStarts = t.position_embeddings ? [at(t.position_embeddings, rep.earlier, 0), at(t.position_embeddings, rep.q, 0)] : null;
  }
  if (arg.second) {
    const o = engine.analyze(arg.second, {});
    const i = t.tokens.findIndex((x) => x.text === ' bank'), j = o.tokens.findIndex((x) => x.text === ' bank');
    out.pair = [i, j]; out.bankId = t.tokens[i].id;
    const name = t.position_embeddings ? 'token_embeddings' : 'embeddings';
    out.rowsSame = row(t[name], i).every((v, d) => v === at(o[name], j, d));
    out.stages = [cos(t.embeddings, i, o.embeddings, j)];
    t.layers.forEach((l, n) => out.stages.push(cos(l.updated, i, o.layers[n].updated, j), cos(l.output, i, o.layers[n].output, j)));
  }
  if (arg.ablated && rep) {
    const base = engine.analyze(el.text, { ...el.options, disabled_heads: [] });
    out.disabled = el.options.disabled_heads;
    const c = clearest(base.layers[L].heads[H]);
    out.onW = at(base.layers[L].heads[H].weights, c.q, c.target);
    out.offW = at(t.layers[L].heads[H].weights, c.q, c.target);
  }
  out.top = t.predict.top.slice(0, 2).map((c) => ({ text: c.text, prob: c.prob, id: c.id }));
  out.position = t.predict.position;
  out.vocab = t.config.vocab_size;
  return out;
}

const word = (f, i) => `‘${f.words[i]}’`;
const at = (f, i) => `${word(f, i)} (#${i})`;
const nameOf = (f, l, h) => (f.heads ? (Array.isArray(f.heads) ? f.heads : f.heads.heads).find((x) => x.layer === l && x.head === h)?.name : null);

/** Each stop's claim, checked against the facts; `s` is the snapshot after the answer is shown. */
const CLAIMS = {
  lookup(s, f) {
    assert.equal(s.lesson.answer, f.rowsSame ? 0 : 1, 'the answer says whether the two rows are the same');
    assert.ok(f.rowsSame, '‘bank’ gets the same row of the lookup table in both sentences');
    assert.match(s.answer, new RegExp(`token id ${f.bankId} in both`));
    assert.ok(s.answer.includes(fmt(f.stages[0], 3)), `the caption gives the cosine of the two E, ${fmt(f.stages[0], 3)}`);
    assert.deepEqual(s.lesson.mark, { tok: f.pair[0] });
  },
  position(s, f) {
    assert.ok(f.rep, 'the sentence repeats a token');
    if (f.rope) {
      assert.equal(s.step, 'rotate');
      assert.ok(f.keysSame, 'layer 1: the two copies have the same key before turning');
      assert.equal(f.turnedSame, false, 'turned by their positions, the keys differ');
      assert.equal(s.lesson.answer, 1);
      for (const v of [...f.keyStarts, ...f.turnedStarts]) assert.ok(s.answer.includes(fmt(v)), `the caption prints ${fmt(v)}`);
    } else {
      assert.equal(s.lesson.answer, 1, 'E differs by its position row');
      for (const v of f.posStarts) assert.ok(s.answer.includes(fmt(v)), `the caption prints P's ${fmt(v)}`);
    }
  },
  queries(s, f) {
    assert.ok(f.dh < f.D, 'd_head < d_model');
    assert.equal(s.lesson.choices[s.lesson.answer], String(f.dh));
    assert.ok(s.answer.includes(`${f.D} × ${f.dh}`), 'the caption gives W_Q’s shape');
  },
  keys(s, f) {
    assert.equal(s.lesson.choices[s.lesson.answer], at(f, f.best), 'the answer is the largest score of the row');
    assert.ok(s.answer.includes(`${at(f, f.best)} is ${fmt(f.bestScore)}`) && s.answer.includes(`${at(f, f.worst)} it is ${fmt(f.worstScore)}`), 'the largest and smallest scores');
    assert.deepEqual(s.gridMark, { q: f.q, k: f.best }, 'the cell is marked in the real grid');
    assert.ok(s.lesson.exhibit, 'the picture of alignment (query and keys side by side)');
  },
  softmax(s, f) {
    assert.equal(f.heaviest, f.maskTop, 'the largest masked score gets the most weight');
    assert.equal(s.lesson.answer, 0);
    assert.ok(s.answer.includes(`run from ${fmt(f.maskMin)} to ${fmt(f.maskMax)}`), `the row's range ${fmt(f.maskMin)} … ${fmt(f.maskMax)}`);
    assert.ok(s.answer.includes(`gets ${fmt(f.weightTop, 2)} of the weight`), `its weight ${fmt(f.weightTop, 2)}`);
    if (f.maskMax < 0) assert.match(s.answer, /all negative/);
    assert.deepEqual(s.gridMark, { q: f.q, k: f.maskTop });
  },
  heads(s, f) {
    const { q, target } = f.clear;
    assert.equal(s.lesson.choices[s.lesson.answer], at(f, f.clearArg), 'the answer is the heaviest key of the repeated token');
    if (/the pattern of an induction head/.test(s.answer)) assert.equal(f.clearArg, target, 'claimed induction: it looks at the token after the earlier copy');
    assert.ok(s.answer.includes(`${at(f, q)} puts ${fmt(f.clearArgW, 2)}`) || s.answer.includes(`looks most at ${at(f, f.clearArg)} (${fmt(f.clearArgW, 2)})`));
    const name = nameOf(f, s.layer, s.head);
    const list = f.heads ? (Array.isArray(f.heads) ? f.heads : f.heads.heads) : [];
    if (name) assert.ok(s.answer.includes(`(‘${name}’)`), `the head is called by its measured name ‘${name}’`);
    if (list.some((x) => x.name === 'induction')) assert.equal(name, 'induction', 'the stop shows a head the profile names induction');
    const aux = f.heads && f.heads.trained_by_auxiliary_loss;
    if (aux && s.answer.includes(`head ${aux.head + 1} of layer ${aux.layer + 1}`)) assert.match(s.answer, /this head was trained to look at the previous token/, 'the auxiliary-loss head is disclosed');
    assert.deepEqual(s.gridMark, { q, k: f.clearArg });
  },
  distance(s, f) {
    const { q, target } = f.rep;
    assert.ok(f.T <= 64, `the example fits the context: ${f.T} tokens`);
    assert.ok(q - target >= 30, `the name is ${q - target} tokens back (expected 30 or more)`);
    assert.ok(s.answer.includes(`${q - target} tokens back`));
    if (/tokens back: the token that followed/.test(s.answer)) assert.equal(f.repArg, target);
    assert.ok(s.answer.includes(`‘${f.top[0].text.trim()}’ (${pct(f.top[0].prob)})`), 'the prediction');
  },
  update(s, f) {
    for (const [n, v] of f.stages.entries()) if (n < 3 || n % 2 === 0) assert.ok(s.answer.includes(fmt(v, 3)), `stage ${n}: cosine ${fmt(v, 3)}`);
    const change = f.stages[1] < f.stages[0] - 5e-4 ? 0 : f.stages[1] > f.stages[0] + 5e-4 ? 2 : 1;
    assert.equal(s.lesson.answer, change, 'more alike / less alike as the cosines say');
  },
  stack(s, f) {
    assert.equal(f.disabled.length, 1, 'one earlier head is switched off');
    assert.ok(f.disabled[0][0] < s.layer, 'an earlier layer');
    assert.ok(s.answer.includes(`puts ${fmt(f.onW, 2)} of its weight`) && s.answer.includes(`switched off it puts ${fmt(f.offW, 2)}`), `${fmt(f.onW, 2)} then ${fmt(f.offW, 2)}`);
    const change = f.offW < f.onW - 5e-3 ? 0 : f.offW > f.onW + 5e-3 ? 2 : 1;
    assert.equal(s.lesson.answer, change);
  },
  predict(s, f) {
    assert.equal(s.lesson.choices[s.lesson.answer], `‘${f.top[0].text.trim()}’`);
    assert.ok(s.answer.includes(`top guess is ‘${f.top[0].text.trim()}’ (${pct(f.top[0].prob)})`));
    assert.ok(s.answer.includes(`${f.vocab} rows`));
  },
  training(s, f) {
    assert.equal(s.lesson.answer, 1);
    const name = nameOf(f, s.layer, s.head);
    if (name) {
      const rule = f.heads.rules.find((r) => r.name === name);
      assert.ok(s.answer.includes(`‘${name}’: ${rule.when}`), 'the measured name and its rule, from the profile');
    } else assert.match(s.answer, /ships no head profile/);
    const aux = f.heads && f.heads.trained_by_auxiliary_loss;
    if (aux) assert.ok(s.answer.includes(`was also trained by an auxiliary loss to look at the ${aux.target}`), 'the auxiliary loss is disclosed');
  },
};

const SECOND = 'she paid the money into her bank account';

test('every tour stop: from the URL, predict before reveal, keyboard, and a caption the live trace bears out', async () => {
  const page = await env.page('/index.html#tour=1');
  await ready(page);
  const total = await page.evaluate(() => document.querySelector('attention-explorer').shadowRoot.querySelectorAll('.tour-dots button').length);
  assert.ok(total >= 9, `${total} stops`);
  const ids = [];
  for (let n = 1; n <= total; n++) {
    await page.evaluate((k) => { location.hash = `tour=${k}`; }, n);
    await page.waitForFunction((k) => { const el = document.querySelector('attention-explorer'); return el.stop === k && el.lesson && el.trace; }, n);
    await page.waitForTimeout(50);
    let s = await page.evaluate(snapshot);
    assert.equal(s.mode, 'tour');
    assert.equal(s.stopAttr, String(n), 'the stop is an attribute');
    assert.ok(s.title.startsWith(`Stop ${n} of ${total}`));
    assert.ok(!s.lesson.missing, `stop ${n}: ${s.lesson.missing}`);
    assert.equal(s.revealed, false);
    assert.ok(s.inert && s.veiled, `stop ${n}: the figures are veiled and inert before the guess`);
    assert.equal(s.answer, '', 'no answer before the guess');
    assert.ok(s.choices.length >= 2 && s.lesson.question.length > 20);
    // answer with the keyboard: focus the last choice, Enter
    await page.locator('attention-explorer >> .tour-choice').last().focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('attention-explorer').revealed);
    await page.waitForTimeout(30);
    s = await page.evaluate(snapshot);
    assert.ok(!s.inert && !s.veiled, 'revealed: the figures are back');
    assert.ok(s.answer.includes(s.lesson.caption), 'the caption is in the live region');
    assert.ok(s.focusedAnswer, 'the keyboard lands on the answer');
    assert.match(s.answer, s.lesson.choices.length - 1 === s.lesson.answer ? /^Right/ : /^Not quite/);
    const which = Object.keys(CLAIMS)[n - 1];
    const f = await page.evaluate(facts, { second: ['lookup', 'update'].includes(which) ? SECOND : null, ablated: which === 'stack' });
    CLAIMS[which](s, f);
    ids.push(which);
    console.log(`# stop ${n} (${which}): ${s.answer.replace(/\s+/g, ' ').slice(0, 400)}`);
  }
  assert.equal(ids.length, total);
  env.assertClean(page);
});

test('the tour from the keyboard: → and ← walk the stops, and the URL follows', async () => {
  const page = await env.page('/index.html#tour=3');
  await ready(page);
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.querySelector('attention-explorer').stop === 4);
  await page.waitForFunction(() => location.hash.includes('tour=4'));
  await page.locator('attention-explorer >> .tour-prev').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('attention-explorer').stop === 3);
  // a stop's own sentence, then the student's: the caption follows the text
  await page.locator('attention-explorer >> .tour-choice').first().click();
  await page.evaluate(() => { document.querySelector('attention-explorer').text = 'the cat sat on the mat and looked at the dog'; });
  await page.waitForFunction(() => document.querySelector('attention-explorer').shadowRoot.querySelector('.tour-theirs'));
  const s = await page.evaluate(snapshot);
  assert.equal(s.stop, 3, 'the stop stays when the student types');
  assert.ok(s.answer.includes(s.lesson.caption));
  env.assertClean(page);
});
