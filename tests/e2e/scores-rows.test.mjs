// Scores that cannot mislead (issue 11): scores, scaled and masked colour each row by its distance below the
// row's own max (printed beside the grid), each grid has its own scale, the text says softmax ignores what a
// row adds to every entry, and "queries as columns" says columns and prints one Σ per column.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ready } from './helpers.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

/** In the page: for the element's current step, what the exported grid shows against the trace. */
function gridFacts() {
  const el = document.querySelector('attention-explorer');
  const head = el.trace.layers[el.layer].heads[el.head];
  const m = head[el.step];
  const T = m.shape[0];
  const svg = el.viewSvg();
  const fill = (q, k) => svg.querySelector(`rect[data-cell="${q},${k}"]`).getAttribute('fill');
  const rows = [];
  for (let q = 0; q < T; q++) {
    const row = Array.from(m.data.subarray(q * T, (q + 1) * T));
    let best = 0, worst = 0;
    row.forEach((v, k) => { if (v > row[best]) best = k; if (Number.isFinite(v) && v < row[worst]) worst = k; });
    rows.push({ max: row[best], best, worst, bestFill: fill(q, best), worstFill: fill(q, worst), finite: row.filter(Number.isFinite).length });
  }
  const sums = [...svg.querySelectorAll('text.num.sum')].map((t) => ({ text: t.textContent, x: Number(t.getAttribute('x')), y: Number(t.getAttribute('y')) }));
  const legend = el.shadowRoot.querySelector(`section[data-step="${el.step}"] figcaption svg.legend`).getAttribute('aria-label');
  const explain = el.shadowRoot.querySelector(`section[data-step="${el.step}"] .explain`).textContent;
  return { rows, sums, legend, explain, T };
}

const fmt = (v) => { const a = Math.abs(v); const t = a.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2); return (v < 0 && Number(t) !== 0 ? '−' : '') + t; };

test('scores, scaled and masked: each row is coloured relative to its own max, which is printed beside it', async () => {
  const page = await env.page('/index.html#step=scores&layer=1&head=1');
  await ready(page);
  const cfg = await page.evaluate(() => document.querySelector('attention-explorer').model.config);
  const spans = {};
  for (const step of ['scores', 'scaled', 'masked']) {
    await page.evaluate((s) => { document.querySelector('attention-explorer').step = s; }, step);
    await page.waitForFunction((s) => document.querySelector('attention-explorer').shadowRoot.querySelector(`section[data-step="${s}"]`), step);
    const f = await page.evaluate(gridFacts);
    // every row's largest entry has the same (brightest) colour, whatever the row's offset
    const top = new Set(f.rows.map((r) => r.bestFill));
    assert.equal(top.size, 1, `${step}: the largest entry of each row is drawn in one colour, found ${[...top].join(', ')}`);
    // a row with more than one visible entry has a darker smallest one
    for (const [q, r] of f.rows.entries()) if (r.finite > 1 && r.max !== f.rows[q].worst) assert.notEqual(r.worstFill, r.bestFill, `${step} row ${q}`);
    // the printed side numbers are each row's max
    assert.deepEqual(f.sums.map((s) => s.text), f.rows.map((r) => fmt(r.max)), `${step}: the row max column`);
    assert.match(f.explain, /softmax ignores anything a row adds to every one of its entries|only how far each score lies below|exactly what the softmax uses|all the softmax will see/, `${step}: the text says only differences within a row matter`);
    const lo = Number(/from (−?[\d.]+)/.exec(f.legend)[1].replace('−', '-'));
    spans[step] = lo;
    assert.ok(lo < 0, `${step}: the legend runs from a negative distance to 0 (${f.legend})`);
  }
  // its own scale: the scaled grid's range is the scores' divided by √d_head, not the scores' range
  const ratio = spans.scores / spans.scaled;
  assert.ok(Math.abs(ratio - Math.sqrt(cfg.d_head)) < 0.05 * Math.sqrt(cfg.d_head), `scores span ${spans.scores}, scaled span ${spans.scaled}: expected a ratio of √${cfg.d_head}`);
  env.assertClean(page);
});

test('queries as columns: the text says columns and the Σ of each column is printed under its own column', async () => {
  const page = await env.page('/index.html#step=weights&layer=1&head=1');
  await ready(page);
  await page.evaluate(() => { document.querySelector('attention-explorer').transpose = true; });
  await page.waitForFunction(() => document.querySelector('attention-explorer').shadowRoot.querySelector('section .explain')?.textContent.includes('column'));
  const f = await page.evaluate(gridFacts);
  assert.match(f.explain, /Each column now adds up to 1/);
  assert.match(f.explain, /one column per query token/);
  assert.doesNotMatch(f.explain, /each row of masked scores/);
  assert.equal(f.sums.length, f.T);
  assert.equal(new Set(f.sums.map((s) => s.x)).size, f.T, `one Σ per column, at distinct places: ${JSON.stringify(f.sums)}`);
  assert.equal(new Set(f.sums.map((s) => s.y)).size, 1, 'the sums form one row');
  assert.ok(f.sums.every((s) => s.text === '1.00'), 'every column sums to 1');
  env.assertClean(page);
});
