// Issue 13 on the page, through the real wasm in headless Chromium: a trapped instance is never reused,
// the status says truthfully what happened, the trace cache is bounded in bytes, the model whose sizes
// wrapped u32 is analysed within the budget, and option values JSON cannot carry reach the engine's
// validator. A trap is forced with the engine's test hook (Explorer.__trapForTests, a real `unreachable`
// while the Explorer is borrowed), installed in place of one of the methods engine.js calls.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, ready, ROOT } from './helpers.mjs';

const TINY = path.join(ROOT, 'tests/fixtures/tiny');
const VOCAB = 360; // the tiny fixture tokenizer

/** A valid F32 safetensors file for `c` (model/FORMAT.md's tensor list and order), small pseudo-random values. */
function safetensors(c, name) {
  const { vocab_size: v, d_model: d, n_layers: layers, n_heads: h, d_head: dh, d_mlp: f, context } = c;
  const hd = h * dh;
  const list = [['tok_emb', [v, d]], ['pos_emb', [context, d]]];
  for (let l = 0; l < layers; l++) {
    list.push([`layers.${l}.ln1.weight`, [d]], [`layers.${l}.ln1.bias`, [d]], [`layers.${l}.attn.w_q`, [d, hd]],
      [`layers.${l}.attn.w_k`, [d, hd]], [`layers.${l}.attn.w_v`, [d, hd]], [`layers.${l}.attn.w_o`, [hd, d]]);
    if (f > 0) list.push([`layers.${l}.ln2.weight`, [d]], [`layers.${l}.ln2.bias`, [d]], [`layers.${l}.mlp.w_in`, [d, f]],
      [`layers.${l}.mlp.b_in`, [f]], [`layers.${l}.mlp.w_out`, [f, d]], [`layers.${l}.mlp.b_out`, [d]]);
  }
  list.push(['ln_f.weight', [d]], ['ln_f.bias', [d]]);
  const header = { __metadata__: { format: 'attention-explorer/1', name, config: JSON.stringify({ ...c, ln_eps: 1e-5 }) } };
  const chunks = [];
  let offset = 0;
  for (const [tensor, shape] of list) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Buffer.alloc(4 * n);
    const norm = /ln.*\.weight$/.test(tensor) ? 1 : /bias$|b_in$|b_out$/.test(tensor) ? 0 : null;
    for (let i = 0; i < n; i++) data.writeFloatLE(norm ?? (((i * 2654435761) >>> 8) % 1000) / 1000 - 0.5, 4 * i);
    header[tensor] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
    chunks.push(data);
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...chunks]);
}

/** The model of finding 1: context 65,536 and d_model 2, where T·T wrapped to 0 on wasm32. */
const WRAPPING = { vocab_size: VOCAB, d_model: 2, n_layers: 1, n_heads: 1, d_head: 2, d_mlp: 0, context: 65536 };

let env, tmp, wrappingFile;
before(async () => {
  env = await start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-recovery-'));
  wrappingFile = path.join(tmp, 'context-65536.safetensors');
  fs.writeFileSync(wrappingFile, safetensors(WRAPPING, 'context 65536, d_model 2'));
});
after(async () => { await env.close(); fs.rmSync(tmp, { recursive: true, force: true }); });

/** The name of the model in use, as a regular expression source (the built-in model's name comes from its weights). */
const modelName = async (page) => (await page.evaluate(() => document.querySelector('attention-explorer').model.name)).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const status = (page) => page.locator('#own-status').textContent();
const alertText = (page) => page.evaluate(() => document.querySelector('attention-explorer').shadowRoot.querySelector('[role="alert"]')?.textContent ?? '');

/** In the page: the engine, with every method of the current Explorer class wrapped to record the calls
 * made after the trap (the old instance must never be called again; `__destroy_into_raw`, which only
 * clears the JavaScript handle, is how engine.js lets go of it), and `method` of the current explorer
 * replaced by the trap. */
async function armTrap(page, method) {
  await page.evaluate(async (m) => {
    const engine = await (await import('/engine.js')).loadEngine();
    window.__engine = engine;
    window.__old = { explorer: engine.explorer, Explorer: engine.Explorer };
    window.__oldCalls = [];
    const proto = engine.Explorer.prototype;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const f = proto[name];
      if (name === 'constructor' || name === '__destroy_into_raw' || typeof f !== 'function' || f.__wrapped) continue;
      proto[name] = function (...args) { if (window.__trapped) window.__oldCalls.push(name); return f.apply(this, args); };
      proto[name].__wrapped = true;
    }
    engine.explorer[m] = function () {
      try { return window.__old.explorer.__trapForTests(); } finally { window.__trapped = true; }
    };
  }, method);
}

test('a trap while analysing: a fresh instance with the built-in model, the input that trapped is not rerun, the status is truthful', { timeout: 120000 }, async () => {
  const page = await env.page('/index.html');
  await ready(page);
  const builtin = await modelName(page);
  await armTrap(page, 'analyze');
  await page.evaluate(() => { document.querySelector('attention-explorer').text = 'the dog barked at the moon'; });
  await page.waitForFunction(() => /restarted from a fresh copy/.test(document.getElementById('own-status').textContent));
  assert.match(await status(page), new RegExp(`^The engine crashed \\(RuntimeError: unreachable\\) and was restarted from a fresh copy with the built-in model \\(${builtin}\\)\\.$`));
  // the widget re-analysed on the fresh instance, which refuses to rerun what trapped
  await page.waitForFunction(() => /crashed the engine before/.test(document.querySelector('attention-explorer').shadowRoot.querySelector('[role="alert"]')?.textContent ?? ''));
  assert.match(await alertText(page), /this input crashed the engine before \(RuntimeError: unreachable\); the engine was restarted, so the same input is not run again/);
  const fresh = await page.evaluate(() => ({ newExplorer: window.__engine.explorer !== window.__old.explorer, newClass: window.__engine.Explorer !== window.__old.Explorer, sameEngine: document.querySelector('attention-explorer')._engine === window.__engine }));
  assert.deepEqual(fresh, { newExplorer: true, newClass: true, sameEngine: true }, 'a new instance (a new glue module), the same Engine object');
  // another text works on the fresh instance
  await page.evaluate(() => { document.querySelector('attention-explorer').text = 'a fresh sentence'; });
  await page.waitForFunction(() => document.querySelector('attention-explorer').trace?.tokens.filter((t) => !t.special).map((t) => t.text).join('') === 'a fresh sentence');
  await page.click('#own-reset');
  await page.waitForFunction(() => document.getElementById('own-status').textContent === 'Back to the built-in model.');
  await ready(page);
  assert.deepEqual(await page.evaluate(() => window.__oldCalls), [], 'the trapped instance was never called again');
  env.assertClean(page);
});

test('a trap while loading a model: restarted with the model loaded before, and the page says so', { timeout: 120000 }, async () => {
  const page = await env.page('/index.html');
  await ready(page);
  await page.setInputFiles('#own-weights', path.join(TINY, 'model.safetensors'));
  await page.setInputFiles('#own-tokenizer', path.join(TINY, 'tokenizer.json'));
  await page.click('#own-load');
  await page.waitForFunction(() => /^Loaded /.test(document.getElementById('own-status').textContent));
  const tinyName = await page.evaluate(() => document.querySelector('attention-explorer').model.name);
  await armTrap(page, 'load');
  await page.click('#own-load');
  await page.waitForFunction(() => /could not be loaded/.test(document.getElementById('own-status').textContent));
  assert.equal(await status(page), `This model could not be loaded: the engine crashed while loading this model (RuntimeError: unreachable) and was restarted from a fresh copy with the model that was loaded (${tinyName}).`);
  await ready(page);
  assert.equal(await page.evaluate(() => document.querySelector('attention-explorer').model.name), tinyName, 'the model loaded before is in use again');
  assert.deepEqual(await page.evaluate(() => window.__oldCalls), []);
  env.assertClean(page);
});

test('a trap outside the engine leaves the Explorer borrowed: going back to the built-in model restarts instead of failing', { timeout: 120000 }, async () => {
  const page = await env.page('/index.html');
  await ready(page);
  const builtin = await modelName(page);
  await armTrap(page, 'analyze');
  // the trap happens in a call engine.js does not make: it learns of it from wasm-bindgen's refusal to
  // free the Explorer that the trap left borrowed
  const direct = await page.evaluate(() => { try { window.__old.explorer.__trapForTests(); return 'no trap'; } catch (e) { return `${e.constructor.name}: ${e.message}`; } });
  assert.equal(direct, 'RuntimeError: unreachable');
  await page.click('#own-reset');
  await page.waitForFunction(() => /restarted from a fresh copy/.test(document.getElementById('own-status').textContent));
  assert.match(await status(page), new RegExp(`^The engine crashed while releasing the previous model \\(Error: (attempted to take ownership of Rust value while it was borrowed|recursive use of an object[^)]*)\\) and was restarted from a fresh copy with the built-in model \\(${builtin}\\)\\.$`));
  await page.evaluate(() => { document.querySelector('attention-explorer').text = 'after the restart'; });
  await page.waitForFunction(() => document.querySelector('attention-explorer').trace?.tokens.filter((t) => !t.special).map((t) => t.text).join('') === 'after the restart');
  const classified = await page.evaluate(async () => {
    const { isTrap } = await import('/engine.js');
    return [new WebAssembly.RuntimeError('unreachable'), new RangeError('Array buffer allocation failed'), 'a string',
      new Error('null pointer passed to rust'), new Error('recursive use of an object detected which would lead to unsafe aliasing in rust'),
      new Error('invalid options: `top_k` must be a whole number from 0 to 100, found a number (101)')].map(isTrap);
  });
  assert.deepEqual(classified, [true, true, true, true, true, false], 'traps, exceptions through wasm and poisoned objects; not the engine\'s own errors');
  env.assertClean(page);
});

test('after three restarts the engine stops and says to reload the page', { timeout: 120000 }, async () => {
  const page = await env.page('/index.html');
  await ready(page);
  for (let i = 1; i <= 4; i++) {
    await armTrap(page, 'analyze');
    await page.evaluate((n) => { window.__trapped = false; document.querySelector('attention-explorer').text = `crash number ${n}`; }, i);
    await page.waitForFunction((n) => document.getElementById('own-status').textContent.includes(n <= 3 ? 'restarted from a fresh copy' : 'The engine stopped'), i);
    if (i <= 3) await page.evaluate(() => { document.getElementById('own-status').textContent = ''; });
  }
  assert.match(await status(page), /^The engine stopped: the engine crashed 4 times \(last: RuntimeError: unreachable\) and was stopped; reload the page to use it again\.$/);
  await page.evaluate(() => { document.querySelector('attention-explorer').text = 'anything else'; });
  await page.waitForFunction(() => /reload the page/.test(document.querySelector('attention-explorer').shadowRoot.querySelector('[role="alert"]')?.textContent ?? ''));
  env.assertClean(page);
});

test('the model whose T·T wrapped u32: a 21,846-character text is analysed within the budget, then back to the built-in model', { timeout: 180000 }, async () => {
  const page = await env.page('/index.html');
  await ready(page);
  await page.setInputFiles('#own-weights', wrappingFile);
  await page.setInputFiles('#own-tokenizer', path.join(TINY, 'tokenizer.json'));
  await page.click('#own-load');
  await page.waitForFunction(() => /^Loaded /.test(document.getElementById('own-status').textContent));
  await page.evaluate(() => { document.querySelector('attention-explorer').text = '€'.repeat(21846); });
  await page.waitForFunction(() => (document.querySelector('attention-explorer').trace?.tokens.length ?? 0) > 100, null, { timeout: 60000 });
  const r = await page.evaluate(() => {
    const el = document.querySelector('attention-explorer');
    const t = el.trace;
    return { tokens: t.tokens.length, max: el.model.max_tokens, total: t.total_tokens, notice: t.notice, bytes: t.trace_bytes, last: t.tokens.at(-1).end };
  });
  assert.equal(r.tokens, r.max, 'the last max_tokens tokens are analysed');
  assert.ok(r.total >= 65536 && r.tokens < 2000, JSON.stringify(r));
  assert.match(r.notice, /^this model's trace for 65,536 tokens would need 64 GB; the limit is 32 MB: only the last 1,\d{3} tokens are analysed$/);
  assert.ok(r.bytes <= 32 << 20);
  assert.equal(r.last, 21846);
  await page.click('#own-reset');
  await page.waitForFunction(() => document.getElementById('own-status').textContent === 'Back to the built-in model.');
  await page.evaluate(() => { document.querySelector('attention-explorer').text = 'still working'; });
  await page.waitForFunction(() => document.querySelector('attention-explorer').trace?.tokens.filter((t) => !t.special).map((t) => t.text).join('') === 'still working');
  env.assertClean(page);
});

test('the trace cache is bounded in bytes, and NaN, null and BigInt are told apart by the engine', { timeout: 180000 }, async () => {
  const page = await env.page('/index.html');
  await ready(page);
  const wrapping = fs.readFileSync(wrappingFile).toString('base64');
  const tokenizer = fs.readFileSync(path.join(TINY, 'tokenizer.json')).toString('base64');
  const r = await page.evaluate(async ([w64, t64]) => {
    const mod = await import('/engine.js');
    const engine = await mod.loadEngine();
    const out = {};
    const messageOf = (f) => { try { f(); return 'accepted'; } catch (e) { return e.message; } };
    out.nullPosition = messageOf(() => engine.analyze('the cat sat', { predict_position: null }));
    out.nanPosition = messageOf(() => engine.analyze('the cat sat', { predict_position: NaN }));
    out.bigint = messageOf(() => engine.analyze('the cat sat', { predict_position: 1n }));
    out.tinyTemperature = messageOf(() => engine.analyze('the cat sat', { temperature: 1e-30 }));
    out.quoted = messageOf(() => engine.analyze('the cat sat', { disabled_heads: ['01'] }));
    // small traces: many more than the 12 entries the cache used to keep
    for (let i = 0; i < 40; i++) engine.analyze(`sentence number ${i}`, {});
    out.small = { entries: engine.cache.size, bytes: engine.cacheBytes };
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    await mod.load(bytes(w64), bytes(t64));
    const sizes = [];
    for (let i = 0; i < 4; i++) sizes.push(engine.analyze('€'.repeat(21846 - i), {}).trace_bytes);
    out.large = { entries: engine.cache.size, bytes: engine.cacheBytes, sizes, limit: mod.CACHE_BYTES };
    await mod.reset();
    return out;
  }, [wrapping, tokenizer]);
  assert.equal(r.nullPosition, 'accepted');
  assert.match(r.nanPosition, /`predict_position` must be a whole number below 64 \(the context\) or null, found a number \(NaN\)/, 'NaN no longer shares null\'s cache entry');
  assert.match(r.bigint, /`predict_position` must be a whole number below 64 \(the context\) or null, found a BigInt/);
  assert.doesNotMatch(r.bigint, /serialize/);
  assert.match(r.tinyTemperature, /`temperature` must be a number from 0\.01 to 100, found 1e-30/);
  assert.match(r.quoted, /`disabled_heads\[0\]` must be a \[layer, head\] pair of whole numbers, found a string \("01"\)/);
  assert.ok(r.small.entries > 12, `small traces: ${JSON.stringify(r.small)}`);
  assert.ok(r.large.sizes.every((s) => s > 30 << 20), `each large trace is over 30 MB: ${r.large.sizes}`);
  assert.ok(r.large.bytes <= r.large.limit && r.large.entries <= 2, `large traces: ${JSON.stringify(r.large)}`);
  env.assertClean(page);
});

test('the single file (dist) restarts from a fresh copy of its inlined glue', { timeout: 180000 }, async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'tools/dist.mjs')], { cwd: ROOT, stdio: 'pipe' });
  const site = await start({ root: ROOT });
  try {
    const page = await site.page('/www/examples/single-file.html');
    await ready(page);
    await page.evaluate(() => {
      const engine = document.querySelector('attention-explorer')._engine;
      window.__old = engine.explorer;
      engine.explorer.analyze = function () { return this.__trapForTests(); };
      document.querySelector('attention-explorer').text = 'the dog barked';
    });
    await page.waitForFunction(() => /crashed the engine before/.test(document.querySelector('attention-explorer').shadowRoot.querySelector('[role="alert"]')?.textContent ?? ''));
    await page.evaluate(() => { document.querySelector('attention-explorer').text = 'a fresh start'; });
    await page.waitForFunction(() => document.querySelector('attention-explorer').trace?.tokens.filter((t) => !t.special).map((t) => t.text).join('') === 'a fresh start');
    const r = await page.evaluate(() => {
      const engine = document.querySelector('attention-explorer')._engine;
      return { fresh: engine.explorer !== window.__old, status: engine.status };
    });
    assert.equal(r.fresh, true);
    assert.match(r.status, /^The engine crashed \(RuntimeError: unreachable\) and was restarted from a fresh copy with the built-in model/);
    site.assertClean(page);
  } finally {
    await site.close();
  }
});
