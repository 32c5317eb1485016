// Page timings in headless Chromium (Playwright performance marks), merged into target/bench.json:
//   page_first_render_ms  navigation start → the element's first real render (warm cache; median of 7)
//   keystroke_ms          one keystroke in the text box → trace recomputed, view rebuilt and laid out,
//                         for a text of ~32 tokens (or the model's context if smaller), weights step (median of 40)
//   page_bytes_gz         everything index.html downloads, each file gzipped (level 9), summed
// Usage: node benches/page.mjs   (after ./build.sh build)

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { start, ROOT, WWW } from '../tests/e2e/helpers.mjs';
import { mergeBenchJson } from './bench-json.mjs';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const env = await start({ cache: true });
try {
  // Total download (first, cold load).
  const cold = await env.page('/index.html');
  await cold.waitForFunction(() => document.querySelector('attention-explorer')?.trace);
  const files = new Map(env.served.map((f) => [f.path, f.bytes]));
  let gz = 0;
  for (const rel of files.keys()) gz += zlib.gzipSync(fs.readFileSync(path.join(WWW, rel)), { level: 9 }).length;
  env.assertClean(cold);

  // First render, warm cache: reload the same tab so the HTTP cache and the wasm code cache are warm.
  const firsts = [];
  for (let i = 0; i < 8; i++) {
    await cold.reload();
    await cold.waitForFunction(() => performance.getEntriesByName('attention-explorer:first-render').length > 0, null, { timeout: 20000 });
    const t = await cold.evaluate(() => performance.getEntriesByName('attention-explorer:first-render')[0].startTime);
    if (i > 0) firsts.push(t);
  }

  // Keystrokes at 32 tokens on the weights step: each keystroke a new text (no trace-cache hits).
  const page = await env.page('/index.html#step=weights');
  await page.waitForFunction(() => document.querySelector('attention-explorer')?.trace);
  const r = await page.evaluate(async () => {
    const el = document.querySelector('attention-explorer');
    const box = el.shadowRoot.querySelector('textarea');
    const target = Math.min(32, el.model.config.context);
    // A text of `target` tokens whose last word changes at every keystroke (never the same text twice).
    const words = 'a fluffy blue creature roamed the verdant forest and sat on the river bank by the old mill'.split(' ');
    const texts = [];
    for (let i = 0; i < 41; i++) {
      let t = `${'abcdefghijklmnopqrstuvwxyz'[i % 26]}${i}`;
      for (let w = 0; el._engine.countTokens(t) < target; w++) t = `${words[w % words.length]} ${t}`;
      texts.push(t);
    }
    const times = [];
    for (let i = 0; i < texts.length; i++) {
      const t0 = performance.now();
      box.value = texts[i];
      box.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      await null; // the element renders in a microtask queued by the input
      void el.shadowRoot.querySelector('.ae-view').getBoundingClientRect(); // style + layout of the new view
      times.push(performance.now() - t0);
      await new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
    }
    return { times: times.slice(1), tokens: Math.round(texts.slice(1).reduce((n, t) => n + Math.min(el._engine.countTokens(t), el.model.config.context), 0) / (texts.length - 1)) };
  });
  env.assertClean(page);

  // A fixed JavaScript loop, printed (not stored) so a reader can tell a busy machine from a slow page.
  const cpuReference = await page.evaluate(() => {
    const t = performance.now();
    let x = 0;
    for (let i = 0; i < 2e7; i++) x = (x + i * 7) % 1000003;
    return x >= 0 ? performance.now() - t : -1;
  });

  const out = { page_first_render_ms: +median(firsts).toFixed(1), keystroke_ms: +median(r.times).toFixed(2), page_bytes_gz: gz };
  mergeBenchJson(ROOT, out);
  console.log(JSON.stringify({ ...out, cpu_reference_loop_ms: +cpuReference.toFixed(1), keystroke_tokens: r.tokens, keystroke_max_ms: +Math.max(...r.times).toFixed(2), first_render_runs_ms: firsts.map((x) => +x.toFixed(1)), files: [...files.keys()] }, null, 1));
} finally {
  await env.close();
}
