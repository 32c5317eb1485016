// Load and memory: 5,000 analyses of random sentences in one page through a full widget (every step in
// turn), then 20 widgets on one page. After a warm-up, the wasm memory must stay within a fixed bound,
// the DOM node and event-listener counts (Chromium's Memory.getDOMCounters after a forced GC) must not
// grow, the JS heap must stay bounded, and the last 500 analyses must run within 1.5× the median time of
// the first 500. The figures are printed for the report.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ready } from './helpers.mjs';

const N = Number(process.env.MEMORY_ANALYSES ?? 5000);
const WARMUP = 500;
const WASM_GROWTH_BOUND = 2 << 20; // bytes the wasm memory may still grow after the warm-up
const HEAP_GROWTH_BOUND = 8 << 20; // bytes of JS heap after GC
const NODE_GROWTH_BOUND = 200; // DOM nodes per widget of the 20 (one view re-rendered differs in size from another)
const SAME_VIEW_NODE_BOUND = 20; // DOM nodes, one widget measured on the same view each time (measured: 0)

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

async function widgetPage(body) {
  const page = await env.page('/', { goto: false });
  await page.route(`${env.origin}/__memory.html`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8',
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>memory</title><script type="module" src="/attention-explorer.js"></script></head><body>${body}</body></html>` }));
  await page.goto(`${env.origin}/__memory.html`);
  return page;
}

/** DOM counters and JS heap after a full garbage collection, plus the wasm memory size. With `selector`,
 * that widget first shows one fixed sentence on one fixed step, so that two measurements compare the
 * same view (views differ in size by step and by sentence length) and only what was left behind counts. */
async function measure(page, cdp, selector) {
  if (selector) {
    await page.evaluate(async (sel) => {
      const el = document.querySelector(sel);
      el.setAttribute('step', 'weights');
      el.text = 'the same sentence for every measurement';
      await new Promise((r) => setTimeout(() => requestAnimationFrame(() => r()), 0));
    }, selector);
  }
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const dom = await cdp.send('Memory.getDOMCounters');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const wasm = await page.evaluate(async () => (await (await import('/pkg/attention_explorer.js')).default()).memory.buffer.byteLength);
  return { nodes: dom.nodes, listeners: dom.jsEventListeners, documents: dom.documents, heap: heap.usedSize, wasm };
}

/** In the page: `count` analyses of seeded random sentences, cycling through the steps; per-analysis ms. */
function run([selector, from, count]) {
  const WORDS = ('the a an of to in on and but cat dog river bank money account forest creature fluffy blue verdant roamed sat ' +
    'watched water paid she he they we said hello Mr Dursley quick brown fox jumps over lazy 1 2 3 42 2024 ! ? , . é 猫 🙂 שלום').split(' ');
  const el = document.querySelector(selector);
  const steps = el.steps;
  // most analyses on the light views, every 10th on each step in turn (the heavy ones: embed, update)
  const CHEAP = ['tokens', 'masked', 'weights', 'values', 'predict'].filter((x) => steps.includes(x));
  let seed = 0x9e3779b9 ^ from;
  const rand = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 4294967296; };
  const times = [];
  return (async () => {
    for (let i = from; i < from + count; i++) {
      const n = 1 + Math.floor(rand() * 16);
      const s = Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ') + ` ${i}`;
      const t0 = performance.now();
      el.setAttribute('step', i % 10 === 9 ? steps[Math.floor(i / 10) % steps.length] : CHEAP[i % CHEAP.length]);
      el.text = s;
      await Promise.resolve(); // the element renders in a microtask
      await Promise.resolve();
      times.push(performance.now() - t0);
      if (!el.trace || el.trace.tokens.length === 0) throw new Error(`analysis ${i} of “${s}” gave no trace`);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 0)); // let the page breathe (events, GC)
    }
    return times;
  })();
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

test(`${N} analyses of random sentences in one page: bounded memory, no DOM growth, no slow-down`, { timeout: 420000 }, async () => {
  const page = await widgetPage('<attention-explorer id="w" controls="full"></attention-explorer>');
  await ready(page, '#w');
  const cdp = await page.context().newCDPSession(page);
  const t0 = Date.now();
  const first = await page.evaluate(run, ['#w', 0, WARMUP]);
  const warm = await measure(page, cdp, '#w');
  const rest = [];
  for (let i = WARMUP; i < N; i += 500) rest.push(...await page.evaluate(run, ['#w', i, Math.min(500, N - i)]));
  const end = await measure(page, cdp, '#w');
  const last = rest.slice(-500);
  const figures = { analyses: N, seconds: (Date.now() - t0) / 1000, first500_median_ms: median(first), last500_median_ms: median(last), warm, end };
  console.log(`# memory: ${JSON.stringify(figures)}`);
  assert.equal(first.length + rest.length, N);
  assert.ok(end.wasm - warm.wasm <= WASM_GROWTH_BOUND, `wasm memory grew ${end.wasm - warm.wasm} bytes after the warm-up (${warm.wasm} → ${end.wasm})`);
  assert.ok(end.nodes - warm.nodes <= SAME_VIEW_NODE_BOUND, `DOM nodes grew ${warm.nodes} → ${end.nodes} on the same view`);
  assert.ok(end.listeners - warm.listeners <= SAME_VIEW_NODE_BOUND, `event listeners grew ${warm.listeners} → ${end.listeners}`);
  assert.ok(end.heap - warm.heap <= HEAP_GROWTH_BOUND, `JS heap grew ${warm.heap} → ${end.heap}`);
  if (median(last) > 1.5 * median(first) + 0.2) {
    // the machine may be busier now than at the start: the same first 500 in a fresh page is the control
    const fresh = await widgetPage('<attention-explorer id="w" controls="full"></attention-explorer>');
    await ready(fresh, '#w');
    const control = await fresh.evaluate(run, ['#w', 0, WARMUP]);
    console.log(`# memory: slower end; control (first 500 again, fresh page) median ${median(control).toFixed(2)} ms`);
    assert.ok(median(last) <= 1.5 * median(control) + 0.2,
      `slow-down: first 500 median ${median(first).toFixed(2)} ms, last 500 ${median(last).toFixed(2)} ms, the first 500 again in a fresh page ${median(control).toFixed(2)} ms`);
  }
  env.assertClean(page);
});

test('20 widgets on one page: all render, share one engine, stay independent, bounded memory', { timeout: 240000 }, async () => {
  const STEPS = ['tokens', 'embed', 'queries', 'keys', 'scores', 'scaled', 'masked', 'weights', 'values', 'mix', 'delta', 'update', 'predict'];
  const body = Array.from({ length: 20 }, (_, i) => `<attention-explorer id="w${i}" controls="${['full', 'minimal', 'none'][i % 3]}" step="${STEPS[i % STEPS.length]}" text="widget ${i} river bank"></attention-explorer>`).join('\n');
  const page = await widgetPage(body);
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) await ready(page, `#w${i}`);
  const renderAll = Date.now() - t0;
  const r = await page.evaluate(() => {
    const els = [...document.querySelectorAll('attention-explorer')];
    return {
      sameEngine: els.every((e) => e._engine === els[0]._engine),
      texts: els.map((e) => e.trace.tokens.filter((t) => !t.special).map((t) => t.text).join('')),
      steps: els.map((e) => e.shadowRoot.querySelector('.ae-view section').dataset.step),
    };
  });
  assert.equal(r.sameEngine, true, 'every widget uses the one loaded engine');
  r.texts.forEach((t, i) => assert.equal(t, `widget ${i} river bank`));
  r.steps.forEach((s, i) => assert.equal(s, STEPS[i % STEPS.length]));
  // one widget changes; the others do not
  const others = await page.evaluate(async () => {
    const els = [...document.querySelectorAll('attention-explorer')];
    const before = els.map((e) => e.trace);
    els[7].text = 'only this one changes';
    els[7].step = 'predict';
    await new Promise((res) => setTimeout(res, 0));
    return els.map((e, i) => (i === 7 ? e.trace.tokens.filter((t) => !t.special).map((t) => t.text).join('') : e.trace === before[i]));
  });
  assert.equal(others[7], 'only this one changes');
  assert.ok(others.every((x, i) => i === 7 || x === true), 'changing one widget re-analysed another');
  const cdp = await page.context().newCDPSession(page);
  const round = (k) => page.evaluate(async (k) => {
    const els = [...document.querySelectorAll('attention-explorer')];
    for (let j = 0; j < 8; j++) {
      els.forEach((e, i) => { e.text = `round ${k}.${j} widget ${i} the cat sat on the mat`; });
      await new Promise((res) => setTimeout(res, 0));
    }
  }, k);
  await round(0);
  const warm = await measure(page, cdp);
  for (let k = 1; k <= 3; k++) await round(k);
  const end = await measure(page, cdp);
  console.log(`# 20 widgets: ${JSON.stringify({ first_render_all_ms: renderAll, warm, end })}`);
  assert.ok(end.wasm - warm.wasm <= WASM_GROWTH_BOUND, `wasm memory grew ${warm.wasm} → ${end.wasm}`);
  assert.ok(end.nodes - warm.nodes <= 20 * NODE_GROWTH_BOUND, `DOM nodes grew ${warm.nodes} → ${end.nodes}`);
  assert.ok(end.heap - warm.heap <= HEAP_GROWTH_BOUND, `JS heap grew ${warm.heap} → ${end.heap}`);
  env.assertClean(page);
});
