// Small contract gaps of the element (issue 13, item 6) and the seams of the split (issue 12): an unknown
// export kind is refused with a message (exportView('pdf') downloaded a PNG), a model's 8 MB name is cut
// in the credit line and an exported title, a paste that does not fit at the limit (an emoji at 3,999
// characters) gets the message other over-long pastes get, the T×T controls follow the step modules'
// own metadata, and the derived numbers printed (engine-numbers.js) are the ones the trace carries.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, ready, ROOT } from './helpers.mjs';

let env, tmp;
before(async () => {
  env = await start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-contract-'));
});
after(async () => {
  await env.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const inEl = (page, fn, arg) => page.evaluate(([src, a]) => {
  const el = document.querySelector('attention-explorer');
  return (0, eval)(`(${src})`)(el, el.shadowRoot, a);
}, [fn.toString(), arg]);

test('exportView refuses a kind it cannot make, with a message, and downloads nothing', async () => {
  const page = await env.page('/index.html#step=weights');
  await ready(page);
  const downloaded = page.waitForEvent('download', { timeout: 2000 }).then(() => true, () => false);
  const r = await inEl(page, async (el, root) => {
    const results = [await el.exportView('pdf'), await el.exportView(undefined)];
    return { results, detail: root.querySelector('.ae-detail').textContent, alert: root.querySelector('.ae-detail [role="alert"]') !== null };
  });
  assert.equal(await downloaded, false, 'no file for an unknown kind');
  assert.deepEqual(r.results, [false, false]);
  assert.equal(r.detail, "Export failed: expected one of 'svg', 'png', 'csv', 'json', found undefined.");
  assert.equal(r.alert, true);
  const pdf = await inEl(page, async (el, root) => { await el.exportView('pdf'); return root.querySelector('.ae-detail').textContent; });
  assert.equal(pdf, "Export failed: expected one of 'svg', 'png', 'csv', 'json', found 'pdf'.");
  // the kinds it can make still resolve to true
  const [dl, ok] = await Promise.all([page.waitForEvent('download'), inEl(page, (el) => el.exportView('csv'))]);
  assert.equal(ok, true);
  assert.equal(dl.suggestedFilename(), 'attention-weights-layer1-head1.csv');
  env.assertClean(page);
});

/** The tiny test model with its `__metadata__.name` replaced (the header re-padded to 8 bytes). */
function renamedModel(name) {
  const b = fs.readFileSync(path.join(ROOT, 'tests/fixtures/tiny/model.safetensors'));
  const n = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
  header.__metadata__ = { ...header.__metadata__, name };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const file = path.join(tmp, 'renamed.safetensors');
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), b.subarray(8 + n)]));
  return file;
}

test('a model with an 8 MB name: the credit line and an exported title show its first 80 characters', { timeout: 120000 }, async () => {
  const name = `very-long-model-name-${'é'.repeat(30)}-${'x'.repeat(8 << 20)}`;
  const page = await env.page('/index.html#step=weights');
  await ready(page);
  await page.setInputFiles('#own-weights', renamedModel(name));
  await page.setInputFiles('#own-tokenizer', path.join(ROOT, 'tests/fixtures/tiny/tokenizer.json'));
  await page.click('#own-load');
  await page.waitForFunction(() => /^Loaded /.test(document.getElementById('own-status').textContent), null, { timeout: 60000 });
  await ready(page);
  const r = await inEl(page, (el, root) => ({ full: el.model.name.length, credit: root.querySelector('.credit').textContent,
    title: el.viewSvg().querySelector('text.title').textContent }));
  assert.equal(r.full, name.length, 'the model keeps its name');
  const shown = `${name.slice(0, 80)}…`;
  assert.ok(r.credit.startsWith(`Model: ${shown} (`), r.credit.slice(0, 200));
  assert.ok(r.credit.length < 300, `credit line of ${r.credit.length} characters`);
  assert.ok(r.title.endsWith(` · ${shown}`) && r.title.length < 400, r.title.slice(0, 200));
  env.assertClean(page);
});

test('a paste that does not fit at all at the limit gets the same message as other over-long pastes', async () => {
  const page = await env.page('/index.html#step=tokens');
  await ready(page);
  const box = page.locator('attention-explorer >> textarea');
  const message = page.locator('attention-explorer >> .cut');
  await box.fill('x'.repeat(3999));
  await box.focus();
  await page.keyboard.press('End');
  await page.keyboard.insertText('🙂'); // two UTF-16 code units: the box drops it whole, with no input event
  assert.equal((await box.inputValue()).length, 3999);
  assert.match(await message.textContent(), /cut to 4,000 characters; the model reads only its last \d+ tokens/);
  await page.keyboard.press('Backspace'); // an edit that fits clears the message
  assert.equal(await message.textContent(), '');
  await page.keyboard.insertText('ab🙂'); // 3,998 + 4 code units: cut, some of it kept
  assert.match(await message.textContent(), /cut to 4,000 characters/);
  env.assertClean(page);
});

test('the T×T controls follow the step modules’ own metadata', async () => {
  const page = await env.page('/index.html#step=tokens');
  await ready(page);
  const r = await page.evaluate(async () => {
    const { STEPS } = await import('/steps/index.js');
    const el = document.querySelector('attention-explorer');
    const shown = [];
    for (const m of STEPS) {
      el.step = m.id;
      await new Promise((res) => setTimeout(res, 0));
      if (!el.shadowRoot.querySelector('.view-grid').closest('.group').hidden) shown.push(m.id);
    }
    return { pairs: STEPS.filter((m) => m.tokenPairs === true).map((m) => m.id), shown };
  });
  assert.deepEqual(r.pairs, ['scores', 'scaled', 'masked', 'weights']);
  assert.deepEqual(r.shown, r.pairs, 'the grid | lines switch is offered exactly for the steps that declare tokenPairs');
  env.assertClean(page);
});

test('the row’s max, Σexp and Σ printed are the ones the trace carries', async () => {
  const page = await env.page('/index.html#step=weights');
  await ready(page);
  const r = await inEl(page, async (el, root) => {
    const head = el.trace.layers[0].heads[0];
    const T = head.weights.shape[0];
    // the engine computes them (src/model.rs); JavaScript has no arithmetic of its own to fall back on
    const carried = ['masked_row_max', 'masked_row_sum_exp', 'weights_row_sum'].map((k) => head[k] instanceof Float32Array && head[k].length === T);
    const divisor = el.trace.score_divisor === Math.fround(Math.sqrt(el.trace.config.d_head));
    // Marked values no arithmetic on the matrices would give: the views must print these.
    head.masked_row_max = Float32Array.from({ length: T }, (_, q) => 100 + q);
    head.masked_row_sum_exp = Float32Array.from({ length: T }, (_, q) => 200 + q);
    head.weights_row_sum = Float32Array.from({ length: T }, (_, q) => 30 + q);
    el.step = 'scores';
    await new Promise((res) => setTimeout(res, 0));
    el.step = 'weights'; // the same (cached) trace object, drawn again
    await new Promise((res) => setTimeout(res, 0));
    const canvas = root.querySelector('canvas.grid');
    const box = canvas.getBoundingClientRect();
    const c = canvas.__cellCenter(2, 1);
    canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: box.left + c.x, clientY: box.top + c.y, bubbles: true, composed: true }));
    await new Promise((res) => setTimeout(res, 0));
    const sums = [...el.viewSvg().querySelectorAll('text.num.sum')].map((t) => t.textContent);
    return { T, carried, divisor, detail: root.querySelector('.ae-detail').textContent, sums };
  });
  assert.deepEqual(r.carried, [true, true, true], 'each head carries its rows’ max, Σexp and Σ as Float32Arrays of T');
  assert.equal(r.divisor, true, 'the trace carries √d_head as score_divisor');
  assert.match(r.detail, /with max = 102\.0000/);
  assert.match(r.detail, /Σ over the row = 202\.0000/);
  assert.deepEqual(r.sums, Array.from({ length: r.T }, (_, q) => (30 + q).toFixed(1)));
  env.assertClean(page);
});
