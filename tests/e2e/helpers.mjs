// Shared helpers for the page tests: a static server for www/ on 127.0.0.1 (ephemeral port, correct MIME
// types, optional extra headers per path, e.g. a Content-Security-Policy) and headless Chromium through
// playwright-core, with every page error, console error and failed request recorded so a test can fail
// on them.
//
//   const env = await start({ headers: { '/examples/csp.html': { 'Content-Security-Policy': '…' } } });
//   const page = await env.page('/index.html');
//   … env.assertClean(page) …
//   await env.close();

import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The folder served: www/, or AE_WWW to run the same tests against another build of it. */
export const WWW = process.env.AE_WWW ? path.resolve(process.env.AE_WWW) : path.join(ROOT, 'www');

export const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8', '.safetensors': 'application/octet-stream',
};

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * Serves `root` (default www/) on 127.0.0.1:<ephemeral>. `headers` maps a URL path to extra response
 * headers; `cache` lets the browser keep files (for warm-cache timings). Records every request path in
 * `served` (for download-size checks).
 */
export async function serve({ root = WWW, headers = {}, cache = false } = {}) {
  const served = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep) && file !== root) { res.writeHead(403); res.end('outside the served folder'); return; }
    try {
      const body = await fs.readFile(file);
      served.push({ path: rel, bytes: body.length });
      res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': cache ? 'max-age=3600' : 'no-cache', ...(headers[rel] ?? {}) });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end(`not found: ${rel}`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { origin: `http://127.0.0.1:${port}`, served, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Headless Chromium; `extraArgs` are added to CHROMIUM_ARGS (e.g. '--js-flags=--expose-gc' for a page-side gc()). */
export async function launch(extraArgs = []) {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * Server + browser. `env.page(path, opts)` opens a page in a fresh context and records its problems in
 * `page.problems`; `env.assertClean(page)` fails the test if there were any. `browserArgs` go to launch().
 */
export async function start({ root, headers, cache, viewport = { width: 1280, height: 900 }, colorScheme = 'light', browserArgs = [] } = {}) {
  const server = await serve({ root, headers, cache });
  const browser = await launch(browserArgs);
  const contexts = [];
  return {
    origin: server.origin,
    served: server.served,
    browser,
    async page(p = '/index.html', opts = {}) {
      const context = await browser.newContext({ viewport: opts.viewport ?? viewport, colorScheme: opts.colorScheme ?? colorScheme,
        reducedMotion: opts.reducedMotion ?? 'no-preference', acceptDownloads: true });
      contexts.push(context);
      const page = await context.newPage();
      page.problems = [];
      page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console error: ${m.text()}`); });
      // ERR_ABORTED is a request cut short by the page itself (a reload or navigation), not a failure.
      page.on('requestfailed', (r) => { if (r.failure()?.errorText !== 'net::ERR_ABORTED') page.problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`); });
      page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`HTTP ${r.status()}: ${r.url()}`); });
      page.on('request', (r) => { if (!r.url().startsWith(server.origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) page.problems.push(`outside request: ${r.url()}`); });
      if (opts.goto !== false) await page.goto(server.origin + p);
      return page;
    },
    assertClean(page) {
      assert.deepEqual(page.problems, [], `the page reported problems:\n${page.problems.join('\n')}`);
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
      await server.close();
    },
  };
}

/** The walkthrough's steps for a model with learned positions. */
export const LEARNED_STEPS = ['tokens', 'embed', 'queries', 'keys', 'scores', 'scaled', 'masked', 'weights', 'values', 'mix', 'delta', 'update', 'predict'];

/** The steps a model's config should get: a rotary model has Rotate between Keys and Scores. */
export function stepsFor(config) {
  if (config.positions?.kind !== 'rope') return LEARNED_STEPS;
  const at = LEARNED_STEPS.indexOf('scores');
  return [...LEARNED_STEPS.slice(0, at), 'rotate', ...LEARNED_STEPS.slice(at)];
}

/** Waits until the element (default: the first <attention-explorer>) has rendered a real trace. */
export async function ready(page, selector = 'attention-explorer') {
  await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    return el && el.trace && el.shadowRoot.querySelector('.ae-view section');
  }, selector, { timeout: 15000 });
}

/** Text content of the element's shadow root (or one selector inside it). */
export function shadowText(page, inner = '.ae', selector = 'attention-explorer') {
  return page.evaluate(([sel, innerSel]) => document.querySelector(sel).shadowRoot.querySelector(innerSel)?.textContent ?? null, [selector, inner]);
}

// ----- added for the embedding tests (embed*.test.mjs) -----------------------------------------------

/** Resolves when every <attention-explorer> in `frame` (a page or a frame) has rendered a real trace. */
export async function allReady(frame) {
  await frame.waitForFunction(() => {
    const els = [...document.querySelectorAll('attention-explorer')];
    return els.length > 0 && els.every((el) => el.trace && el.shadowRoot.querySelector('.ae-view section'));
  }, null, { timeout: 20000 });
}

/**
 * In the page: for every element, checks that what is drawn is the trace of its own text: the numbers
 * printed in the accessible table (T×T steps) or next to the bars (predict) are parsed back and compared
 * with the trace within the precision they were printed with; arrows (update) and chips (tokens) are
 * counted. Returns one line per mismatch (empty when everything matches).
 */
export function checkRealValues(frame) {
  return frame.evaluate(async () => {
    // A printed number (−, −∞, a·10^−n) back to a value and the precision it was printed with.
    const parse = (str) => {
      const m = /^(−|-)?(\d+)(?:\.(\d+))?(?:·10\^(−|-)?(\d+))?$/.exec(str.trim());
      if (str.trim() === '−∞') return { v: -Infinity, tol: 0 };
      if (!m) return null;
      const e = m[5] ? (m[4] ? -1 : 1) * Number(m[5]) : 0, d = m[3] ? m[3].length : 0;
      return { v: (m[1] ? -1 : 1) * Number(`${m[2]}.${m[3] ?? '0'}`) * 10 ** e, tol: 0.51 * 10 ** (e - d) };
    };
    const same = (str, v) => { const p = parse(str); return p !== null && (p.v === v || Math.abs(p.v - v) <= p.tol * (1 + 1e-6)); };
    const bad = [];
    for (const el of document.querySelectorAll('attention-explorer')) {
      const who = `#${el.id || [...document.querySelectorAll('attention-explorer')].indexOf(el)} (${el.step})`;
      const t = el.trace;
      if (!t) { bad.push(`${who}: no trace`); continue; }
      if (t.dropped_tokens === 0 && t.tokens.filter((x) => !x.special).map((x) => x.text).join('') !== el.text) bad.push(`${who}: the trace's tokens do not spell the element's text`);
      const section = el.shadowRoot.querySelector(`.ae-view section[data-step="${el.step}"]`);
      if (!section) { bad.push(`${who}: no section for the step`); continue; }
      const T = t.tokens.length;
      if (['scores', 'scaled', 'masked', 'weights'].includes(el.step)) {
        const m = t.layers[el.layer].heads[el.head][el.step];
        const details = section.querySelector('details.numbers');
        details.open = true;
        for (let i = 0; i < 50 && !details.querySelector('table'); i++) await new Promise((r) => setTimeout(r, 20));
        const cells = [...details.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
        if (cells.length !== T || cells.some((r) => r.length !== T)) bad.push(`${who}: expected a ${T}×${T} table, found ${cells.length} rows`);
        else for (let q = 0; q < T; q++) for (let k = 0; k < T; k++) {
          const want = m.data[q * T + k];
          if (!same(cells[q][k], want)) bad.push(`${who}: cell ${q},${k} shows ${cells[q][k]}, the trace has ${want}`);
        }
        if (!section.querySelector('canvas.grid')) bad.push(`${who}: no grid drawn`);
        if (el.step === 'weights' && cells.length === T) {
          // What is displayed is a causal softmax: every row sums to 1, nothing above the diagonal.
          for (let q = 0; q < T; q++) {
            const row = cells[q].map((c) => parse(c)?.v ?? NaN);
            const sum = row.reduce((a, b) => a + b, 0);
            if (!(Math.abs(sum - 1) <= 1e-3 * T)) bad.push(`${who}: displayed row ${q} sums to ${sum}`);
            if (t.options.causal && row.slice(q + 1).some((v) => v !== 0)) bad.push(`${who}: row ${q} shows weight above the diagonal`);
          }
        }
      } else if (el.step === 'predict') {
        const shown = [...section.querySelectorAll('svg.bars .num-out')].map((x) => x.textContent);
        const want = t.predict.top.map((c) => c.prob * 100);
        if (shown.length !== want.length || shown.some((x, i) => !x.endsWith('%') || !same(x.slice(0, -1).replace(/e([+-]?\d+)$/, (_, n) => `·10^${n.replace('-', '−').replace('+', '')}`), want[i]))) {
          bad.push(`${who}: bars show ${shown}, the trace has ${want.map((x) => `${x}%`)}`);
        }
        const sum = t.predict.top.reduce((a, c) => a + c.prob, 0);
        if (!(sum > 0 && sum <= 1.0001)) bad.push(`${who}: top probabilities sum to ${sum}`);
      } else if (el.step === 'update') {
        const arrows = section.querySelectorAll('svg.map line.move').length;
        if (arrows !== T) bad.push(`${who}: expected ${T} arrows, found ${arrows}`);
      } else if (el.step === 'tokens') {
        const chips = section.querySelectorAll('.chip').length;
        if (chips !== T) bad.push(`${who}: expected ${T} chips, found ${chips}`);
      }
      const credit = el.shadowRoot.querySelector('.credit')?.textContent ?? '';
      if (!credit.includes(`${t.config.n_heads} heads`)) bad.push(`${who}: the credit line does not describe the loaded model: ${credit}`);
    }
    return bad;
  });
}
