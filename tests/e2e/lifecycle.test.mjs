// The custom-element contract (issue 13, item 4) as the best small elements keep it: properties set before
// the element is defined are taken over when it upgrades; whatever connectedCallback subscribes (the
// prefers-color-scheme listener, the engine's model-change listener) disconnectedCallback releases, so 300
// created and removed widgets are all collected (checked with WeakRefs after a forced gc(), Chromium run with
// --js-flags=--expose-gc); styles survive adoptNode into another document and back; and importing the
// class registers nothing (define.js does).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ready } from './helpers.mjs';

let env;
before(async () => { env = await start({ browserArgs: ['--js-flags=--expose-gc'] }); });
after(async () => { await env.close(); });

/** A page of our own (served at /__lifecycle.html, so /engine.js etc. resolve) with `head` and `body`. */
async function pageWith(head, body) {
  const page = await env.page('/', { goto: false });
  await page.route(`${env.origin}/__lifecycle.html`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8',
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>lifecycle</title>${head}</head><body>${body}</body></html>` }));
  await page.goto(`${env.origin}/__lifecycle.html`);
  return page;
}

const MODULE = '<script type="module" src="/attention-explorer.js"></script>';

test('properties set before the element is defined are taken over when it upgrades', async () => {
  const page = await pageWith('', '<attention-explorer id="a"></attention-explorer>');
  const r = await page.evaluate(async () => {
    const a = document.getElementById('a');
    // what a framework does before the module has run: plain properties on an undefined element
    a.text = 'the cat sat on the mat';
    a.options = { causal: false };
    a.step = 'weights';
    a.view = 'lines';
    a.showAll = false;
    await import('/attention-explorer.js');
    await a.ready;
    const own = ['text', 'options', 'step', 'view', 'showAll'].filter((p) => Object.prototype.hasOwnProperty.call(a, p));
    const first = { own, text: a.getAttribute('text'), step: a.getAttribute('step'), causal: a.options.causal, traceCausal: a.trace.options.causal,
      view: a.view, drawn: a.shadowRoot.querySelector('.ae-view section').dataset.step, lines: !!a.shadowRoot.querySelector('svg.lines'),
      tokens: a.trace.tokens.filter((t) => !t.special).map((t) => t.text).join('') };
    a.text = 'x y';
    await new Promise((res) => setTimeout(res, 30));
    return { ...first, after: a.trace.tokens.filter((t) => !t.special).map((t) => t.text).join('') };
  });
  assert.deepEqual(r.own, [], 'no own property shadows an accessor');
  assert.equal(r.text, 'the cat sat on the mat');
  assert.equal(r.tokens, 'the cat sat on the mat');
  assert.equal(r.step, 'weights');
  assert.equal(r.drawn, 'weights');
  assert.equal(r.causal, false);
  assert.equal(r.traceCausal, false, 'the view is computed with the options the page set');
  assert.equal(r.view, 'lines');
  assert.equal(r.lines, true);
  assert.equal(r.after, 'x y', 'a later property change re-renders');
  env.assertClean(page);
});

test('importing the class registers nothing; define.js registers the tag', async () => {
  const page = await pageWith('', '');
  const r = await page.evaluate(async () => {
    const { AttentionExplorer } = await import('/element/explorer.js');
    const before = customElements.get('attention-explorer') ?? null;
    await import('/define.js');
    return { before, after: customElements.get('attention-explorer') === AttentionExplorer };
  });
  assert.equal(r.before, null, 'element/explorer.js has no side effects');
  assert.equal(r.after, true);
  env.assertClean(page);
});

test('300 created and removed widgets are collected; listeners are released and re-taken on reconnect', { timeout: 240000 }, async () => {
  const page = await pageWith(MODULE, '<attention-explorer id="keep" controls="minimal"></attention-explorer>');
  await ready(page, '#keep');
  const r = await page.evaluate(async () => {
    const { loadEngine } = await import('/engine.js');
    const engine = await loadEngine();
    const listenersBefore = engine.listeners.size;
    window.__refs = [];
    for (let i = 0; i < 300; i++) {
      const el = document.createElement('attention-explorer');
      el.setAttribute('text', `cycle ${i} of the soak`);
      el.setAttribute('step', ['weights', 'embed', 'update', 'predict', 'tokens'][i % 5]);
      if (i % 3 === 1) el.setAttribute('controls', 'minimal');
      document.body.append(el);
      if (i % 10 !== 9) await el.ready; // every 10th is removed before it has rendered
      el.remove();
      window.__refs.push(new WeakRef(el));
      if (i % 25 === 24) await new Promise((res) => setTimeout(res, 0));
    }
    // One element removed and put back: it listens again, exactly once.
    const keep = document.getElementById('keep');
    keep.remove();
    const whileOut = engine.listeners.size;
    document.body.append(keep);
    await new Promise((res) => setTimeout(res, 30));
    return { listenersBefore, listenersAfter: engine.listeners.size, whileOut };
  });
  const alive = await page.evaluate(async () => {
    for (let i = 0; i < 6; i++) {
      globalThis.gc();
      await new Promise((res) => setTimeout(res, 50));
    }
    return window.__refs.filter((ref) => ref.deref() !== undefined).length;
  });
  assert.equal(alive, 0, `${alive} of 300 removed widgets are still alive after gc()`);
  assert.equal(r.listenersAfter, r.listenersBefore, `model-change listeners: ${r.listenersBefore} before the cycles, ${r.listenersAfter} after`);
  assert.equal(r.whileOut, r.listenersBefore - 1, 'a removed widget stops listening for model changes');
  // The widget that was put back still follows a change of model (it re-subscribed).
  const rebuilt = await page.evaluate(async () => {
    const { reset } = await import('/engine.js');
    const keep = document.getElementById('keep');
    const frame = keep.shadowRoot.querySelector('.ae');
    await reset();
    await new Promise((res) => setTimeout(res, 30));
    return keep.shadowRoot.querySelector('.ae') !== frame;
  });
  assert.equal(rebuilt, true, 'the reconnected widget rebuilt for the new model');
  env.assertClean(page);
});

test('styles survive adoptNode into another document and back, and apply inside an iframe', async () => {
  const page = await pageWith(MODULE, '<attention-explorer id="a" step="weights" height="420"></attention-explorer><iframe id="f"></iframe>');
  await ready(page, '#a');
  const r = await page.evaluate(async () => {
    const tick = () => new Promise((res) => setTimeout(res, 30));
    let a = document.getElementById('a');
    const look = (el) => ({ sheets: el.shadowRoot.adoptedStyleSheets.length, display: getComputedStyle(el.shadowRoot.querySelector('.ae')).display,
      height: Math.round(el.getBoundingClientRect().height) });
    const start = look(a);
    // into a document without a window, and back
    const inert = document.implementation.createHTMLDocument('elsewhere');
    inert.body.append(inert.adoptNode(a));
    document.body.prepend(document.adoptNode(a));
    await tick();
    const back = look(a);
    // into a same-origin iframe's document: styled there, with that document's sheet
    const frame = document.getElementById('f').contentDocument;
    frame.body.append(frame.adoptNode(a));
    await tick();
    const inFrame = { sheets: a.shadowRoot.adoptedStyleSheets.length, display: frame.defaultView.getComputedStyle(a.shadowRoot.querySelector('.ae')).display,
      sameSheet: a.shadowRoot.adoptedStyleSheets[0] === undefined ? null : a.shadowRoot.adoptedStyleSheets[0].constructor === frame.defaultView.CSSStyleSheet };
    document.body.prepend(document.adoptNode(a));
    await tick();
    a.step = 'scores';
    await tick();
    return { start, back, inFrame, home: look(a), drawn: a.shadowRoot.querySelector('.ae-view section').dataset.step };
  });
  assert.deepEqual({ sheets: r.start.sheets, display: r.start.display }, { sheets: 2, display: 'flex' });
  assert.ok(r.start.height >= 420, `height="420" applies (${r.start.height} px with the border)`);
  assert.deepEqual(r.back, r.start, 'after a trip through another document');
  assert.deepEqual(r.inFrame, { sheets: 2, display: 'flex', sameSheet: true });
  assert.deepEqual(r.home, r.start, 'after a trip through an iframe');
  assert.equal(r.drawn, 'scores', 'still renders');
  env.assertClean(page);
});
