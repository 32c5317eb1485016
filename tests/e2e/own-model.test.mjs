// "Load your own model" on the page (www/index.html): the tiny test model replaces the built-in one for the
// widget (name in the credit line, grid sized by its context), a broken weights file leaves it in place with
// a readable message, and "back to the built-in model" restores the shipped one. Fails on any page or
// console error.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, ready, ROOT } from './helpers.mjs';

const TINY = path.join(ROOT, 'tests/fixtures/tiny');

/** The model name stored in a safetensors file's `__metadata__`. */
function safetensorsName(file) {
  const b = fs.readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  return JSON.parse(b.subarray(8, 8 + n).toString('utf8')).__metadata__.name;
}

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

const view = (page) => page.evaluate(() => {
  const el = document.querySelector('attention-explorer');
  const grid = el.shadowRoot.querySelector('canvas.grid');
  return {
    name: el.model.name,
    context: el.model.config.context,
    layers: el.model.config.n_layers,
    tokens: el._engine.countTokens(el.text),
    credit: el.shadowRoot.querySelector('.credit').textContent,
    grid: grid ? grid.getAttribute('aria-label').match(/a (\d+) by (\d+) grid/).slice(1).map(Number) : null,
    layerButtons: el.shadowRoot.querySelectorAll('[data-layer]').length,
  };
});

test('load the tiny model, fail on truncated weights, go back to the built-in model', { timeout: 120000 }, async () => {
  const text = 'the cat sat on the mat and the dog sat on the log. '.repeat(6).trim();
  const page = await env.page(`/index.html#text=${encodeURIComponent(text)}&step=scores`);
  await ready(page);
  const builtIn = await view(page);
  const tinyName = safetensorsName(path.join(TINY, 'model.safetensors'));
  assert.notEqual(builtIn.name, tinyName);
  assert.ok(builtIn.credit.includes(builtIn.name));

  await page.setInputFiles('#own-weights', path.join(TINY, 'model.safetensors'));
  await page.setInputFiles('#own-tokenizer', path.join(TINY, 'tokenizer.json'));
  await page.click('#own-load');
  await page.waitForFunction((name) => document.querySelector('attention-explorer').shadowRoot.querySelector('.credit').textContent.includes(name), tinyName);
  await ready(page);
  const tiny = await view(page);
  assert.equal(tiny.name, tinyName);
  assert.equal(tiny.context, 16);
  assert.ok(tiny.tokens > tiny.context, 'the sentence is longer than the tiny model reads');
  assert.deepEqual(tiny.grid, [16, 16], 'the grid follows the tiny model\'s context');
  assert.notDeepEqual(tiny.grid, builtIn.grid);
  assert.equal(tiny.layerButtons, tiny.layers);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-own-'));
  const broken = path.join(dir, 'broken.safetensors');
  fs.writeFileSync(broken, fs.readFileSync(path.join(TINY, 'model.safetensors')).subarray(0, 100));
  await page.setInputFiles('#own-weights', broken);
  await page.click('#own-load');
  await page.waitForFunction(() => /could not be loaded/.test(document.getElementById('own-status').textContent));
  const status = await page.locator('#own-status');
  assert.equal(await status.getAttribute('role'), 'status');
  assert.ok(await status.isVisible());
  assert.match(await status.textContent(), /weights|safetensors/i);
  const still = await view(page);
  assert.equal(still.name, tinyName, 'the tiny model is still in use');
  assert.deepEqual(still.grid, [16, 16]);
  fs.rmSync(dir, { recursive: true });

  await page.focus('#own-reset');
  await page.keyboard.press('Enter');
  await page.waitForFunction((name) => document.querySelector('attention-explorer').shadowRoot.querySelector('.credit').textContent.includes(name), builtIn.name);
  await ready(page);
  const back = await view(page);
  assert.equal(back.name, builtIn.name);
  assert.deepEqual(back.grid, builtIn.grid);
  env.assertClean(page);
});

test('the URL carries the text only up to 2,000 characters; a hash without text= shows the default sentence', { timeout: 120000 }, async () => {
  const page = await env.page('/index.html#step=keys');
  await ready(page);
  const defaultText = await page.evaluate(() => document.querySelector('attention-explorer').text);
  const box = page.locator('attention-explorer >> textarea');
  const short = 'a b '.repeat(500); // 2,000 characters
  await box.fill(short);
  await page.waitForFunction(() => location.hash.includes('text='));
  assert.equal(new URLSearchParams((await page.evaluate(() => location.hash)).slice(1)).get('text'), short);
  const long = short + 'c';
  const t0 = Date.now();
  await box.fill(long);
  await page.waitForFunction(() => !location.hash.includes('text=') && location.hash.includes('step=keys'));
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(await page.evaluate(() => document.querySelector('attention-explorer').text), long, 'the long text stays in the widget');
  await page.evaluate(() => { location.hash = '#step=values'; });
  await page.waitForFunction(() => document.querySelector('attention-explorer').step === 'values');
  assert.equal(await page.evaluate(() => document.querySelector('attention-explorer').text), defaultText);
  env.assertClean(page);
});

test('a paste longer than the text box holds is cut with a polite message', { timeout: 120000 }, async () => {
  const page = await env.page('/index.html#step=tokens');
  await ready(page);
  const box = page.locator('attention-explorer >> textarea');
  const message = page.locator('attention-explorer >> .cut');
  assert.equal(await message.getAttribute('role'), 'status');
  assert.equal(await message.getAttribute('aria-live'), 'polite');
  await box.fill('');
  await box.focus();
  await page.keyboard.insertText('the cat sat on the mat. '.repeat(200)); // 4,800 characters, as a paste
  assert.equal((await box.inputValue()).length, 4000);
  assert.match(await message.textContent(), /cut to 4,000 characters; the model reads only its last \d+ tokens/);
  assert.ok(await message.isVisible());
  await box.fill('a short sentence');
  assert.equal(await message.textContent(), '');
  await box.fill('x'.repeat(4000)); // exactly the limit: nothing is cut
  assert.equal(await message.textContent(), '');
  env.assertClean(page);
});
