// A model with rotary positions and a start token on the page (the tiny rotary fixture, loaded through
// "Load your own model"): the Rotate step is offered between Keys and Scores and only for it, the
// embedding step shows no position table and no "+ P", the tokens step shows the start token and says
// what it is; the learned-position fixture (model.safetensors) gets none of that; back on the built-in
// model the steps follow its own config (rotary since model v2). Fails on any page or console error.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, ready, ROOT } from './helpers.mjs';

const TINY = path.join(ROOT, 'tests/fixtures/tiny');
const NAME = 'attention-explorer tiny-2L rotary test model';
const LEARNED = 'attention-explorer tiny-2L test model';

/** Loads tests/fixtures/tiny/<weights> with the tiny tokenizer through "Load your own model". */
async function loadOwn(page, weights, name) {
  await page.setInputFiles('#own-weights', path.join(TINY, weights));
  await page.setInputFiles('#own-tokenizer', path.join(TINY, 'tokenizer.json'));
  await page.click('#own-load');
  await page.waitForFunction((n) => document.querySelector('attention-explorer').shadowRoot.querySelector('.credit').textContent.includes(n), name);
  await ready(page);
}

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

/** Shows step `id` and returns what its section says. */
const show = (page, id) => page.evaluate(async (step) => {
  const el = document.querySelector('attention-explorer');
  el.step = step;
  await new Promise((r) => setTimeout(r, 0));
  const section = el.shadowRoot.querySelector(`.ae-view section[data-step="${step}"]`);
  return {
    steps: el.steps,
    math: section?.querySelector('.math')?.textContent,
    explain: section ? [...section.querySelectorAll('.explain p')].map((p) => p.textContent).join(' ') : null,
    captions: section ? [...section.querySelectorAll('canvas')].map((c) => c.getAttribute('aria-label') ?? '') : [],
    chips: section ? [...section.querySelectorAll('.chip')].map((c) => c.textContent) : [],
    buttons: [...el.shadowRoot.querySelectorAll('.steplist button')].map((b) => b.dataset.step),
  };
}, id);

test('a rotary model gets the Rotate step, an embedding without P and a visible start token', { timeout: 120000 }, async () => {
  const page = await env.page('/index.html#text=the%20fox%2C%20the%20fox&step=tokens');
  await ready(page);
  await loadOwn(page, 'model.safetensors', LEARNED);
  const before = await show(page, 'embed');
  assert.ok(!before.steps.includes('rotate'), 'the learned-position fixture: no Rotate step');
  assert.equal(before.math, 'E = W_E[ids] + P');

  await loadOwn(page, 'rope.safetensors', NAME);

  const rotate = await show(page, 'rotate');
  const at = rotate.steps.indexOf('rotate');
  assert.deepEqual(rotate.steps.slice(at - 1, at + 2), ['keys', 'rotate', 'scores']);
  assert.deepEqual(rotate.buttons, rotate.steps, 'the step list offers it');
  assert.match(rotate.explain, /how far apart two tokens are, not on where they stand/);
  assert.match(rotate.explain, /embeddings have no position part/);
  assert.equal(rotate.captions.length, 4, 'queries, rotated queries, keys, rotated keys');
  assert.ok(rotate.captions.some((c) => c.startsWith('rotated_queries')) && rotate.captions.some((c) => c.startsWith('rotated_keys')));

  const embed = await show(page, 'embed');
  assert.equal(embed.math, 'E = W_E[ids]');
  assert.ok(!embed.captions.some((c) => c.includes('position_embeddings')), 'no position table is drawn');
  assert.doesNotMatch(embed.explain, /A second table P/);

  const tokens = await show(page, 'tokens');
  assert.match(tokens.chips[0], /^<\|endoftext\|>#0 · start · id 0$/);
  assert.match(tokens.explain, /neutral start token that every analysis begins with, and heads that have nothing better to do rest their attention on it/);
  // the tiny tokenizer cuts “the fox, the fox” into t·he· fox·,· the· fox: 6 tokens of text, 7 with the start token
  assert.equal(tokens.chips.length, 7);
  assert.match(tokens.explain, /This sentence becomes 6 tokens/, 'the count is of the text’s own tokens');

  await page.click('#own-reset');
  await page.waitForFunction((name) => !document.querySelector('attention-explorer').shadowRoot.querySelector('.credit').textContent.includes(name), NAME);
  await ready(page);
  const back = await show(page, 'embed');
  const rotary = await page.evaluate(() => document.querySelector('attention-explorer').model.config.positions?.kind === 'rope');
  assert.equal(back.steps.includes('rotate'), rotary, 'the built-in model has the Rotate step exactly when its positions are rotary');
  assert.equal(back.math, rotary ? 'E = W_E[ids]' : 'E = W_E[ids] + P');
  env.assertClean(page);
});
