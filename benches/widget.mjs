// The embedded widget in headless Chromium, merged into target/bench.json (read-modify-write):
//   widget_first_render_ms         the module script (dist/attention-explorer.js) loaded → the first real view of
//                                  the first widget (the element's `attention-explorer:first-render` mark),
//                                  warm cache; median of 9 reloads
//   widget_first_render_nav_ms     the same mark from navigation start (for comparison with the page bench)
//   widget_single_first_render_ms  the same for attention-explorer.single.js (wasm inlined, compiled from bytes)
//   widget_bytes_gz                what a page downloads for the widget (modules + wasm), each file gzip -9, summed
//   widget_single_bytes_gz         the single file, gzip -9
// The host pages are plain (one widget on the weights step, minimal controls) in a temporary site that
// holds a fresh dist/ (built here by tools/dist.mjs).
// Usage: node benches/widget.mjs   (after ./build.sh build)

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { start, ROOT } from '../tests/e2e/helpers.mjs';
import { mergeBenchJson } from './bench-json.mjs';

const RUNS = 9;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

execFileSync(process.execPath, [path.join(ROOT, 'tools/dist.mjs')], { cwd: ROOT, stdio: 'inherit' });
const site = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-bench-'));
fs.cpSync(path.join(ROOT, 'dist'), path.join(site, 'ae'), { recursive: true });
fs.copyFileSync(path.join(ROOT, 'www/favicon.svg'), path.join(site, 'favicon.ico'));
const host = (script) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title>${script}</head><body>
<attention-explorer text="a fluffy blue creature roamed the verdant forest" step="weights" controls="minimal"></attention-explorer></body></html>\n`;
fs.writeFileSync(path.join(site, 'module.html'), host('<script type="module" src="/ae/attention-explorer.js"></script>'));
fs.writeFileSync(path.join(site, 'single.html'), host('<script src="/ae/attention-explorer.single.js"></script>'));

const env = await start({ root: site, cache: true });

/** Reloads `page` RUNS+1 times (the first warms the caches) and returns the marks of each warm run. */
async function firstRenders(page, script) {
  const out = [];
  for (let i = 0; i <= RUNS; i++) {
    await page.reload();
    await page.waitForFunction(() => performance.getEntriesByName('attention-explorer:first-render').length > 0, null, { timeout: 20000 });
    const r = await page.evaluate((name) => {
      const mark = performance.getEntriesByName('attention-explorer:first-render')[0].startTime;
      const res = performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === name);
      return { fromScript: mark - res.responseEnd, fromNav: mark, cached: res.transferSize === 0 };
    }, script);
    if (i > 0) out.push(r);
  }
  return out;
}

try {
  const from = env.served.length;
  const mod = await env.page('/module.html');
  await mod.waitForFunction(() => document.querySelector('attention-explorer')?.trace, null, { timeout: 20000 });
  const downloaded = [...new Set(env.served.slice(from).map((f) => f.path))].filter((p) => p.startsWith('/ae/'));
  const bytesGz = downloaded.reduce((n, p) => n + zlib.gzipSync(fs.readFileSync(path.join(site, p)), { level: 9 }).length, 0);
  const modRuns = await firstRenders(mod, '/ae/attention-explorer.js');
  env.assertClean(mod);

  const single = await env.page('/single.html');
  await single.waitForFunction(() => document.querySelector('attention-explorer')?.trace, null, { timeout: 20000 });
  const singleRuns = await firstRenders(single, '/ae/attention-explorer.single.js');
  env.assertClean(single);

  const out = {
    widget_first_render_ms: +median(modRuns.map((r) => r.fromScript)).toFixed(1),
    widget_first_render_nav_ms: +median(modRuns.map((r) => r.fromNav)).toFixed(1),
    widget_single_first_render_ms: +median(singleRuns.map((r) => r.fromScript)).toFixed(1),
    widget_bytes_gz: bytesGz,
    widget_single_bytes_gz: zlib.gzipSync(fs.readFileSync(path.join(site, 'ae/attention-explorer.single.js')), { level: 9 }).length,
  };
  mergeBenchJson(ROOT, out);
  console.log(JSON.stringify({ ...out, runs_ms: modRuns.map((r) => +r.fromScript.toFixed(1)), single_runs_ms: singleRuns.map((r) => +r.fromScript.toFixed(1)),
    warm: modRuns.every((r) => r.cached), files: downloaded }, null, 1));
} finally {
  await env.close();
  fs.rmSync(site, { recursive: true, force: true });
}
