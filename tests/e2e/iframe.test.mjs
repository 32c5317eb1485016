// The iframe embed (issue 13, item 5): embed.html in a host page that sizes the frame from its height
// messages (the README's snippet). A height relative to the frame (vh, %) must not feed back on itself
// (150vh grew the frame to 33,554,428 px, 101vh forever, 50vh/99vh/0 collapsed it to 2 px); a sandbox
// that blocks the module scripts gets a fallback naming the flags it needs; export from a frame without
// allow-downloads says so instead of "Saved …"; and dist/embed.html requests nothing dist/ lacks.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, serve, allReady, ROOT } from './helpers.mjs';

let env, tmp;
before(async () => {
  env = await start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-iframe-'));
});
after(async () => {
  await env.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const hostPage = (frameAttrs) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>host</title><link rel="icon" href="data:,"></head><body>
<iframe id="ae" title="Attention explorer" style="width: 100%; border: 0" ${frameAttrs}></iframe>
<script>
  window.__heights = [];
  const frame = document.getElementById('ae');
  addEventListener('message', (e) => {
    if (e.source === frame.contentWindow && e.data?.type === 'attention-explorer:height') { frame.style.height = e.data.height + 'px'; __heights.push(e.data.height); }
  });
</script></body></html>`;

/** A host page (/__host.html on env's origin) with one frame (attributes given), sized by the README's message snippet. */
async function host(env, frameAttrs) {
  const page = await env.page('/', { goto: false });
  await page.route(`${env.origin}/__host.html`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: hostPage(frameAttrs) }));
  await page.goto(`${env.origin}/__host.html`);
  return page;
}

const inner = (page) => page.frames().find((f) => f !== page.mainFrame());
const frameHeight = (page) => page.evaluate(() => Math.round(document.getElementById('ae').getBoundingClientRect().height));
const wait = (page, ms) => page.evaluate((t) => new Promise((r) => setTimeout(r, t)), ms);

test('a height relative to the frame fills the frame and reports nothing: no growth, no collapse', { timeout: 120000 }, async () => {
  for (const height of ['150vh', '101vh', '99vh', '50vh', '60%']) {
    const page = await host(env, `src="${env.origin}/embed.html?text=the%20cat%20sat&step=scores&controls=minimal&height=${height}"`);
    await allReady(inner(page));
    await wait(page, 800);
    const first = await frameHeight(page);
    await wait(page, 800);
    const r = await page.evaluate(() => {
      const f = document.getElementById('ae');
      return { frame: Math.round(f.getBoundingClientRect().height), viewport: f.contentWindow.innerHeight, heights: window.__heights,
        widget: f.contentDocument.querySelector('attention-explorer').getBoundingClientRect().height };
    });
    assert.equal(r.frame, first, `${height}: the frame keeps its height (${first} → ${r.frame} px)`);
    assert.deepEqual(r.heights, [], `${height}: the frame reports no height`);
    assert.equal(r.frame, 150, `${height}: the frame stays as the host sized it (the default 150 px)`);
    const share = Number.parseFloat(height) / 100;
    assert.ok(Math.abs(r.widget - share * r.viewport) <= 1, `${height}: the widget is ${r.widget} px in a ${r.viewport} px frame`);
    env.assertClean(page);
    await page.close();
  }
});

test('a zero or fixed height, or none, is reported once and the frame settles', { timeout: 120000 }, async () => {
  for (const [height, want] of [['0', null], ['', null], ['420', 420], ['30em', null]]) {
    const q = height === '' ? '' : `&height=${height}`;
    const page = await host(env, `src="${env.origin}/embed.html?text=the%20cat%20sat&step=scores&controls=minimal${q}"`);
    await allReady(inner(page));
    await page.waitForFunction(() => window.__heights.length > 0);
    await wait(page, 800);
    const first = await frameHeight(page);
    await wait(page, 800);
    const r = await page.evaluate(() => ({ frame: Math.round(document.getElementById('ae').getBoundingClientRect().height), heights: window.__heights,
      widget: Math.ceil(document.getElementById('ae').contentDocument.querySelector('attention-explorer').getBoundingClientRect().height) }));
    assert.equal(r.frame, first, `height=${height}: the frame settled`);
    assert.equal(r.frame, r.widget, `height=${height}: the frame fits the widget`);
    assert.ok(r.frame > 100, `height=${height}: the frame did not collapse (${r.frame} px)`);
    if (want) assert.equal(r.frame, want);
    env.assertClean(page);
    await page.close();
  }
});

test('sandbox="allow-scripts" blocks the module scripts: the fallback names the flags it needs', async () => {
  const page = await host(env, `sandbox="allow-scripts" src="${env.origin}/embed.html?text=hello"`);
  const frame = inner(page);
  await frame.waitForLoadState('load');
  await wait(page, 500);
  const text = (await frame.textContent('body')).replace(/\s+/g, ' ');
  assert.match(text, /sandbox="allow-scripts allow-same-origin"/);
  assert.doesNotMatch(text, /current browser/);
  // what the browser reports: the module script refused for the frame's opaque origin, nothing else
  assert.ok(page.problems.length > 0 && page.problems.every((p) => /CORS|embed\.js|attention-explorer\.js|ERR_FAILED/.test(p)), page.problems.join('\n'));
  // with the documented flags the widget runs
  const ok = await host(env, `sandbox="allow-scripts allow-same-origin allow-downloads" src="${env.origin}/embed.html?text=hello&step=tokens"`);
  await allReady(inner(ok));
  env.assertClean(ok);
});

test('export from a sandboxed frame without allow-downloads does not say “Saved”', async () => {
  const src = '/embed.html?text=the%20cat%20sat&step=weights&controls=full';
  // same-origin with its host: the sandbox is read, and export refuses with the reason
  const same = await host(env, `sandbox="allow-scripts allow-same-origin" src="${env.origin}${src}"`);
  await allReady(inner(same));
  const downloaded = same.waitForEvent('download', { timeout: 1500 }).then(() => true, () => false);
  await inner(same).locator('attention-explorer >> button.export-svg').click();
  assert.equal(await downloaded, false);
  const said = await inner(same).locator('attention-explorer >> .ae-detail').textContent();
  assert.match(said, /^Export failed: .*sandboxed frame without allow-downloads.*must add allow-downloads/);
  env.assertClean(same);
  // cross-origin (the host served from another port): the sandbox cannot be read, so the message says what to check
  fs.writeFileSync(path.join(tmp, 'host.html'), hostPage(`sandbox="allow-scripts allow-same-origin" src="${env.origin}${src}"`));
  const other = await serve({ root: tmp });
  const cross = await env.page('/', { goto: false });
  let crossSaid;
  try {
    await cross.goto(`${other.origin}/host.html`);
    await allReady(inner(cross));
    await inner(cross).locator('attention-explorer >> button.export-csv').click();
    crossSaid = await inner(cross).locator('attention-explorer >> .ae-detail').textContent();
  } finally {
    await cross.context().close(); // its keep-alive connections first, or the server waits for them
    await other.close();
  }
  assert.doesNotMatch(crossSaid, /^Saved/);
  assert.match(crossSaid, /^Offered attention-weights-layer1-head1\.csv as a download\. If nothing was saved, .*allow-downloads/);
  // with allow-downloads the file arrives
  const allowed = await host(env, `sandbox="allow-scripts allow-same-origin allow-downloads" src="${env.origin}${src}"`);
  await allReady(inner(allowed));
  const [dl] = await Promise.all([allowed.waitForEvent('download'), inner(allowed).locator('attention-explorer >> button.export-json').click()]);
  assert.equal(dl.suggestedFilename(), 'attention-weights-layer1-head1.json');
  assert.match(await inner(allowed).locator('attention-explorer >> .ae-detail').textContent(), /^Saved attention-weights-layer1-head1\.json\./);
  env.assertClean(allowed);
});

test('dist/embed.html in a frame and on its own: nothing requested that dist/ does not ship', { timeout: 120000 }, async () => {
  const dist = path.join(tmp, 'site', 'ae');
  execFileSync(process.execPath, [path.join(ROOT, 'tools/dist.mjs'), '--out', dist], { cwd: ROOT, stdio: 'pipe' });
  const site = await start({ root: path.join(tmp, 'site') });
  try {
    const framed = await host(site, `src="${site.origin}/ae/embed.html?text=the%20cat%20sat&step=weights"`);
    await allReady(inner(framed));
    await wait(framed, 300);
    site.assertClean(framed);
    const alone = await site.page('/ae/embed.html?text=on%20its%20own&step=tokens');
    await allReady(alone);
    await wait(alone, 300);
    site.assertClean(alone);
    assert.ok(site.served.some((f) => f.path === '/ae/favicon.svg'), 'the icon embed.html links is served from dist/');
  } finally {
    await site.close();
  }
});
