// Embedding <attention-explorer> (issue 5) against the example pages in www/examples/ and the iframe page
// www/embed.html: every example renders the real trace of its own sentence, attributes and properties
// round-trip, events fire and reach the host, widgets on one page are independent but share one module
// and one model, hostile host CSS does not restyle the widget, every example holds under a strict
// Content-Security-Policy, and the iframe reports its height. (The dist/ build and the single file from
// file:// are tested in embed-dist.test.mjs.)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, allReady, checkRealValues } from './helpers.mjs';

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const EXAMPLES = ['three-widgets', 'course-notes', 'slides', 'iframe', 'strict-csp'];
const STRICT = Object.fromEntries([...EXAMPLES.map((n) => `/examples/${n}.html`), '/examples/index.html', '/embed.html']
  .map((p) => [p, { 'Content-Security-Policy': CSP }]));

let env, strict;
before(async () => {
  env = await start();
  strict = await start({ headers: STRICT });
});
after(async () => {
  await env.close();
  await strict.close();
});

const sleep = (page, ms = 40) => page.evaluate((t) => new Promise((r) => setTimeout(r, t)), ms);

test('every example page renders the real trace of each widget’s own sentence', async () => {
  for (const name of EXAMPLES.filter((n) => n !== 'iframe')) {
    const page = await env.page(`/examples/${name}.html`);
    await allReady(page);
    const n = await page.locator('attention-explorer').count();
    assert.ok(n >= 1, `${name}: has a widget`);
    assert.deepEqual(await checkRealValues(page), [], `${name}: real values`);
    env.assertClean(page);
  }
  const page = await env.page('/examples/iframe.html');
  await page.waitForFunction(() => document.querySelector('iframe').contentDocument?.querySelector('attention-explorer'));
  const inner = page.frames().find((f) => f !== page.mainFrame());
  await allReady(inner);
  assert.deepEqual(await checkRealValues(inner), [], 'iframe: real values');
  env.assertClean(page);
});

test('many widgets share one module and one model, and stay independent', async () => {
  const from = env.served.length;
  const page = await env.page('/examples/three-widgets.html');
  await allReady(page);
  const fetched = (suffix) => env.served.slice(from).filter((f) => f.path.endsWith(suffix)).length;
  assert.equal(fetched('/attention-explorer.js'), 1, 'the module is fetched once');
  assert.equal(fetched('.wasm'), 1, 'the wasm (with the model) is fetched once');
  const r = await page.evaluate(async () => {
    const [a, b, c] = document.querySelectorAll('attention-explorer');
    const shared = a._engine === b._engine && b._engine === c._engine;
    const before = [a, c].map((el) => [el.step, el.head, el.text, el.trace.tokens.length, el.shadowRoot.querySelector('.ae-view').innerHTML.length]);
    b.text = 'the dog chased the ball';
    b.step = 'masked';
    b.head = 0;
    await new Promise((res) => setTimeout(res, 50));
    const after = [a, c].map((el) => [el.step, el.head, el.text, el.trace.tokens.length, el.shadowRoot.querySelector('.ae-view').innerHTML.length]);
    return { shared, before, after, b: [b.step, b.head, b.trace.tokens.filter((x) => !x.special).map((x) => x.text).join(''), b.shadowRoot.querySelector('.ae-view section').dataset.step] };
  });
  assert.equal(r.shared, true, 'one engine for every widget');
  assert.deepEqual(r.after, r.before, 'changing one widget leaves the others as they were');
  assert.deepEqual(r.b, ['masked', 0, 'the dog chased the ball', 'masked']);
  assert.deepEqual(await checkRealValues(page), []);
  env.assertClean(page);
});

test('attributes and properties round-trip on an embedded widget', async () => {
  const page = await env.page('/examples/course-notes.html');
  await allReady(page);
  const r = await page.evaluate(async () => {
    const el = document.querySelector('attention-explorer');
    const out = {};
    const tick = () => new Promise((res) => setTimeout(res, 30));
    // property → attribute
    el.text = 'the river bank'; el.step = 'weights'; el.head = 1; el.layer = 0; el.controls = 'none';
    el.transpose = true; el.theme = 'dark'; el.height = '400'; el.steps = ['scores', 'weights'];
    await tick();
    out.attrs = ['text', 'step', 'head', 'layer', 'controls', 'transpose', 'theme', 'height', 'steps'].map((k) => el.getAttribute(k));
    // attribute → property
    el.setAttribute('text', 'bank account'); el.setAttribute('step', 'scores'); el.setAttribute('head', '0');
    el.setAttribute('controls', 'minimal'); el.removeAttribute('transpose'); el.setAttribute('theme', 'light');
    el.removeAttribute('height'); el.setAttribute('steps', 'scores masked');
    await tick();
    out.props = [el.text, el.step, el.head, el.layer, el.controls, el.transpose, el.theme, el.height, el.steps];
    out.rendered = [el.trace.tokens.filter((x) => !x.special).map((x) => x.text).join(''), el.shadowRoot.querySelector('.ae-view section').dataset.step,
      [...el.shadowRoot.querySelectorAll('.steplist button')].map((b) => b.dataset.step)];
    // invalid values fall back to the defaults instead of breaking the view
    el.setAttribute('step', 'no-such-step'); el.setAttribute('controls', 'lots'); el.setAttribute('theme', 'purple'); el.setAttribute('head', '-3');
    await tick();
    out.fallbacks = [el.step, el.controls, el.theme, el.head];
    return out;
  });
  const heads = await page.evaluate(() => document.querySelector('attention-explorer').model.config.n_heads);
  assert.deepEqual(r.attrs, ['the river bank', 'weights', String(1), '0', 'none', '', 'dark', '400', 'scores weights']);
  assert.deepEqual(r.props, ['bank account', 'scores', 0, 0, 'minimal', false, 'light', null, ['scores', 'masked']]);
  assert.deepEqual(r.rendered, ['bank account', 'scores', ['scores', 'masked']]);
  assert.deepEqual(r.fallbacks, ['scores', 'full', 'auto', 0]);
  assert.ok(heads >= 1);
  env.assertClean(page);
});

test('change events bubble out of the shadow root to the host page, one per change', async () => {
  const page = await env.page('/examples/three-widgets.html');
  await allReady(page);
  const r = await page.evaluate(async () => {
    const seen = [];
    document.addEventListener('attention-explorer:change', (e) => seen.push([e.target.id, e.detail.step, e.detail.head, e.detail.text, e.bubbles, e.composed]));
    const w = document.getElementById('weights');
    const tick = () => new Promise((res) => setTimeout(res, 40));
    w.step = 'masked';
    await tick();
    w.setAttribute('head', '0');
    w.setAttribute('text', 'a b c'); // two attributes in one task: one event
    await tick();
    w.shadowRoot.querySelector('button.prev').click(); // a control inside the widget
    await tick();
    document.getElementById('scores').text = 'hello';
    await tick();
    return seen;
  });
  const heads = await page.evaluate(() => document.querySelector('attention-explorer').model.config.n_heads);
  assert.deepEqual(r, [
    ['weights', 'masked', Math.min(1, heads - 1), 'we sat on the river bank and watched the water', true, true],
    ['weights', 'masked', 0, 'a b c', true, true],
    ['weights', 'scaled', 0, 'a b c', true, true],
    ['scores', 'scores', 0, 'hello', true, true],
  ]);
  env.assertClean(page);
});

test('hostile host CSS does not change the widget', async () => {
  const page = await env.page('/examples/three-widgets.html', { viewport: { width: 1280, height: 1400 } });
  await allReady(page);
  // Pixel comparisons need the widget at the same (whole-pixel) place in both states: each one is pinned
  // to the top left corner in turn while it is photographed.
  await page.addStyleTag({ content: '.ae-pin { position: fixed !important; top: 0 !important; left: 0 !important; width: 960px !important; margin: 0 !important; z-index: 99 !important; }' });
  const measure = () => page.evaluate(() => [...document.querySelectorAll('attention-explorer')].map((el) => {
    const root = el.shadowRoot;
    const pick = (sel) => {
      const x = root.querySelector(sel);
      if (!x) return null;
      const cs = getComputedStyle(x), box = x.getBoundingClientRect();
      return [cs.fontSize, cs.color, cs.fontFamily, cs.lineHeight, cs.letterSpacing, cs.textTransform, cs.backgroundColor, Math.round(box.width), Math.round(box.height)];
    };
    return { host: [Math.round(el.getBoundingClientRect().width), Math.round(el.getBoundingClientRect().height)],
      h2: pick('h2'), p: pick('.explain p'), math: pick('.math'), button: pick('button'), canvas: pick('canvas'), svgText: pick('svg text') };
  }));
  const shot = async () => {
    const out = [];
    for (const l of await page.locator('attention-explorer').all()) {
      await l.evaluate((el) => el.classList.add('ae-pin'));
      // Inset by the border radius: the host page shows through the rounded corners.
      const box = await l.boundingBox();
      out.push(await page.screenshot({ clip: { x: box.x + 8, y: box.y + 8, width: box.width - 16, height: box.height - 16 } }));
      await l.evaluate((el) => el.classList.remove('ae-pin'));
    }
    return out;
  };
  const before = await measure();
  const pixels = await shot();
  await page.addStyleTag({ content: `
    * { font-size: 40px !important; color: red !important; line-height: 3 !important; font-family: serif !important;
        letter-spacing: 4px !important; text-transform: uppercase !important; word-spacing: 20px !important; text-shadow: 2px 2px blue !important; }
    h2, p, button, canvas, svg, table, section, div { background: yellow !important; margin: 30px !important; padding: 30px !important; display: inline !important; }` });
  await sleep(page, 100);
  const hostText = await page.evaluate(() => getComputedStyle(document.querySelector('main > p:not(.back)')).fontSize);
  assert.equal(hostText, '40px', 'the hostile rules do apply to the host page');
  assert.deepEqual(await measure(), before);
  const after = await shot();
  after.forEach((png, i) => assert.ok(png.equals(pixels[i]), `widget ${i + 1} looks different under the hostile CSS`));
  env.assertClean(page);
});

test('the widget’s own styles do not leak into the host page', async () => {
  const page = await env.page('/examples/course-notes.html');
  const before = await page.evaluate(() => ['h2', 'p', 'pre', '.admonition'].map((s) => { const cs = getComputedStyle(document.querySelector(s)); return [cs.fontSize, cs.color, cs.fontFamily, cs.backgroundColor]; }));
  await allReady(page);
  const after = await page.evaluate(() => ['h2', 'p', 'pre', '.admonition'].map((s) => { const cs = getComputedStyle(document.querySelector(s)); return [cs.fontSize, cs.color, cs.fontFamily, cs.backgroundColor]; }));
  assert.deepEqual(after, before);
  assert.equal(await page.evaluate(() => document.styleSheets.length), 1, 'only the page’s own stylesheet in the document');
  env.assertClean(page);
});

test('every example holds under the strict Content-Security-Policy (no violations)', async () => {
  for (const name of [...EXAMPLES, 'index']) {
    const page = await strict.page(`/examples/${name}.html`, { goto: false });
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    });
    const response = await page.goto(`${strict.origin}/examples/${name}.html`);
    assert.equal(response.headers()['content-security-policy'], CSP, `${name} is served with the policy`);
    if (name === 'iframe') {
      await page.waitForFunction(() => /reported a height/.test(document.getElementById('frame-status').textContent), null, { timeout: 20000 });
      const inner = page.frames().find((f) => f !== page.mainFrame());
      assert.deepEqual(await inner.evaluate(() => window.__violations), [], 'no violations inside the frame');
    } else if (name !== 'index') {
      await allReady(page);
      assert.deepEqual(await checkRealValues(page), []);
    }
    // Interact a little: hovering and switching steps must not trip the policy either.
    if (name === 'strict-csp') {
      await page.locator('attention-explorer >> button.next').click();
      await page.locator('attention-explorer >> canvas.grid').first().hover({ position: { x: 80, y: 80 } });
      await sleep(page, 100);
      assert.match(await page.textContent('#csp-report'), /no violations/);
    }
    assert.deepEqual(await page.evaluate(() => window.__violations), [], `${name}: CSP violations`);
    strict.assertClean(page);
  }
});

test('the CSP check can fail: an inline style attribute is reported', async () => {
  const page = await strict.page('/examples/strict-csp.html', { goto: false });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));
  });
  await page.goto(`${strict.origin}/examples/strict-csp.html`);
  await allReady(page);
  await page.evaluate(() => { document.body.insertAdjacentHTML('beforeend', '<p style="color: red">inline</p>'); });
  await page.waitForFunction(() => window.__violations.length > 0);
  assert.match((await page.evaluate(() => window.__violations)).join(' '), /style-src/);
});

test('iframe mode: query parameters set the widget, and the frame reports its height to the host', async () => {
  const page = await env.page('/examples/iframe.html');
  await page.waitForFunction(() => /reported a height/.test(document.getElementById('frame-status').textContent), null, { timeout: 20000 });
  const inner = page.frames().find((f) => f !== page.mainFrame());
  await allReady(inner);
  const attrs = await inner.evaluate(() => { const el = document.querySelector('attention-explorer'); return [el.text, el.step, el.head, el.controls]; });
  assert.deepEqual(attrs, ['we sat on the river bank and watched the water', 'weights', 1, 'minimal']);
  const sizes = async () => page.evaluate(() => {
    const f = document.querySelector('iframe');
    return { frame: Math.round(f.getBoundingClientRect().height), inner: Math.ceil(f.contentDocument.querySelector('attention-explorer').getBoundingClientRect().height),
      scroll: f.contentDocument.documentElement.scrollHeight, status: document.getElementById('frame-status').textContent };
  });
  const first = await sizes();
  assert.equal(first.frame, first.inner, 'the host sized the frame to the reported height');
  assert.ok(first.scroll <= first.frame, 'no scrollbar inside the frame');
  // A smaller view: the frame follows, down as well as up.
  await inner.evaluate(() => { document.querySelector('attention-explorer').step = 'scores'; document.querySelector('attention-explorer').text = 'hi'; });
  await page.waitForFunction((h) => Math.round(document.querySelector('iframe').getBoundingClientRect().height) !== h, first.frame, { timeout: 10000 });
  const second = await sizes();
  assert.equal(second.frame, second.inner);
  assert.ok(second.frame < first.frame, `a 2-token view is shorter (${second.frame} < ${first.frame})`);
  env.assertClean(page);
});

test('iframe mode: the messages the frame posts', async () => {
  const page = await env.page('/examples/index.html');
  const messages = await page.evaluate(async () => {
    const got = [];
    window.addEventListener('message', (e) => got.push(e.data));
    const f = document.createElement('iframe');
    f.src = '../embed.html?text=the%20cat%20sat&step=scores&steps=scores%20weights&controls=none&theme=dark&transpose';
    document.body.append(f);
    for (let i = 0; i < 400 && !got.some((m) => m.type === 'attention-explorer:height' && m.height > 100); i++) await new Promise((r) => setTimeout(r, 25));
    const el = f.contentDocument.querySelector('attention-explorer');
    await el.ready;
    const state = [el.text, el.step, el.steps, el.controls, el.theme, el.transpose];
    el.step = 'weights';
    for (let i = 0; i < 100 && !got.some((m) => m.type === 'attention-explorer:change'); i++) await new Promise((r) => setTimeout(r, 20));
    return { got, state, rect: Math.ceil(el.getBoundingClientRect().height) };
  });
  assert.deepEqual(messages.state, ['the cat sat', 'scores', ['scores', 'weights'], 'none', 'dark', true]);
  const heights = messages.got.filter((m) => m.type === 'attention-explorer:height');
  assert.ok(heights.length >= 1);
  assert.ok(heights.every((m) => Object.keys(m).join() === 'type,height' && Number.isInteger(m.height)), JSON.stringify(heights));
  const change = messages.got.find((m) => m.type === 'attention-explorer:change');
  assert.equal(change.state.step, 'weights');
  assert.equal(change.state.text, 'the cat sat');
  env.assertClean(page);
});

test('slides: arrow keys move slides, but inside a widget they belong to the widget', async () => {
  const page = await env.page('/examples/slides.html#/2', { viewport: { width: 1280, height: 720 } });
  await allReady(page);
  const present = () => page.evaluate(() => [...document.querySelectorAll('.slides > section')].findIndex((s) => s.classList.contains('present')));
  assert.equal(await present(), 2);
  await page.keyboard.press('ArrowRight');
  assert.equal(await present(), 3);
  assert.equal(new URL(page.url()).hash, '#/3');
  await page.keyboard.press('ArrowLeft');
  // focus the widget on slide 3 and press → there: the slide stays
  await page.locator('.slides > section.present attention-explorer >> canvas.grid').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await present(), 2);
  const box = await page.locator('.slides > section.present attention-explorer').boundingBox();
  assert.ok(box.y + box.height <= 720, 'the widget fits on the slide');
  env.assertClean(page);
});

test('iframe mode: parameters are taken literally (text=false is a sentence; transpose=false is off)', async () => {
  const page = await env.page('/embed.html?text=false&transpose=false&step=tokens');
  await allReady(page);
  const r = await page.evaluate(() => { const el = document.querySelector('attention-explorer'); return [el.text, el.transpose, el.step, el.trace.tokens.filter((t) => !t.special).map((t) => t.text).join('')]; });
  assert.deepEqual(r, ['false', false, 'tokens', 'false']);
  const layout = await page.evaluate(() => [getComputedStyle(document.body).marginTop, document.querySelector('attention-explorer').getBoundingClientRect().width, innerWidth]);
  assert.deepEqual(layout, ['0px', layout[2], layout[2]], 'the widget fills the frame’s width, no page margin');
  env.assertClean(page);
});

test('without wasm every embedded widget shows its own readable fallback, not a blank box', async () => {
  const page = await env.page('/examples/three-widgets.html', { goto: false });
  await page.route('**/*.wasm', (route) => route.abort());
  await page.goto(`${env.origin}/examples/three-widgets.html`);
  await page.waitForFunction(() => [...document.querySelectorAll('attention-explorer')].every((el) => el.shadowRoot?.querySelector('[role="alert"]')));
  const r = await page.evaluate(() => [...document.querySelectorAll('attention-explorer')].map((el) => {
    const slot = el.shadowRoot.querySelector('slot');
    return { alert: el.shadowRoot.querySelector('[role="alert"]').textContent, fallback: slot.assignedNodes().map((n) => n.textContent).join('').trim(), height: el.getBoundingClientRect().height };
  }));
  assert.equal(r.length, 3);
  for (const w of r) {
    assert.match(w.alert, /could not start/);
    assert.match(w.fallback, /needs JavaScript and WebAssembly/);
    assert.ok(w.height > 40, `the box has content (${w.height} px)`);
  }
  // The aborted wasm request itself, and the browser's console line about it, are the only problems.
  assert.deepEqual(page.problems.filter((p) => !/\.wasm|Failed to load resource: net::ERR_FAILED/.test(p)), []);
});
