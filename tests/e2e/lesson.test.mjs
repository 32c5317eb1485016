// The lesson's other parts (issue 11): compare mode, the highlight / caption / mode / stop attributes for
// embedding one observation, the glossary at each word's first use, the layout (the attention figure high on
// the first screen at 1280×800 and 375×800), "Embed this view", and axe on the tour and compare views.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, ready, ROOT } from './helpers.mjs';

const AXE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
let env;
before(async () => { env = await start({ viewport: { width: 1280, height: 800 } }); });
after(async () => { await env.close(); });

const inEl = (page, fn, arg) => page.evaluate(([src, a]) => {
  const el = document.querySelector('attention-explorer');
  return new Function('el', 'root', 'arg', `return (${src})(el, root, arg);`)(el, el.shadowRoot, a);
}, [fn.toString(), arg]);
const settle = (page) => page.evaluate(() => new Promise((r) => setTimeout(() => requestAnimationFrame(() => r()), 30)));
const fmt = (v, digits) => { const a = Math.abs(v), d = digits ?? (a >= 100 ? 0 : a >= 10 ? 1 : 2), t = a.toFixed(d); return (v < 0 && Number(t) !== 0 ? '−' : '') + t; };

test('compare mode: one token in two sentences, its attention rows, one projection, nearest tokens, the cosine after each sub-step', async () => {
  const page = await env.page('/index.html#mode=compare&text=we%20sat%20on%20the%20river%20bank%20and%20watched%20the%20water&compare=she%20paid%20the%20money%20into%20her%20bank%20account');
  await ready(page);
  await page.waitForFunction(() => document.querySelector('attention-explorer').shadowRoot.querySelector('section.compare table.cosines'));
  const r = await inEl(page, async (el, root) => {
    const { loadEngine } = await import('/engine.js');
    const engine = await loadEngine();
    const a = el.trace, b = engine.analyze(el.compare, { neighbours: true });
    const i = a.tokens.findIndex((t) => t.text === ' bank'), j = b.tokens.findIndex((t) => t.text === ' bank');
    const D = a.config.d_model;
    const cos = (x, y) => { let xy = 0, xx = 0, yy = 0; for (let d = 0; d < D; d++) { const p = x.data[i * D + d], q = y.data[j * D + d]; xy += p * q; xx += p * p; yy += q * q; } return xy / Math.sqrt(xx * yy); };
    const want = [cos(a.embeddings, b.embeddings)];
    a.layers.forEach((l, n) => want.push(cos(l.updated, b.layers[n].updated), cos(l.output, b.layers[n].output)));
    const sec = root.querySelector('section.compare');
    const rows = [...sec.querySelectorAll('table.cosines tbody tr td:nth-child(2)')].map((td) => td.textContent);
    const hd = a.layers[el.layer].heads[el.head];
    const T = a.tokens.length;
    const top = Array.from({ length: i + 1 }, (_, k) => k).sort((x, y) => hd.weights.data[i * T + y] - hd.weights.data[i * T + x]).slice(0, 5).map((k) => hd.weights.data[i * T + k]);
    const bars = [...sec.querySelectorAll('.compare-col.path-a svg.row-bars text.num-out')].map((t) => t.textContent);
    const paths = sec.querySelectorAll('svg.map.paths line.path-a').length + sec.querySelectorAll('svg.map.paths line.path-b').length;
    const near = [...sec.querySelectorAll('table.neighbours tbody td')].map((td) => td.textContent);
    const options = [...root.querySelectorAll('select.compare-token option')].map((o) => o.textContent);
    return { i, j, want, rows, top, bars, paths, layers: a.layers.length, near, nb: [a.neighbours.before[i][0], b.neighbours.before[j][0]], options, heading: sec.querySelector('h2').textContent, mode: el.mode };
  });
  assert.equal(r.mode, 'compare');
  assert.equal(r.heading, 'Compare: ‘bank’ in two sentences', 'the shared token with the longest text is compared by default');
  assert.deepEqual(r.rows, r.want.map((v) => fmt(v, 3)), 'one cosine per sub-step, computed from the two traces');
  assert.equal(r.rows.length, 1 + 2 * r.layers);
  assert.deepEqual(r.bars, r.top.map((v) => fmt(v)), 'the five largest weights of the token in the focused head');
  assert.equal(r.paths, 2 * 2 * r.layers, 'both tokens walk E → E + ΔE → E′ through every layer on one map');
  assert.ok(r.near[0].startsWith(`‘${r.nb[0].text}’ ${fmt(r.nb[0].similarity)}`) && r.near[1].startsWith(`‘${r.nb[1].text}’`), 'nearest tokens from the traces');
  assert.ok(r.options.some((o) => o.startsWith('‘the’')) && r.options.some((o) => o.startsWith('‘bank’')), `shared tokens offered: ${r.options}`);
  // another shared token, by the picker
  await page.locator('attention-explorer >> select.compare-token').selectOption({ label: r.options.find((o) => o.startsWith('‘the’')) });
  await page.waitForFunction(() => document.querySelector('attention-explorer').shadowRoot.querySelector('section.compare h2').textContent.includes('‘the’'));
  assert.match(await page.evaluate(() => location.hash), /mode=compare/);
  env.assertClean(page);
});

test('attributes: highlight marks a cell, caption shows a note, mode="tour" stop="N" with no controls shows the answer', async () => {
  const page = await env.page('/index.html#step=weights');
  await ready(page);
  const r = await page.evaluate(async () => {
    const mk = (attrs) => { const el = document.createElement('attention-explorer'); for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v); document.body.append(el); return el; };
    const a = mk({ text: 'a fluffy blue creature roamed the verdant forest', step: 'weights', layer: '1', head: '1', highlight: 'forest→verdant', caption: 'Look at this cell.', controls: 'none' });
    const b = mk({ mode: 'tour', stop: '5', controls: 'none' });
    await a.ready; await b.ready;
    await new Promise((res) => setTimeout(res, 100));
    const grid = a.shadowRoot.querySelector('canvas.grid');
    const T = a.trace.tokens.length;
    return {
      mark: grid.__grid.mark, forest: a.trace.tokens.findIndex((t) => t.text === ' forest'), verdant: a.trace.tokens.findIndex((t) => t.text === ' verdant'), T,
      callout: a.shadowRoot.querySelector('.ae-callout')?.textContent,
      tour: { mode: b.mode, stop: b.stop, revealed: b.revealed, callout: b.shadowRoot.querySelector('.ae-callout')?.textContent, caption: b.lesson?.caption,
        panel: Boolean(b.shadowRoot.querySelector('.ae-tour')), inert: Boolean(b.shadowRoot.querySelector('.ae-view section > :last-child').inert),
        mark: b.shadowRoot.querySelector('canvas.grid')?.__grid.mark, lessonMark: b.lesson?.mark },
    };
  });
  assert.deepEqual(r.mark, { q: r.forest, k: r.verdant }, 'highlight="forest→verdant" marks that cell');
  assert.equal(r.callout, 'Look at this cell.');
  assert.equal(r.tour.mode, 'tour');
  assert.equal(r.tour.stop, 5);
  assert.ok(r.tour.revealed && !r.tour.inert, 'without controls to guess with, the answer is shown');
  assert.equal(r.tour.callout, r.tour.caption, 'the stop’s live caption is the note');
  assert.equal(r.tour.panel, false);
  assert.deepEqual(r.tour.mark, r.tour.lessonMark);
  env.assertClean(page);
});

test('glossary: each word’s first use opens its definition by pointer and keyboard; the full list is in the footer', async () => {
  const page = await env.page('/index.html#step=tokens');
  await ready(page);
  await inEl(page, (el) => { el.showAll = true; });
  await settle(page);
  const found = await inEl(page, (el, root) => [...root.querySelectorAll('.ae-view button.term')].map((b) => b.dataset.term));
  const terms = await inEl(page, (el, root) => [...root.querySelectorAll('.ae-glossary dt')].map((d) => d.textContent));
  assert.deepEqual(terms, ['layer norm', 'residual', 'logits', 'W_O', 'd_head', 'principal component', 'cosine similarity', 'ablation']);
  for (const t of ['layer-norm', 'residual', 'logits', 'w-o', 'd-head', 'cosine', 'ablation']) assert.equal(found.filter((x) => x === t).length, 1, `${t}: explained once, at its first use (${found})`);
  // keyboard: Tab to it, Enter opens, Escape closes
  const btn = page.locator('attention-explorer >> .ae-view button.term[data-term="d-head"]');
  await btn.focus();
  await page.keyboard.press('Enter');
  const open = await inEl(page, (el, root) => { const b = root.querySelector('.ae-view button.term[data-term="d-head"]'); const box = root.getElementById(b.getAttribute('aria-controls')); return [b.getAttribute('aria-expanded'), box.hidden, box.textContent]; });
  assert.deepEqual(open.slice(0, 2), ['true', false]);
  assert.match(open[2], /^d_head: How many numbers one head’s queries, keys and values have/);
  await page.keyboard.press('Escape');
  assert.equal(await inEl(page, (el, root) => root.querySelector('.ae-view button.term[data-term="d-head"]').getAttribute('aria-expanded')), 'false');
  // pointer
  await page.locator('attention-explorer >> .ae-view button.term[data-term="logits"]').click();
  assert.equal(await inEl(page, (el, root) => root.querySelector('.ae-view button.term[data-term="logits"]').getAttribute('aria-expanded')), 'true');
  // principal component: first used in the compare view's text
  await inEl(page, (el) => { el.showAll = false; el.mode = 'compare'; });
  await settle(page);
  assert.ok(await inEl(page, (el, root) => Boolean(root.querySelector('.ae-view button.term[data-term="principal-component"]'))));
  env.assertClean(page);
});

for (const [w, limit] of [[1280, 400], [375, 600]]) {
  test(`layout at ${w}×800: the weights figure starts at most ${limit} px down; a wide grid scrolls in its box with a cue`, async () => {
    const page = await env.page('/index.html#step=weights&layer=1&head=1', { viewport: { width: w, height: 800 } });
    await ready(page);
    await settle(page);
    const r = await inEl(page, (el, root) => {
      const fig = root.querySelector('.ae-view section figure');
      const box = fig.querySelector('.scroll');
      return { top: fig.getBoundingClientRect().top + scrollY, wide: box.scrollWidth > box.clientWidth, cue: fig.querySelector('.scroll-wrap').classList.contains('more-right'), page: document.documentElement.scrollWidth };
    });
    assert.ok(r.top <= limit, `the figure starts at ${Math.round(r.top)} px`);
    assert.ok(r.page <= w, `the page does not scroll sideways (${r.page} px)`);
    if (r.wide) assert.ok(r.cue, 'a grid wider than its box shows the scroll cue');
    if (w === 375) {
      // the long example's grid is wider than the phone: it scrolls in its box, with the cue
      await inEl(page, (el) => { el.text = 'Mr Dursley said hello. Mr Dursley said'; });
      await settle(page);
      const s = await inEl(page, (el, root) => { const f = root.querySelector('.ae-view section figure'); const b = f.querySelector('.scroll'); return [b.scrollWidth > b.clientWidth, f.querySelector('.scroll-wrap').classList.contains('more-right')]; });
      assert.deepEqual(s, [true, true]);
      // the folded controls open
      await page.locator('attention-explorer >> button.more-tools').click();
      assert.ok(await page.locator('attention-explorer >> input.opt-scale').isVisible(), 'More controls shows the ablations');
    }
    console.log(`# layout ${w}: figure at ${Math.round(r.top)} px`);
    env.assertClean(page);
  });
}

test('embed this view: the tag and the iframe for exactly this view, a copy button, and the observation of a tour stop', async () => {
  const page = await env.page('/index.html#step=scores&layer=1&head=2');
  await ready(page);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.origin });
  await inEl(page, (el) => { el.transpose = true; el.text = 'we sat on the river bank'; });
  await page.locator('attention-explorer >> button.embed-toggle').click();
  await settle(page);
  const tag = await page.locator('attention-explorer >> textarea.embed-tag').inputValue();
  assert.match(tag, /<attention-explorer text="we sat on the river bank" step="scores" layer="1" head="2" transpose><\/attention-explorer>/);
  assert.match(tag, /<script type="module" src="http:\/\/127\.0\.0\.1:\d+\/attention-explorer\.js"><\/script>/);
  const frame = await page.locator('attention-explorer >> textarea.embed-iframe').inputValue();
  const src = /src="([^"]+)"/.exec(frame)[1].replace(/&amp;/g, '&');
  // the iframe's URL opens the same view
  const p2 = await env.page(new URL(src).pathname + new URL(src).search);
  await ready(p2);
  assert.deepEqual(await inEl(p2, (el) => [el.text, el.step, el.layer, el.head, el.transpose]), ['we sat on the river bank', 'scores', 1, 2, true]);
  await page.locator('attention-explorer >> button.embed-tag-copy').click();
  await page.waitForFunction(() => document.querySelector('attention-explorer').shadowRoot.querySelector('.embed-status').textContent.startsWith('Copied'));
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), tag);
  // a revealed tour stop: the stop, and the observation alone (highlight + caption, no controls)
  await page.evaluate(() => { location.hash = 'tour=4'; });
  await page.waitForFunction(() => document.querySelector('attention-explorer').lesson?.question);
  await page.locator('attention-explorer >> .tour-choice').first().click();
  await settle(page);
  const tour = await page.locator('attention-explorer >> textarea.embed-tag').inputValue();
  assert.match(tour, / mode="tour" stop="4" /);
  const one = await page.locator('attention-explorer >> textarea.embed-observation').inputValue();
  const want = await inEl(page, (el) => ({ caption: el.lesson.caption, q: el.lesson.mark.q, k: el.lesson.mark.k, words: el.trace.tokens.map((t) => t.text.trim()) }));
  assert.ok(one.includes(`highlight="${want.words[want.q]}→${want.words[want.k]}"`), one);
  assert.ok(one.includes(`caption="${want.caption.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`));
  assert.match(one, /controls="none"/);
  env.assertClean(page);
  env.assertClean(p2);
});

test('axe: the tour (before and after the answer) and compare mode, light and dark, 1280 and 375 px', async () => {
  const page = await env.page('/index.html#tour=6');
  await ready(page);
  const run = async (label) => {
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
    const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' > ')).join(' | ')}`);
    assert.deepEqual(bad, [], label);
  };
  for (const [name, fn] of [['tour, before', () => {}], ['tour, after', async () => { await page.locator('attention-explorer >> .tour-choice').first().click(); }],
    ['compare', async () => { await inEl(page, (el) => { el.mode = 'compare'; }); }]]) {
    await fn();
    for (const [w, scheme] of [[1280, 'light'], [1280, 'dark'], [375, 'light'], [375, 'dark']]) {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      await page.setViewportSize({ width: w, height: 800 });
      await settle(page);
      await page.waitForTimeout(150);
      await run(`${name}, ${scheme}, ${w} px`);
    }
  }
  env.assertClean(page);
});
