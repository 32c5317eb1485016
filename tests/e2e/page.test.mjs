// The walkthrough page (www/index.html) in headless Chromium: every step, every control, the URL
// round trip and back/forward, exports, hover arithmetic and the accessibility basics. Every test fails
// on any page error, console error, failed request or request leaving the local server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, ready, ROOT, stepsFor } from './helpers.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

async function open(hash = '', opts) {
  const page = await env.page(`/index.html${hash}`, opts);
  await ready(page);
  return page;
}

/** The steps the built-in model's config should get, checked against the element's list. */
async function modelSteps(page) {
  const [config, steps] = await page.evaluate(() => { const el = document.querySelector('attention-explorer'); return [el.model.config, el.steps]; });
  assert.deepEqual(steps, stepsFor(config), 'the element offers the steps of the model’s config');
  return steps;
}

/** Runs fn(el, shadowRoot, arg) in the page. */
const inEl = (page, fn, arg) => page.evaluate(([src, a]) => {
  const el = document.querySelector('attention-explorer');
  return new Function('el', 'root', 'arg', `return (${src})(el, root, arg);`)(el, el.shadowRoot, a);
}, [fn.toString(), arg]);

const shadow = (page, sel) => page.locator(`attention-explorer >> ${sel}`);

test('the page renders the real trace of the default sentence', async () => {
  const page = await open();
  const r = await inEl(page, (el, root) => ({
    tokens: el.trace.tokens.map((t) => t.text),
    count: el._engine.countTokens(el.text),
    chips: [...root.querySelectorAll('.chip-text')].map((c) => c.textContent),
    credit: root.querySelector('.credit').textContent,
    name: el.model.name,
  }));
  assert.ok(r.tokens.length > 0);
  assert.equal(r.tokens.length, Math.min(r.count, (await inEl(page, (el) => el.model.config.context))));
  assert.deepEqual(r.chips, r.tokens.map((t) => t.replace(/ /g, '·')));
  assert.ok(r.credit.includes(r.name), 'the credit line names the model');
  env.assertClean(page);
});

test('every step renders its view from the trace, through the step list', async () => {
  const page = await open();
  const STEPS = await modelSteps(page);
  for (const [i, id] of STEPS.entries()) {
    await shadow(page, `.steplist button[data-step="${id}"]`).click();
    const r = await inEl(page, (el, root) => ({
      step: el.step,
      attr: el.getAttribute('step'),
      sections: [...root.querySelectorAll('.ae-view section')].map((s) => s.dataset.step),
      heading: root.querySelector('.ae-view h2').textContent,
      errors: root.querySelectorAll('.ae-view .error').length,
      figures: root.querySelectorAll('.ae-view figure, .ae-view .chips').length,
      current: root.querySelector('[aria-current="step"]').dataset.step,
    }));
    assert.equal(r.step, id);
    assert.equal(r.attr, id);
    assert.deepEqual(r.sections, [id]);
    assert.ok(r.heading.startsWith(`${i + 1}. `), r.heading);
    assert.equal(r.errors, 0, `step ${id} drew an error`);
    assert.ok(r.figures > 0, `step ${id} has a figure`);
    assert.equal(r.current, id);
  }
  env.assertClean(page);
});

test('grid numbers are the trace values, masked cells are marked, weight rows sum to 1', async () => {
  const page = await open('#step=weights');
  const r = await inEl(page, (el, root) => {
    const hd = el.trace.layers[0].heads[0];
    const T = hd.weights.shape[0];
    const svg = el.viewSvg();
    const cells = [...svg.querySelectorAll('.num:not(.sum)')].map((n) => n.textContent);
    const masked = svg.querySelectorAll('rect.cell.masked').length;
    const details = root.querySelector('.ae-view details.numbers');
    details.open = true;
    return { T, first: cells[0], w00: hd.weights.data[0], w10: hd.weights.data[T], n: cells.length, masked, sums: [...svg.querySelectorAll('.num.sum')].map((n) => n.textContent), canvas: root.querySelectorAll('.ae-view canvas.grid').length };
  });
  assert.equal(r.canvas, 1, 'the grid is drawn');
  assert.equal(r.n, r.T * r.T);
  assert.equal(r.first, r.w00.toFixed(2));
  await page.waitForFunction(() => document.querySelector('attention-explorer').shadowRoot.querySelector('.ae-view details.numbers table'));
  const td = await inEl(page, (el, root) => [...root.querySelectorAll('.ae-view details.numbers tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((x) => x.textContent)));
  assert.equal(td.length, r.T, 'the table alternative has one row per query');
  assert.equal(td[1][0], r.w10.toFixed(4));
  assert.equal(r.masked, (r.T * (r.T - 1)) / 2, 'the cells above the diagonal are masked');
  assert.ok(r.sums.every((s) => s === '1.00'), `row sums ${r.sums}`);
  await shadow(page, '.steplist button[data-step="masked"]').click();
  const minus = await inEl(page, (el) => [...el.viewSvg().querySelectorAll('.num.masked')].filter((n) => n.textContent === '−∞').length);
  assert.equal(minus, (r.T * (r.T - 1)) / 2);
  env.assertClean(page);
});

test('previous/next buttons and the arrow keys walk the steps', async () => {
  const page = await open('#step=tokens');
  await shadow(page, 'button.next').click();
  assert.equal(await inEl(page, (el) => el.step), 'embed');
  await shadow(page, 'button.prev').click();
  assert.equal(await inEl(page, (el) => el.step), 'tokens');
  assert.equal(await shadow(page, 'button.prev').isDisabled(), true);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await inEl(page, (el) => el.step), 'queries');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await inEl(page, (el) => el.step), 'embed');
  env.assertClean(page);
});

test('show all steps renders every step in order', async () => {
  const page = await open();
  await shadow(page, 'input.show-all').check();
  const ids = await inEl(page, (el, root) => [...root.querySelectorAll('.ae-view section')].map((s) => s.dataset.step));
  assert.deepEqual(ids, await modelSteps(page));
  assert.equal(await inEl(page, (el, root) => root.querySelectorAll('.ae-view .error').length), 0);
  env.assertClean(page);
});

test('typing recomputes; examples, empty text and text longer than the context', async () => {
  const page = await open('#step=tokens');
  const box = shadow(page, 'textarea');
  await box.fill('the cat sat');
  await page.waitForFunction(() => document.querySelector('attention-explorer').trace?.tokens.filter((t) => !t.special).map((t) => t.text).join('') === 'the cat sat');
  assert.equal(await page.evaluate(() => document.querySelector('attention-explorer').getAttribute('text')), 'the cat sat');
  await shadow(page, 'button.example >> nth=1').click();
  const t1 = await inEl(page, (el) => el.text);
  assert.match(t1, /bank/);
  await box.fill('');
  const err = await inEl(page, (el, root) => root.querySelector('.ae-view [role="alert"]')?.textContent);
  assert.match(err, /Nothing to show: .+/, 'an empty text shows the engine’s message');
  const ctxLen = await inEl(page, (el) => el.model.config.context);
  await box.fill(Array.from({ length: ctxLen + 10 }, (_, i) => `w${i}`).join(' '));
  const r = await inEl(page, (el, root) => ({ dropped: el.trace.dropped_tokens, T: el.trace.tokens.length, note: root.querySelector('.note')?.textContent, count: root.querySelector('.count').textContent }));
  assert.ok(r.dropped > 0);
  assert.equal(r.T, ctxLen);
  assert.match(r.note, /left out/);
  assert.match(r.count, /longer than the model’s context/);
  env.assertClean(page);
});

test('heads, layers, ablations, axes and the lines view', async () => {
  const page = await open('#step=weights');
  const cfg = await inEl(page, (el) => el.model.config);
  // head thumbnails: one per head, click to focus
  assert.equal(await shadow(page, '.head-button').count(), cfg.n_heads);
  await shadow(page, `.head-button >> nth=${cfg.n_heads - 1}`).click();
  assert.equal(await inEl(page, (el) => el.head), cfg.n_heads - 1);
  assert.match(await inEl(page, (el, root) => root.querySelector('.ae-view h2').textContent), new RegExp(`head ${cfg.n_heads} of ${cfg.n_heads}`));
  if (cfg.n_layers > 1) {
    await shadow(page, '.layers button >> nth=1').click();
    assert.equal(await inEl(page, (el) => el.layer), 1);
  }
  // a head switched off: the engine zeroes its delta; the summary compares with the unablated model
  await shadow(page, `.head input[type=checkbox] >> nth=0`).uncheck();
  let r = await inEl(page, (el, root) => ({ off: el.trace.options.disabled_heads, enabled: el.trace.layers[el.layer].heads[0].enabled, summary: root.querySelector('.ablation-summary').textContent }));
  assert.equal(r.off.length, 1);
  assert.equal(r.enabled, false);
  assert.match(r.summary, /without ablations/);
  await shadow(page, `.head input[type=checkbox] >> nth=0`).check();
  // scaling off: scaled equals scores
  await shadow(page, 'input.opt-scale').uncheck();
  r = await inEl(page, (el) => { const hd = el.trace.layers[el.layer].heads[el.head]; return { scale: el.trace.options.scale, same: hd.scaled.data.every((v, i) => v === hd.scores.data[i]) }; });
  assert.deepEqual(r, { scale: false, same: true });
  await shadow(page, 'input.opt-scale').check();
  // mask off: no −∞ anywhere, and no hatched cells
  await shadow(page, 'input.opt-causal').uncheck();
  r = await inEl(page, (el, root) => ({ causal: el.trace.options.causal, inf: el.trace.layers[el.layer].heads[el.head].masked.data.some((v) => v === -Infinity),
    hatched: el.viewSvg().querySelector('svg.grid').querySelectorAll('rect.cell.masked').length, grids: root.querySelectorAll('.ae-view canvas.grid').length,
    baselineHatched: [...el.viewSvg().querySelectorAll('svg.grid')][1]?.querySelectorAll('rect.cell.masked').length }));
  const T = await inEl(page, (el) => el.trace.tokens.length);
  assert.deepEqual(r, { causal: false, inf: false, hatched: 0, grids: 2, baselineHatched: (T * (T - 1)) / 2 }, 'the ablated weights, and beside them the model as trained');
  await shadow(page, 'input.opt-causal').check();
  // axes switch: the titles swap
  const titles = () => inEl(page, (el) => [...el.viewSvg().querySelectorAll('.axis-title')].map((t) => t.textContent));
  assert.match((await titles())[0], /^keys/);
  await shadow(page, 'input.opt-transpose').check();
  assert.equal(await page.evaluate(() => document.querySelector('attention-explorer').hasAttribute('transpose')), true);
  assert.match((await titles())[0], /^queries/);
  // lines view
  await shadow(page, 'button.view-lines').click();
  assert.equal(await shadow(page, '.ae-view svg.lines').count(), 1);
  await shadow(page, 'button.view-grid').click();
  assert.equal(await shadow(page, '.ae-view canvas.grid').count(), 1);
  env.assertClean(page);
});

test('predict: temperature slider and the predicting position', async () => {
  const page = await open('#step=predict');
  const p0 = await inEl(page, (el) => el.trace.predict.top[0].prob);
  await shadow(page, 'input.temperature').fill('0.3');
  const r = await inEl(page, (el, root) => ({ tau: el.trace.predict.temperature, p: el.trace.predict.top[0].prob, bars: root.querySelectorAll('svg.bars rect').length }));
  assert.ok(Math.abs(r.tau - 0.3) < 1e-6);
  assert.ok(r.p > p0, 'a lower temperature sharpens the distribution');
  assert.equal(r.bars, 10);
  await shadow(page, 'select.position').selectOption('0');
  assert.equal(await inEl(page, (el) => el.trace.predict.position), 0);
  env.assertClean(page);
});

test('hovering a cell shows its arithmetic; the keyboard moves a cursor through the grid', async () => {
  const page = await open('#step=scores');
  const grid = shadow(page, 'canvas.grid');
  await grid.scrollIntoViewIfNeeded();
  const box = await grid.boundingBox();
  const at = await inEl(page, (el, root) => root.querySelector('canvas.grid').__cellCenter(1, 0));
  await page.mouse.move(box.x + at.x, box.y + at.y);
  let detail = await inEl(page, (el, root) => root.querySelector('.ae-detail').textContent);
  assert.match(detail, /sum of \d+ products/);
  assert.match(detail, /#1, key .* #0\)/, 'the cell under the pointer is query 1, key 0');
  await shadow(page, '.steplist button[data-step="weights"]').click();
  await shadow(page, 'canvas.grid').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  detail = await inEl(page, (el, root) => root.querySelector('.ae-detail').textContent);
  assert.match(detail, /weight = .+ ÷ .+ = /);
  assert.equal(await inEl(page, (el) => el.step), 'weights', 'arrow keys inside a grid do not change the step');
  await shadow(page, '.steplist button[data-step="tokens"]').click();
  await shadow(page, '.chip >> nth=1').hover();
  assert.equal(await inEl(page, (el, root) => root.querySelector('.chip.hl')?.dataset.tok), '1');
  env.assertClean(page);
});

test('the URL restores the view, follows it, and back/forward work', async () => {
  const page = await open('#text=the%20cat%20sat%20on%20the%20mat&step=scores&layer=1&head=1');
  let r = await inEl(page, (el) => el.state);
  assert.equal(r.text, 'the cat sat on the mat');
  assert.equal(r.step, 'scores');
  const cfg = await inEl(page, (el) => el.model.config);
  assert.equal(r.layer, Math.min(1, cfg.n_layers - 1));
  assert.equal(r.head, Math.min(1, cfg.n_heads - 1));
  await shadow(page, '.steplist button[data-step="weights"]').click();
  await page.waitForFunction(() => location.hash.includes('step=weights'));
  await shadow(page, '.steplist button[data-step="predict"]').click();
  await page.waitForFunction(() => location.hash.includes('step=predict'));
  assert.match(page.url(), /text=the%20cat%20sat%20on%20the%20mat/);
  await page.goBack();
  await page.waitForFunction(() => document.querySelector('attention-explorer').step === 'weights');
  await page.goBack();
  await page.waitForFunction(() => document.querySelector('attention-explorer').step === 'scores');
  await page.goForward();
  await page.waitForFunction(() => document.querySelector('attention-explorer').step === 'weights');
  // typing replaces the history entry instead of adding one per keystroke
  const len = await page.evaluate(() => history.length);
  await shadow(page, 'textarea').fill('a new sentence');
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('a new sentence'));
  assert.equal(await page.evaluate(() => history.length), len);
  // an in-page anchor (the pitch links to #how) leaves the view alone
  await page.evaluate(() => { location.hash = '#how'; });
  await page.waitForTimeout(50);
  assert.equal(await inEl(page, (el) => el.text), 'a new sentence');
  await page.goBack();
  await page.waitForFunction(() => location.hash.includes('step=weights'));
  // a reload restores the exact view
  await page.reload();
  await ready(page);
  r = await inEl(page, (el) => el.state);
  assert.equal(r.text, 'a new sentence');
  assert.equal(r.step, 'weights');
  env.assertClean(page);
});

test('exports: SVG, PNG, CSV and JSON of the current view', async () => {
  const page = await open('#step=weights');
  const get = async (cls) => {
    const [dl] = await Promise.all([page.waitForEvent('download'), shadow(page, `button.${cls}`).click()]);
    const file = await dl.path();
    return { name: dl.suggestedFilename(), body: fs.readFileSync(file) };
  };
  const svg = await get('export-svg');
  assert.match(svg.name, /^attention-weights-.*\.svg$/);
  assert.match(svg.body.toString(), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg.body.toString(), /<rect[^>]*data-cell/);
  const png = await get('export-png');
  assert.deepEqual([...png.body.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  const T = await inEl(page, (el) => el.trace.tokens.length);
  const csv = (await get('export-csv')).body.toString().split('\r\n');
  assert.equal(csv[0], 'weights');
  assert.equal(csv.length, 1 + 1 + T + 1);
  const json = JSON.parse((await get('export-json')).body.toString());
  const w = await inEl(page, (el) => Array.from(el.trace.layers[el.layer].heads[el.head].weights.data.slice(0, 3)));
  assert.equal(json.tables[0].name, 'weights');
  assert.deepEqual(json.tables[0].shape, [T, T]);
  assert.deepEqual(json.tables[0].data[0].slice(0, 3), w);
  env.assertClean(page);
});

test('attributes and properties round-trip, and one change event fires per change', async () => {
  const page = await open();
  const r = await inEl(page, async (el) => {
    const events = [];
    el.addEventListener('attention-explorer:change', (e) => events.push(e.detail));
    el.step = 'keys';
    await new Promise((res) => setTimeout(res, 30));
    el.setAttribute('head', '1');
    el.transpose = true;
    await new Promise((res) => setTimeout(res, 30));
    el.controls = 'minimal';
    await new Promise((res) => setTimeout(res, 30));
    return { attr: el.getAttribute('step'), events: events.map((d) => [d.step, d.head, d.transpose, d.controls]), textarea: !!el.shadowRoot.querySelector('textarea'), nav: !!el.shadowRoot.querySelector('.ae-nav') };
  });
  assert.equal(r.attr, 'keys');
  const heads = await inEl(page, (el) => el.model.config.n_heads);
  assert.deepEqual(r.events, [['keys', 0, false, 'full'], ['keys', Math.min(1, heads - 1), true, 'full'], ['keys', Math.min(1, heads - 1), true, 'minimal']]);
  assert.equal(r.textarea, false, 'minimal controls have no text box');
  assert.equal(r.nav, true, 'minimal controls keep the step navigation');
  env.assertClean(page);
});

test('before wasm loads, or without it, the element is never blank', async () => {
  const page = await env.page('/index.html', { goto: false });
  await page.route('**/*.wasm', (route) => route.abort());
  await page.goto(env.origin + '/index.html');
  await page.waitForFunction(() => document.querySelector('attention-explorer').shadowRoot.querySelector('[role="alert"]'));
  const r = await page.evaluate(() => {
    const el = document.querySelector('attention-explorer');
    const slot = el.shadowRoot.querySelector('slot');
    return { msg: el.shadowRoot.textContent, fallback: slot ? slot.assignedNodes().map((n) => n.textContent).join('') : '' };
  });
  assert.match(r.msg, /could not start/);
  assert.match(r.fallback, /needs JavaScript and WebAssembly/);
  assert.ok(page.problems.some((p) => /wasm/.test(p)), 'the aborted request was seen');
});

test('no horizontal page overflow at 375 px, and dark mode applies', async () => {
  const page = await open('#step=weights', { viewport: { width: 375, height: 800 }, colorScheme: 'dark' });
  for (const id of await modelSteps(page)) {
    await inEl(page, (el, root, id) => { el.step = id; }, id);
    await page.waitForFunction((id) => document.querySelector('attention-explorer').shadowRoot.querySelector(`section[data-step="${id}"]`), id);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 375, `step ${id}: the page is ${w}px wide at 375px`);
  }
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector('attention-explorer')).backgroundColor);
  assert.equal(bg, 'rgb(23, 24, 27)');
  env.assertClean(page);
});

test('accessibility: axe-core finds no serious or critical violations', async () => {
  // Reduced motion: no colour transitions, so the contrast check sees the final colours after a theme switch.
  const page = await open('#step=weights', { reducedMotion: 'reduce' });
  await page.addScriptTag({ path: path.join(ROOT, 'node_modules/axe-core/axe.min.js') });
  const STEPS = await modelSteps(page);
  // Every step at once (show all steps), in the light and the dark theme, and with an ablation on.
  for (const theme of ['light', 'dark']) {
    await inEl(page, async (el, root, th) => { el.theme = th; el.showAll = true; el.options = { scale: false }; await new Promise((r) => setTimeout(r, 30)); }, theme);
    assert.equal(await inEl(page, (el, root) => root.querySelectorAll('.ae-view section').length), STEPS.length);
    const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target.join(' ')}`), [], `theme ${theme}`);
  }
  env.assertClean(page);
});
