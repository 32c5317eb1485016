// <attention-explorer> beyond the walkthrough page: several instances sharing one engine, the
// controls modes, the offered steps, theme and height, and registration under another tag.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ready } from './helpers.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

/** The page with a second element appended (attributes given), both rendered. */
async function withSecond(attrs) {
  const page = await env.page('/index.html');
  await ready(page);
  await page.evaluate((a) => {
    const el = document.createElement('attention-explorer');
    el.id = 'second';
    for (const [k, v] of Object.entries(a)) el.setAttribute(k, v);
    document.body.append(el);
  }, attrs);
  await ready(page, '#second');
  return page;
}

test('two instances share one engine and stay independent', async () => {
  const page = await withSecond({ controls: 'none', step: 'weights', text: 'the cat sat on the mat' });
  const r = await page.evaluate(async () => {
    const [a, b] = document.querySelectorAll('attention-explorer');
    const sameEngine = a._engine === b._engine;
    b.head = 1;
    a.step = 'keys';
    await new Promise((res) => setTimeout(res, 30));
    return { sameEngine, a: [a.step, a.head, a.text], b: [b.step, b.head, b.text], bText: b.trace.tokens.filter((t) => !t.special).map((t) => t.text).join('') };
  });
  assert.equal(r.sameEngine, true);
  const heads = await page.evaluate(() => document.querySelector('attention-explorer').model.config.n_heads);
  assert.deepEqual(r.a, ['keys', 0, 'a fluffy blue creature roamed the verdant forest']);
  assert.deepEqual(r.b, ['weights', Math.min(1, heads - 1), 'the cat sat on the mat']);
  assert.equal(r.bText, 'the cat sat on the mat');
  env.assertClean(page);
});

test('controls="none" shows only the view; "minimal" offers navigation within `steps`', async () => {
  const page = await withSecond({ controls: 'none', step: 'scores' });
  const none = await page.evaluate(() => {
    const root = document.getElementById('second').shadowRoot;
    return { input: !!root.querySelector('textarea'), nav: !!root.querySelector('.ae-nav'), tools: !!root.querySelector('.ae-tools'), grid: !!root.querySelector('canvas.grid') };
  });
  assert.deepEqual(none, { input: false, nav: false, tools: false, grid: true });
  const minimal = await page.evaluate(async () => {
    const el = document.getElementById('second');
    el.setAttribute('controls', 'minimal');
    el.setAttribute('steps', 'scores weights');
    await new Promise((res) => setTimeout(res, 30));
    const root = el.shadowRoot;
    const offered = [...root.querySelectorAll('.steplist button')].map((b) => b.dataset.step);
    root.querySelector('button.next').click();
    await new Promise((res) => setTimeout(res, 30));
    const after = el.step;
    const nextDisabled = root.querySelector('button.next').disabled;
    el.step = 'update'; // not offered: falls back to the first offered step
    await new Promise((res) => setTimeout(res, 30));
    return { offered, after, nextDisabled, fallback: el.step, input: !!root.querySelector('textarea'), heads: root.querySelectorAll('.head-button').length, toggles: root.querySelectorAll('.head input').length };
  });
  assert.deepEqual(minimal.offered, ['scores', 'weights']);
  assert.equal(minimal.after, 'weights');
  assert.equal(minimal.nextDisabled, true);
  assert.equal(minimal.fallback, 'scores');
  assert.equal(minimal.input, false);
  assert.ok(minimal.heads > 0, 'minimal keeps the head selector');
  assert.equal(minimal.toggles, 0, 'minimal has no ablation switches');
  env.assertClean(page);
});

test('theme and height attributes', async () => {
  const page = await withSecond({ theme: 'dark', height: '320', controls: 'minimal', step: 'embed' });
  const r = await page.evaluate(async () => {
    const el = document.getElementById('second');
    const dark = getComputedStyle(el).backgroundColor;
    const h1 = el.getBoundingClientRect().height;
    const view = el.shadowRoot.querySelector('.ae-view');
    const scrolls = view.scrollHeight > view.clientHeight;
    el.theme = 'light';
    el.height = '30em';
    await new Promise((res) => setTimeout(res, 30));
    return { dark, h1, scrolls, light: getComputedStyle(el).backgroundColor, h2: el.getBoundingClientRect().height, em: parseFloat(getComputedStyle(el).fontSize), attr: el.getAttribute('height') };
  });
  assert.equal(r.dark, 'rgb(23, 24, 27)');
  assert.equal(r.h1, 320);
  assert.equal(r.scrolls, true, 'content taller than the height scrolls inside the view');
  assert.equal(r.light, 'rgb(255, 255, 255)');
  assert.equal(r.h2, 30 * r.em);
  assert.equal(r.attr, '30em');
  env.assertClean(page);
});

test('define.js registers the element under another tag', async () => {
  const page = await env.page('/index.html');
  await ready(page);
  const r = await page.evaluate(async () => {
    const { define } = await import('./define.js');
    const cls = define('my-explorer');
    const again = define('my-explorer');
    const el = document.createElement('my-explorer');
    el.setAttribute('step', 'tokens');
    el.setAttribute('text', 'hello there');
    document.body.append(el);
    await el.ready;
    return { same: cls === again, distinct: cls !== customElements.get('attention-explorer'), chips: el.shadowRoot.querySelectorAll('.chip').length, tokens: el.trace.tokens.length };
  });
  assert.equal(r.same, true);
  assert.equal(r.distinct, true, 'a second tag gets its own subclass');
  assert.ok(r.chips > 0);
  assert.equal(r.chips, r.tokens);
  env.assertClean(page);
});
