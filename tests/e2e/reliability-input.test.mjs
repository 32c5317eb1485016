// Bad input through the real page (www/index.html) and through the bare widget: empty text, spaces, one
// character, 10,000 characters, 1 MB pasted, emoji and ZWJ sequences, RTL scripts, combining marks, NUL
// and other control characters, lone surrogates from JavaScript, and HTML/script text in the text box, in
// attributes and in the URL hash. Each must give a correct analysis (tokens that cover the text, rows
// of weights summing to 1, finite probabilities) or a clear message, with no page error, no console
// error, no injected element and no script run; and the widget must analyse a normal sentence afterwards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ready } from './helpers.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

const PAYLOADS = [
  '<img src=x onerror="window.__pwned=1">',
  '</script><script>window.__pwned=2</script>',
  'javascript:window.__pwned=3',
  '<svg onload="window.__pwned=4"><a href="javascript:window.__pwned=5">x</a></svg>',
  '"><img src=x onerror=window.__pwned=6>\'><iframe srcdoc="<script>parent.__pwned=7</script>">',
  '{{constructor.constructor("window.__pwned=8")()}} ${window.__pwned=9} <style>*{display:none}</style>',
];

/** Every input: `text`, or `units` (UTF-16 code units built in the page, for lone surrogates). */
const INPUTS = [
  { name: 'empty', text: '' },
  { name: 'only spaces', text: '      ' },
  { name: 'tabs and newlines only', text: '\t\n \r\n\t' },
  { name: 'one character', text: 'a' },
  { name: 'one multi-byte character', text: 'é' },
  { name: '10,000 characters', text: Array.from({ length: 1700 }, (_, i) => ['the', 'cat', 'sat', 'on', 'a', 'mat'][i % 6]).join(' ').padEnd(10000, 'x').slice(0, 10000) },
  { name: 'emoji and ZWJ sequences', text: 'family 👩‍👩‍👧‍👦 flag 🏳️‍🌈 thumbs 👍🏽 keycap 1️⃣ 🇬🇧' },
  { name: 'Arabic', text: 'مرحبا بالعالم، كيف حالك؟' },
  { name: 'Hebrew with Latin (bidi)', text: 'שלום world עולם 123' },
  { name: 'combining marks', text: 'e\u0301 n\u0303 Z\u0324\u0308\u0342 a\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307' },
  { name: 'NUL and control characters', text: 'a\u0000b\u0001c\u0007\u0008\u000b\u000c\u001b[31mred\u007f\u0085\u200b\u200e\u202e\u2066\ufeff\ufffe' },
  { name: 'lone high surrogate', units: [0x61, 0xd800, 0x62] },
  { name: 'lone low surrogate at the end', units: [0x78, 0x79, 0xdfff] },
  { name: 'reversed surrogate pair', units: [0xdc00, 0xd800, 0x41] },
  { name: 'special token text', text: '<|endoftext|><|endoftext|>hello<|endoftext|' },
  ...PAYLOADS.map((text, i) => ({ name: `markup ${i + 1}`, text })),
];

const NORMAL = 'the cat sat on the mat';

/**
 * Runs in the page: the element's state after `text` was given, checked against the engine. Returns a
 * list of problems (empty when all is well) and what was shown.
 */
function inspect([selector, want]) {
  const el = document.querySelector(selector);
  const root = el.shadowRoot;
  const problems = [];
  const text = want.toWellFormed();
  const t = el.trace;
  const alert = root.querySelector('.ae-view [role="alert"]');
  if (text === '') {
    if (t) problems.push('an empty text produced a trace');
    if (!alert || !/Nothing to show: .*type at least one character/.test(alert.textContent)) problems.push(`no clear message for the empty text: ${alert?.textContent}`);
  } else if (!t) {
    problems.push(`no analysis; message: ${alert?.textContent ?? '(none)'}`);
  } else {
    const c = t.config;
    const T = t.tokens.length;
    const total = el._engine.countTokens(el.text);
    if (t.total_tokens !== total) problems.push(`total_tokens ${t.total_tokens}, countTokens ${total}`);
    if (T !== Math.min(total, c.context) || t.dropped_tokens !== total - T) problems.push(`T ${T}, dropped ${t.dropped_tokens}, total ${total}, context ${c.context}`);
    // spans: in order, no gaps, ending at the text's end (and starting at 0 when nothing is dropped)
    let prev = t.dropped_tokens ? [t.tokens[0].start, t.tokens[0].start] : [0, 0];
    let joined = '';
    for (const tok of t.tokens) {
      if (!(tok.start >= prev[0] && tok.end >= prev[1] && tok.start <= prev[1] && tok.end <= text.length)) problems.push(`span ${tok.start}..${tok.end} after ${prev}`);
      joined += text.slice(Math.max(tok.start, prev[1]), tok.end);
      prev = [tok.start, tok.end];
      if (!(tok.id >= 0 && tok.id < c.vocab_size)) problems.push(`token id ${tok.id}`);
    }
    if (prev[1] !== text.length) problems.push(`the last token ends at ${prev[1]}, the text at ${text.length}`);
    if (joined !== text.slice(t.tokens[0].start)) problems.push('the tokens do not spell the text');
    for (const layer of t.layers) for (const hd of layer.heads) {
      for (let q = 0; q < T; q++) {
        let sum = 0;
        for (let k = 0; k < T; k++) sum += hd.weights.data[q * T + k];
        if (Math.abs(sum - 1) > 1e-4) problems.push(`a weights row sums to ${sum}`);
      }
    }
    if (!t.predict.probs.data.every((p) => Number.isFinite(p) && p >= 0)) problems.push('a non-finite probability');
    if (!root.querySelector('.ae-view section') || root.querySelector('.ae-view .error')) problems.push('no step view, or a view drawn as an error');
    const chips = [...root.querySelectorAll('.chip-text')].map((x) => x.textContent);
    if (chips.length && (chips.length !== T || chips.some((x, i) => x !== t.tokens[i].text.replace(/ /g, '·')))) problems.push('the token chips do not show the tokens as text');
  }
  return { problems, shown: t ? t.tokens.length : alert?.textContent };
}

/** Runs in the page: anything injected? (elements with handlers, img/iframe/script that are not ours, the flag) */
function injected() {
  const found = [];
  const walk = (node, where) => {
    for (const el of node.querySelectorAll('*')) {
      for (const a of el.attributes) if (/^on/i.test(a.name)) found.push(`${where}: <${el.localName} ${a.name}>`);
      if (el.matches('img[src="x"], iframe, object, embed, style:not([data-ae])')) found.push(`${where}: <${el.localName}>`);
      if (el.localName === 'a' && /^\s*javascript:/i.test(el.getAttribute('href') ?? '')) found.push(`${where}: javascript: link`);
      if (el.shadowRoot) walk(el.shadowRoot, `${where} > ${el.localName}`);
    }
  };
  walk(document, 'document');
  const scripts = [...document.scripts].map((s) => s.getAttribute('src'));
  if (scripts.some((s) => !s)) found.push('an inline <script> in the document');
  if (window.__pwned !== undefined) found.push(`window.__pwned = ${window.__pwned}`);
  return found;
}

/** Waits for the element to finish the render the last change scheduled (a microtask, then a frame). */
const settle = (page) => page.evaluate(() => new Promise((r) => setTimeout(() => requestAnimationFrame(() => r()), 0)));

async function check(page, label, want, selector = 'attention-explorer') {
  await settle(page);
  const r = await page.evaluate(inspect, [selector, want]);
  assert.deepEqual(r.problems, [], `${label}: ${r.problems.join('; ')}`);
  assert.deepEqual(await page.evaluate(injected), [], `${label}: injected markup`);
  env.assertClean(page);
  return r;
}

/** The widget still works: a normal sentence analyses. */
async function stillWorks(page, label, selector = 'attention-explorer') {
  await page.evaluate(([sel, t]) => { document.querySelector(sel).text = t; }, [selector, NORMAL]);
  await settle(page);
  const toks = await page.evaluate((sel) => document.querySelector(sel).trace?.tokens.filter((t) => !t.special).map((t) => t.text).join(''), selector);
  assert.equal(toks, NORMAL, `after ${label} the widget does not analyse a normal sentence`);
}

const textOf = (page, input) => (input.units ? page.evaluate((u) => String.fromCharCode(...u), input.units) : input.text);

async function openPage(hash = '#step=tokens') {
  const page = await env.page(`/index.html${hash}`);
  await ready(page);
  return page;
}

test('the page: every input typed into the text box', async () => {
  const page = await openPage();
  const box = page.locator('attention-explorer >> textarea');
  const max = Number(await box.getAttribute('maxlength')) || Infinity;
  for (const input of INPUTS.filter((x) => !x.units)) {
    await box.fill(input.text);
    const value = await box.inputValue();
    // a text box turns CR LF and CR into LF and may cap the length (maxlength); what it holds is analysed
    assert.equal(value, input.text.replace(/\r\n?/g, '\n').slice(0, max), `${input.name}: the box holds something else than what was typed`);
    assert.equal(await page.evaluate(() => document.querySelector('attention-explorer').text), value, `${input.name}: the element did not take the box's text`);
    await check(page, `text box, ${input.name}`, value);
    await stillWorks(page, input.name);
  }
});

test('the page: 1 MB pasted into the text box', async () => {
  const page = await openPage();
  const box = page.locator('attention-explorer >> textarea');
  await box.fill('');
  await box.focus();
  const mb = 'the quick brown fox jumps over the lazy dog. '.repeat(23302).slice(0, 1 << 20);
  const t0 = Date.now();
  await page.keyboard.insertText(mb); // what a paste does at the editing layer
  const value = await box.inputValue();
  assert.ok(mb.startsWith(value) && value.length > 0, 'the box holds a prefix of the pasted text');
  const r = await check(page, 'text box, 1 MB', value);
  assert.ok(Date.now() - t0 < 15000, `pasting 1 MB took ${Date.now() - t0} ms`);
  const note = await page.evaluate(() => document.querySelector('attention-explorer').shadowRoot.querySelector('.count').textContent);
  assert.match(note, /longer than the model’s context/, 'the token count says the text is longer than the context');
  assert.ok(r.shown > 0);
  await stillWorks(page, '1 MB pasted');
});

test('the page: every input set from JavaScript (property and attribute), lone surrogates included', async () => {
  const page = await openPage();
  const mb = 'a fluffy blue creature roamed the verdant forest. '.repeat(21000).slice(0, 1 << 20);
  for (const input of [...INPUTS, { name: '1 MB', text: mb }]) {
    const want = await textOf(page, input);
    for (const how of ['property', 'attribute']) {
      const t0 = Date.now();
      if (input.units) await page.evaluate(([u, how]) => { const el = document.querySelector('attention-explorer'); const s = String.fromCharCode(...u); if (how === 'property') el.text = s; else el.setAttribute('text', s); }, [input.units, how]);
      else await page.evaluate(([s, how]) => { const el = document.querySelector('attention-explorer'); if (how === 'property') el.text = s; else el.setAttribute('text', s); }, [want, how]);
      await check(page, `${how}, ${input.name}`, want);
      assert.ok(Date.now() - t0 < 15000, `${how}, ${input.name}: took ${Date.now() - t0} ms`);
      await stillWorks(page, `${how}, ${input.name}`);
    }
  }
});

test('the page: every input and markup in the URL hash, including malformed percent-encoding', async () => {
  const page = await openPage();
  const cases = INPUTS.filter((x) => !x.units && x.text.length <= 10000).map((x) => ({ name: x.name, hash: `#text=${encodeURIComponent(x.text)}&step=tokens`, want: x.text }));
  cases.push(
    // lone surrogates cannot be percent-encoded; their UTF-8-ish bytes and other invalid bytes decode to U+FFFD
    { name: 'invalid UTF-8 bytes', hash: '#text=a%ED%A0%80b%FF%C0%AFc&step=tokens', want: 'a\ufffd\ufffd\ufffdb\ufffd\ufffd\ufffdc' },
    { name: 'raw markup, not encoded', hash: `#text=<img src=x onerror=window.__pwned=1>&step=tokens`, want: '<img src=x onerror=window.__pwned=1>' },
    { name: 'markup in step/layer/head', hash: `#text=ok&step=${encodeURIComponent(PAYLOADS[0])}&layer=${encodeURIComponent(PAYLOADS[1])}&head=-1`, want: 'ok' },
    { name: 'javascript: as the whole hash', hash: '#javascript:window.__pwned=1', want: 'a fluffy blue creature roamed the verdant forest' },
    { name: 'huge layer and head', hash: '#text=ok&layer=99999999999999999999&head=1e308&step=weights', want: 'ok' },
  );
  for (const c of cases) {
    await page.evaluate((h) => { location.hash = h; }, c.hash);
    await page.waitForFunction((w) => document.querySelector('attention-explorer').text === w, c.want.toWellFormed?.() ?? c.want, { timeout: 5000 })
      .catch(() => assert.fail(`${c.name}: the element did not take the text from the hash`));
    await check(page, `hash, ${c.name}`, c.want);
    await stillWorks(page, `hash, ${c.name}`);
  }
  // and as the first load, with a fresh page per payload
  for (const p of PAYLOADS) {
    const fresh = await openPage(`#text=${encodeURIComponent(p)}&step=tokens`);
    await check(fresh, `hash on load, ${p}`, p);
    await fresh.close();
  }
});

/** A bare page with widgets (no page.js), served from the same origin. */
async function widgetPage(body) {
  const page = await env.page('/', { goto: false });
  await page.route(`${env.origin}/__reliability.html`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8',
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>widgets</title><script type="module" src="/attention-explorer.js"></script></head><body>${body}</body></html>` }));
  await page.goto(`${env.origin}/__reliability.html`);
  return page;
}

const escapeAttr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

test('the widget: markup in every attribute, in the HTML and set from JavaScript', async () => {
  const bad = PAYLOADS.map(escapeAttr);
  const body = [
    `<attention-explorer id="w0" text="${bad[0]}" step="${bad[1]}" steps="${bad[2]}" layer="${bad[3]}" head="${bad[4]}" controls="${bad[5]}" theme="${bad[0]}" height="${bad[1]}" transpose="${bad[2]}"><p>fallback</p></attention-explorer>`,
    `<attention-explorer id="w1" controls="minimal" text="${bad[1]}" height="1px;}:host{display:none"></attention-explorer>`,
    `<attention-explorer id="w2" controls="none" text="${bad[4]}" step="weights" height="100vh} * {color:red"></attention-explorer>`,
  ].join('\n');
  const page = await widgetPage(body);
  for (const id of ['w0', 'w1', 'w2']) await ready(page, `#${id}`);
  await check(page, 'w0 from HTML', PAYLOADS[0], '#w0');
  await check(page, 'w1 from HTML', PAYLOADS[1], '#w1');
  await check(page, 'w2 from HTML', PAYLOADS[4], '#w2');
  // a bad height does not reach the stylesheet (the element keeps a size, and is visible)
  for (const id of ['w0', 'w1', 'w2']) {
    const box = await page.locator(`#${id}`).boundingBox();
    assert.ok(box && box.height > 50 && box.width > 50, `#${id} is ${JSON.stringify(box)}`);
  }
  // every attribute, every payload, from JavaScript
  for (const attr of ['text', 'step', 'steps', 'layer', 'head', 'controls', 'theme', 'height', 'transpose', 'aria-label']) {
    for (const p of PAYLOADS) {
      await page.evaluate(([a, v]) => { document.querySelector('#w1').setAttribute(a, v); }, [attr, p]);
      await settle(page);
      assert.deepEqual(await page.evaluate(injected), [], `attribute ${attr} = ${p}`);
      const st = await page.evaluate(() => document.querySelector('#w1').state);
      if (attr === 'step') assert.ok(st.steps.includes(st.step), `step fell back to an offered one, found ${st.step}`);
      if (attr === 'layer' || attr === 'head') assert.ok(Number.isInteger(st[attr]) && st[attr] >= 0, `${attr} = ${st[attr]}`);
      if (attr === 'controls') assert.ok(['full', 'minimal', 'none'].includes(st.controls));
      if (attr === 'theme') assert.ok(['light', 'dark', 'auto'].includes(st.theme));
      env.assertClean(page);
    }
    if (attr !== 'text' && attr !== 'aria-label') await page.evaluate((a) => document.querySelector('#w1').removeAttribute(a), attr);
    await stillWorks(page, `attribute ${attr}`, '#w1');
  }
  // the ablation/option surface: hostile values are clamped or refused, never thrown out of a setter
  const r = await page.evaluate(async () => {
    const el = document.querySelector('#w1');
    const out = [];
    for (const o of [{ temperature: -1 }, { temperature: 'x' }, { temperature: 1e40 }, { disabled_heads: [[99, 99], [-1, 'a']] }, { predict_position: 10 ** 9 }, { predict_position: -3 }, { scale: '<img src=x>' }]) {
      try { el.options = o; } catch (e) { out.push(`setter threw for ${JSON.stringify(o)}: ${e.message}`); }
      await new Promise((res) => setTimeout(res, 0));
      const alert = el.shadowRoot.querySelector('[role="alert"]');
      if (!el.trace && !(alert && alert.textContent.length > 10)) out.push(`no trace and no message for ${JSON.stringify(o)}`);
    }
    el.options = { temperature: 1, disabled_heads: [], predict_position: null, scale: true, causal: true };
    return out;
  });
  assert.deepEqual(r, []);
  await stillWorks(page, 'hostile options', '#w1');
  env.assertClean(page);
});

test('the widget: every input through the attribute, in minimal and no-controls widgets', async () => {
  const page = await widgetPage('<attention-explorer id="m" controls="minimal" step="tokens"></attention-explorer><attention-explorer id="n" controls="none" step="weights"></attention-explorer>');
  await ready(page, '#m');
  await ready(page, '#n');
  for (const input of INPUTS) {
    const want = await textOf(page, input);
    if (input.units) await page.evaluate((u) => { const s = String.fromCharCode(...u); for (const el of document.querySelectorAll('attention-explorer')) el.setAttribute('text', s); }, input.units);
    else await page.evaluate((s) => { for (const el of document.querySelectorAll('attention-explorer')) el.setAttribute('text', s); }, want);
    await check(page, `minimal widget, ${input.name}`, want, '#m');
    await check(page, `no-controls widget, ${input.name}`, want, '#n');
    await stillWorks(page, input.name, '#m');
    await stillWorks(page, input.name, '#n');
  }
});
