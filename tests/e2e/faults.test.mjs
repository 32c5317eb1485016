// Faults while loading: the .wasm (or its JavaScript glue, or the element's own modules) answers 404, is
// truncated, is garbage, is an HTML error page, has the wrong MIME type, or is slow. The widget must show a
// clear message and its fallback (never a blank box), the page must stay usable (its text, links and
// keyboard focus work; no page error), and a widget that could load after all must work.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, ready, WWW } from './helpers.mjs';

const WASM = fs.readFileSync(path.join(WWW, 'pkg/attention_explorer_bg.wasm'));

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

const FALLBACK_PAGE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fault</title><script type="module" src="/attention-explorer.js"></script></head>'
  + '<body><h1>Notes</h1><p>Some prose before.</p><attention-explorer text="the cat sat"><p class="fb">The explorer shows attention on “the cat sat”.</p></attention-explorer>'
  + '<p><a href="#after">a link after the widget</a></p><h2 id="after">After</h2></body></html>';

/**
 * Opens `url` with `pattern` answered by `handler`; the problems the fault itself causes (the failed
 * request, its console line, the wasm-bindgen MIME warning) are expected and removed, anything else stays.
 */
async function openWith(url, pattern, handler, expected) {
  const page = await env.page('/', { goto: false });
  await page.route(`${env.origin}/__fault.html`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: FALLBACK_PAGE }));
  await page.route(pattern, handler);
  await page.goto(env.origin + url);
  page.expected = expected;
  return page;
}

const unexpected = (page) => page.problems.filter((p) => !page.expected.some((re) => re.test(p)));

/** The widget failed visibly: an alert saying so, the fallback content shown, the box not blank. */
async function assertFailedVisibly(page, label) {
  await page.waitForFunction(() => {
    const el = document.querySelector('attention-explorer');
    return el.shadowRoot ? el.shadowRoot.querySelector('[role="alert"]') : true;
  }, null, { timeout: 15000 }).catch(() => assert.fail(`${label}: no message appeared`));
  const r = await page.evaluate(() => {
    const el = document.querySelector('attention-explorer');
    const box = el.getBoundingClientRect();
    const alert = el.shadowRoot?.querySelector('[role="alert"]');
    const slot = el.shadowRoot?.querySelector('slot');
    const fallback = el.shadowRoot ? (slot ? slot.assignedNodes().map((n) => n.textContent).join('').trim() : '') : el.textContent.trim();
    const fbEl = el.querySelector('.fb, .fallback');
    const fbBox = fbEl ? fbEl.getBoundingClientRect() : null;
    return { upgraded: !!el.shadowRoot, message: alert?.textContent ?? '', fallback, fallbackVisible: !!fbBox && fbBox.height > 0 && fbBox.width > 0, height: box.height };
  });
  if (r.upgraded) assert.match(r.message, /could not start: .{10,}/, `${label}: the message does not say what happened: “${r.message}”`);
  assert.ok(r.fallback.length > 20, `${label}: no fallback content (${JSON.stringify(r)})`);
  assert.ok(r.fallbackVisible, `${label}: the fallback is not visible`);
  assert.ok(r.height > (r.upgraded ? 30 : 10), `${label}: the widget box is ${r.height}px high`);
  console.log(`# ${label}: ${r.upgraded ? `“${r.message}”` : 'not upgraded, light-DOM fallback shown'}`);
  return r;
}

/** The page around the widget still works: text, a link, keyboard focus, and no page error. */
async function assertPageUsable(page, label) {
  assert.ok(await page.locator('h1').first().isVisible(), `${label}: the heading is not visible`);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement !== document.body);
  assert.ok(focused, `${label}: the keyboard cannot reach anything on the page`);
  assert.deepEqual(unexpected(page), [], `${label}: unexpected problems`);
  assert.ok(!page.problems.some((p) => p.startsWith('page error')), `${label}: a page error`);
}

const FAULTS = [
  { name: 'wasm 404', pattern: '**/attention_explorer_bg.wasm', handler: (r) => r.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }), expected: [/attention_explorer_bg\.wasm/, /status of 404/] },
  { name: 'wasm truncated', pattern: '**/attention_explorer_bg.wasm', handler: (r) => r.fulfill({ status: 200, contentType: 'application/wasm', body: WASM.subarray(0, WASM.length >> 1) }), expected: [/attention_explorer_bg\.wasm/] },
  { name: 'wasm is garbage', pattern: '**/attention_explorer_bg.wasm', handler: (r) => r.fulfill({ status: 200, contentType: 'application/wasm', body: Buffer.from('this is not a wasm module at all') }), expected: [/attention_explorer_bg\.wasm/] },
  { name: 'wasm is an HTML error page served as 200', pattern: '**/attention_explorer_bg.wasm', handler: (r) => r.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Oops</title><h1>Something went wrong</h1>' }), expected: [/attention_explorer_bg\.wasm/, /MIME/] },
  { name: 'wasm request aborted (offline)', pattern: '**/attention_explorer_bg.wasm', handler: (r) => r.abort('internetdisconnected'), expected: [/attention_explorer_bg\.wasm/, /ERR_INTERNET_DISCONNECTED/] },
  { name: 'wasm glue 404', pattern: '**/pkg/attention_explorer.js', handler: (r) => r.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }), expected: [/pkg\/attention_explorer\.js/, /status of 404/, /attention_explorer_bg\.wasm/] },
  { name: 'wasm glue served as text/plain', pattern: '**/pkg/attention_explorer.js', handler: (r) => r.fulfill({ status: 200, contentType: 'text/plain', body: 'export default 1' }), expected: [/pkg\/attention_explorer\.js/, /MIME type/, /attention_explorer_bg\.wasm/] },
];

for (const fault of FAULTS) {
  for (const where of ['/index.html', '/__fault.html']) {
    test(`${fault.name} on ${where}: a clear message and the fallback, the page stays usable`, async () => {
      const page = await openWith(where, fault.pattern, fault.handler, fault.expected);
      await assertFailedVisibly(page, `${fault.name} on ${where}`);
      await assertPageUsable(page, `${fault.name} on ${where}`);
      await page.close();
    });
  }
}

test('the element module itself fails (404 for a step module): the light-DOM fallback shows', async () => {
  const expected = [/steps\/weights\.js/, /status of 404/];
  for (const where of ['/index.html', '/__fault.html']) {
    const page = await openWith(where, '**/steps/weights.js', (r) => r.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }), expected);
    await page.waitForLoadState('load');
    await page.waitForTimeout(300);
    const r = await assertFailedVisibly(page, `step module 404 on ${where}`);
    assert.equal(r.upgraded, false, 'the element cannot upgrade without its module');
    await assertPageUsable(page, `step module 404 on ${where}`);
    await page.close();
  }
});

test('wasm with the wrong MIME type (application/octet-stream) still works', async () => {
  const page = await openWith('/__fault.html', '**/attention_explorer_bg.wasm',
    (r) => r.fulfill({ status: 200, contentType: 'application/octet-stream', body: WASM }), [/MIME type|instantiateStreaming/]);
  await ready(page);
  assert.equal(await page.evaluate(() => document.querySelector('attention-explorer').trace.tokens.filter((t) => !t.special).map((t) => t.text).join('')), 'the cat sat');
  assert.deepEqual(unexpected(page), []);
});

test('a slow wasm: the box says it is loading (never blank), then renders', async () => {
  let release;
  const gate = new Promise((res) => { release = res; });
  const page = await openWith('/__fault.html', '**/attention_explorer_bg.wasm', async (r) => { await gate; await r.fulfill({ status: 200, contentType: 'application/wasm', body: WASM }); }, []);
  await page.waitForFunction(() => document.querySelector('attention-explorer').shadowRoot);
  await page.waitForTimeout(500);
  const r = await page.evaluate(() => {
    const el = document.querySelector('attention-explorer');
    return { status: el.shadowRoot.querySelector('[role="status"]')?.textContent ?? '', height: el.getBoundingClientRect().height };
  });
  assert.match(r.status, /Loading/, 'a loading message while the wasm is on its way');
  assert.ok(r.height > 0, 'the box is not collapsed while loading');
  release();
  await ready(page);
  assert.deepEqual(unexpected(page), []);
});
