// Security of embedding. (1) A source scan: nothing under www/ parses strings as HTML or code (innerHTML,
// outerHTML, insertAdjacentHTML, document.write, DOMParser, createContextualFragment, srcdoc, eval,
// new Function, string timers), and no page has inline script, inline handlers or style attributes.
// (2) The walkthrough page and the iframe page (embed.html) under the strict policy
// `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'`, driven through every step
// and control and fed hostile text: no violation reports, no injected element. (The example pages under
// the same policy are covered by embed.test.mjs.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, ready, WWW, stepsFor } from './helpers.mjs';

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const PAYLOAD = '<img src=x onerror="window.__pwned=1"></script><script>window.__pwned=2</script> javascript:window.__pwned=3';

// ----- (1) the source scan --------------------------------------------------------------------------------

const JS_SINKS = [
  [/\.\s*(innerHTML|outerHTML)\s*[+]?=(?!=)/, 'assigns HTML text (innerHTML/outerHTML)'],
  [/\binsertAdjacentHTML\s*\(/, 'insertAdjacentHTML'],
  [/\bdocument\s*\.\s*write(ln)?\s*\(/, 'document.write'],
  [/\bparseFromString\s*\(/, 'DOMParser.parseFromString'],
  [/\bcreateContextualFragment\s*\(/, 'createContextualFragment'],
  [/\bsetHTMLUnsafe\s*\(|\bparseHTMLUnsafe\s*\(/, 'setHTMLUnsafe/parseHTMLUnsafe'],
  [/\bsrcdoc\b/, 'srcdoc'],
  [/(^|[^.\w])eval\s*\(/, 'eval'],
  [/\bnew\s+Function\s*\(/, 'new Function'],
  [/\bset(Timeout|Interval)\s*\(\s*['"`]/, 'a string timer'],
  [/['"`]\s*javascript:/i, 'a javascript: URL'],
];
const HTML_SINKS = [
  [/<script\b(?![^>]*\bsrc=)[^>]*>/i, 'an inline <script>'],
  [/<[a-z][^>]*\son[a-z]+\s*=/i, 'an inline event handler'],
  [/<[a-z][^>]*\sstyle\s*=/i, 'a style attribute (blocked by style-src)'],
  [/<style\b/i, 'a <style> element (blocked by style-src)'],
  [/\bjavascript:/i, 'a javascript: URL'],
];

/** Source without comments (strings are kept: a sink inside a string is still worth a look). */
function stripComments(src, kind) {
  if (kind === 'html') return src.replace(/<!--[\s\S]*?-->/g, '');
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

function scan(src, kind) {
  const found = [];
  const body = stripComments(src, kind);
  const lines = body.split('\n');
  for (const [re, what] of kind === 'html' ? HTML_SINKS : JS_SINKS) {
    lines.forEach((line, i) => { if (re.test(line)) found.push(`line ${i + 1}: ${what}: ${line.trim().slice(0, 120)}`); });
  }
  return found;
}

function files(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (/\.(m?js|html)$/.test(e.name)) out.push(p);
  }
  return out;
}

test('the scan finds what it looks for (each sink in a sample)', () => {
  const js = ['el.innerHTML = text;', 'x.outerHTML += y', "el.insertAdjacentHTML('beforeend', s)", 'document.write(s)', 'new DOMParser().parseFromString(s, "text/html")',
    'range.createContextualFragment(s)', 'frame.srcdoc = s', 'eval(s)', 'new Function(s)', "setTimeout('go()', 1)", "a.href = 'javascript:void 0'", 'el.setHTMLUnsafe(s)'];
  for (const line of js) assert.equal(scan(line, 'js').length, 1, `not flagged: ${line}`);
  for (const line of ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<p style="color:red">', '<style>p{}</style>', '<a href="javascript:x">'])
    assert.ok(scan(line, 'html').length >= 1, `not flagged: ${line}`);
  for (const line of ['el.textContent = s;', "h('p', { text: s })", '// el.innerHTML = s is never done', 'if (a.innerHTML === b) f();', 'retrieval(s)', '<script type="module" src="a.js"></script>'])
    assert.deepEqual(scan(line, line.startsWith('<') ? 'html' : 'js'), [], `flagged by mistake: ${line}`);
});

test('nothing under www/ parses text as HTML or code; no inline script, handler or style in any page', () => {
  const all = files(WWW).filter((p) => !p.includes(`${path.sep}pkg${path.sep}`) || p.endsWith('.js'));
  assert.ok(all.length > 20, `only ${all.length} files found under ${WWW}`);
  const problems = [];
  for (const p of all) {
    const kind = p.endsWith('.html') ? 'html' : 'js';
    for (const f of scan(fs.readFileSync(p, 'utf8'), kind)) problems.push(`${path.relative(WWW, p)} ${f}`);
  }
  assert.deepEqual(problems, []);
  console.log(`# source scan: ${all.length} files under www/, no HTML/code sinks`);
});

// ----- (2) strict CSP, driven hard -------------------------------------------------------------------------

let env;
before(async () => {
  env = await start({ headers: { '/index.html': { 'Content-Security-Policy': CSP }, '/embed.html': { 'Content-Security-Policy': CSP } } });
});
after(async () => { await env.close(); });

async function strictPage(url) {
  const page = await env.page(url, { goto: false });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
  });
  const res = await page.goto(env.origin + url);
  assert.equal(res.headers()['content-security-policy'], CSP);
  return page;
}

function injected() {
  const found = [];
  const walk = (node) => {
    for (const el of node.querySelectorAll('*')) {
      for (const a of el.attributes) if (/^on/i.test(a.name)) found.push(`<${el.localName} ${a.name}>`);
      if (el.matches('img[src="x"], iframe, object, embed')) found.push(`<${el.localName}>`);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  if ([...document.scripts].some((s) => !s.src)) found.push('an inline <script>');
  if (window.__pwned !== undefined) found.push(`window.__pwned = ${window.__pwned}`);
  return found;
}

const inEl = (page, fn, arg) => page.evaluate(([src, a]) => {
  const el = document.querySelector('attention-explorer');
  return new Function('el', 'root', 'arg', `return (${src})(el, root, arg);`)(el, el.shadowRoot, a);
}, [fn.toString(), arg]);
const shadow = (page, sel) => page.locator(`attention-explorer >> ${sel}`);
const settle = (page) => page.evaluate(() => new Promise((r) => setTimeout(() => requestAnimationFrame(() => r()), 0)));

test('the walkthrough page under the strict policy: every step and control, hostile text, exports — no violations', async () => {
  const page = await strictPage(`/index.html#text=${encodeURIComponent(PAYLOAD)}&step=tokens`);
  await ready(page);
  assert.equal(await inEl(page, (el) => el.text), PAYLOAD);
  const box = shadow(page, 'textarea');
  await box.fill(`${PAYLOAD} the river bank`);
  for (const step of stepsFor(await inEl(page, (el) => el.model.config))) {
    await shadow(page, `.steplist button[data-step="${step}"]`).click();
    await settle(page);
    // hover whatever the view offers: a cell of a grid, a token chip, a strip
    const target = await inEl(page, (el, root) => (root.querySelector('.ae-view canvas.grid') ? 'canvas.grid' : root.querySelector('.ae-view [data-tok]') ? '.ae-view [data-tok]' : null));
    if (target) await shadow(page, target).first().hover({ force: true });
    await inEl(page, (el, root) => { for (const d of root.querySelectorAll('details.numbers')) d.open = true; });
  }
  await shadow(page, '.steplist button[data-step="weights"]').click();
  await shadow(page, 'button.view-lines').click();
  await shadow(page, 'input.opt-transpose').check();
  await shadow(page, 'input.opt-scale').uncheck();
  await shadow(page, 'input.opt-causal').uncheck();
  await shadow(page, '.head input[type=checkbox] >> nth=0').uncheck();
  await shadow(page, 'input.show-all').check();
  await settle(page);
  await shadow(page, 'input.show-all').uncheck();
  await shadow(page, '.steplist button[data-step="predict"]').click();
  await shadow(page, 'input.temperature').fill('0.4');
  for (const kind of ['svg', 'csv', 'json']) {
    await Promise.all([page.waitForEvent('download'), shadow(page, `button.export-${kind}`).click()]);
  }
  await settle(page);
  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'violations while using the page');
  assert.deepEqual(await page.evaluate(injected), []);
  env.assertClean(page);
});

test('PNG export under the strict policy: a clear message instead of a silent failure', async () => {
  const page = await strictPage('/index.html#step=weights');
  await ready(page);
  const download = page.waitForEvent('download', { timeout: 3000 }).then(() => 'downloaded', () => 'none');
  await shadow(page, 'button.export-png').click();
  const got = await download;
  const detail = await inEl(page, (el, root) => root.querySelector('.ae-detail').textContent);
  const violations = await page.evaluate(() => window.__violations);
  console.log(`# PNG export under strict CSP: ${got}; message: “${detail}”; violations: ${JSON.stringify(violations)}`);
  if (got === 'none') assert.match(detail, /Export failed: .*(policy|SVG)/, 'the user is told why and what to use instead');
  assert.ok(violations.every((v) => /^img-src blocked blob/.test(v)), `only the blob: image the PNG export needs may be refused: ${violations}`);
});

test('embed.html (iframe mode) under the strict policy with hostile query parameters', async () => {
  const q = new URLSearchParams({ text: PAYLOAD, step: '<svg onload=window.__pwned=4>', steps: 'weights </script> scores', head: 'javascript:1', layer: '"><img src=x>', controls: 'full', theme: '<b>', height: '1px;}*{display:none' });
  const page = await strictPage(`/embed.html?${q}`);
  await ready(page);
  const st = await inEl(page, (el) => el.state);
  assert.equal(st.text, PAYLOAD);
  assert.deepEqual(st.steps, ['scores', 'weights']);
  assert.ok(st.steps.includes(st.step));
  await shadow(page, 'button.next').click();
  await shadow(page, 'canvas.grid').first().hover();
  await settle(page);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(await page.evaluate(injected), []);
  const h = (await page.locator('attention-explorer').boundingBox()).height;
  assert.ok(h > 100, `the widget is ${h}px high despite the hostile height`);
  env.assertClean(page);
});
