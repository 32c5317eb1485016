// Bad models through the engine's JavaScript API in headless Chromium (Explorer.fromBytes and
// explorer.load: the page has no "load your own model" control yet). Every file is built here from the
// tiny fixture models (tests/fixtures/tiny/) and the shipped model when it exists: empty, truncated at
// several points, oversized or malformed header, wrong tensor names, shapes and dtypes, NaN and ±∞ in
// each storage dtype, bad offsets, broken tokenizers and a tokenizer that does not match the weights.
// Each must be refused with a message that names what is wrong, and the model loaded before stays in
// use (same name, same analysis, bit for bit).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, ROOT } from './helpers.mjs';

const TINY = path.join(ROOT, 'tests/fixtures/tiny');
const read = (p) => fs.readFileSync(p);

// ----- safetensors, taken apart and put back together -------------------------------------------------

/** { meta, tensors: Map(name → { dtype, shape, bytes }) } in file order. */
function parse(buf) {
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const data = buf.subarray(8 + n);
  const tensors = new Map();
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__').sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  for (const [name, t] of entries) tensors.set(name, { dtype: t.dtype, shape: [...t.shape], bytes: Buffer.from(data.subarray(t.data_offsets[0], t.data_offsets[1])) });
  return { meta: { ...header.__metadata__ }, tensors };
}

/** A safetensors file from parts; `header` may override the JSON text entirely. */
function build({ meta, tensors }, { header } = {}) {
  const h = { __metadata__: meta };
  let off = 0;
  for (const [name, t] of tensors) {
    h[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  const json = Buffer.from(header ?? JSON.stringify(h), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...[...tensors.values()].map((t) => t.bytes)]);
}

const clone = (m) => ({ meta: { ...m.meta }, tensors: new Map([...m.tensors].map(([k, t]) => [k, { ...t, shape: [...t.shape], bytes: Buffer.from(t.bytes) }])) });
const withLength = (buf, n) => { const b = Buffer.from(buf); b.writeBigUInt64LE(BigInt(n), 0); return b; };

/** The first tensor stored as `dtype`, or null. */
const firstOf = (m, dtype) => [...m.tensors].find(([, t]) => t.dtype === dtype)?.[0] ?? null;

/** Writes a non-finite value into `name`'s first element, in its storage dtype. */
function poison(m, name, kind) {
  const t = m.tensors.get(name);
  if (t.dtype === 'F32') t.bytes.writeFloatLE(kind === 'nan' ? NaN : kind === 'inf' ? Infinity : -Infinity, 0);
  else if (t.dtype === 'F16') t.bytes.writeUInt16LE(kind === 'nan' ? 0x7e00 : kind === 'inf' ? 0x7c00 : 0xfc00, 0);
  else throw new Error(`cannot poison ${t.dtype}`);
}

/** Every bad weights file: [label, bytes, what the message must say]. */
function badWeights(good) {
  const base = parse(good);
  const n = Number(good.readBigUInt64LE(0));
  const out = [
    ['empty file', Buffer.alloc(0), /expected at least 8/],
    ['3 bytes', good.subarray(0, 3), /expected at least 8/],
    ['only the length prefix', good.subarray(0, 8), /header length/],
    ['truncated in the header', good.subarray(0, 8 + (n >> 1)), /header length/],
    ['truncated right after the header', good.subarray(0, 8 + n), /tensor `.+`|offsets|data|bytes/i],
    ['truncated in the data', good.subarray(0, 8 + n + ((good.length - 8 - n) >> 1)), /tensor `.+`|data|bytes/i],
    ['one byte short', good.subarray(0, good.length - 1), /tensor `.+`|data|bytes/i],
    ['one byte too many', Buffer.concat([good, Buffer.from([0])]), /tensor `.+`|data|unused|bytes/i],
    ['header length 2^40', withLength(good, 2 ** 40), /header length: expected at most/],
    ['header length 2^64-1', (() => { const b = Buffer.from(good); b.writeBigUInt64LE(0xffffffffffffffffn, 0); return b; })(), /header length: expected at most/],
    ['header length past the end by one', withLength(good, good.length - 8 + 1), /header length/],
    ['header length zero', withLength(good, 0), /header/],
    ['header is not JSON', build(base, { header: '{"__metadata__": {"format": ' }), /header: expected a JSON object, found invalid JSON/],
    ['header is a JSON array', build(base, { header: '[1, 2, 3]' }), /header/],
    ['header is not UTF-8', (() => { const b = build(base); b[8 + 3] = 0xff; return b; })(), /header/],
    ['oversized header (17 MiB of spaces)', build(base, { header: JSON.stringify({ __metadata__: base.meta }) + ' '.repeat(17 << 20) }), /header length: expected at most/],
  ];
  const variant = (label, re, edit) => { const m = clone(base); edit(m); out.push([label, build(m), re]); };
  variant('no metadata', /metadata `format`|__metadata__/, (m) => { m.meta = {}; });
  variant('wrong format', /metadata `format`: expected/, (m) => { m.meta.format = 'gguf/3'; });
  variant('config is not JSON', /metadata `config`/, (m) => { m.meta.config = '{vocab_size: 360'; });
  variant('config with d_model ≠ n_heads × d_head', /metadata `config`/, (m) => { const c = JSON.parse(m.meta.config); c.n_heads += 1; m.meta.config = JSON.stringify(c); });
  variant('config with a huge vocabulary', /metadata `config`|tensor `tok_emb`/, (m) => { const c = JSON.parse(m.meta.config); c.vocab_size = 2 ** 40; m.meta.config = JSON.stringify(c); });
  variant('config with zero layers', /metadata `config`/, (m) => { const c = JSON.parse(m.meta.config); c.n_layers = 0; m.meta.config = JSON.stringify(c); });
  variant('a tensor renamed', /tensor `tok_embeddings`: expected only the tensors|tensor `tok_emb`: expected shape/, (m) => {
    m.tensors = new Map([...m.tensors].map(([k, t]) => [k === 'tok_emb' ? 'tok_embeddings' : k, t]));
  });
  variant('a tensor missing', /tensor `ln_f.bias`: expected shape \[\d+\], found no such tensor/, (m) => { m.tensors.delete('ln_f.bias'); });
  variant('an extra tensor', /tensor `layers.0.attn.b_q`: expected only the tensors/, (m) => { m.tensors.set('layers.0.attn.b_q', { dtype: 'F32', shape: [4], bytes: Buffer.alloc(16) }); });
  variant('a tensor with the wrong shape', /tensor `ln_f.weight`: expected shape \[\d+\], found \[\d+, \d+\]/, (m) => { const t = m.tensors.get('ln_f.weight'); t.shape = [t.shape[0] / 2, 2]; });
  if (base.tensors.has('pos_emb')) {
    variant('transposed pos_emb', /tensor `pos_emb`: expected shape/, (m) => { const t = m.tensors.get('pos_emb'); t.shape = [...t.shape].reverse(); if (t.shape[0] === t.shape[1]) t.shape = [t.shape[0] * 2, t.shape[1] / 2]; });
  } else {
    // rotary positions: a position table has no place in the file
    variant('a pos_emb in a rotary model', /tensor `pos_emb`: expected no such tensor \(a model with rotary positions has no position table/, (m) => {
      const c = JSON.parse(m.meta.config);
      m.tensors.set('pos_emb', { dtype: 'F32', shape: [c.context, c.d_model], bytes: Buffer.alloc(c.context * c.d_model * 4) });
    });
  }
  for (const dtype of ['F64', 'BF16', 'I32', 'U8', 'BOOL', 'f32', '']) {
    variant(`dtype ${JSON.stringify(dtype)}`, /tensor `ln_f.bias`: expected dtype .+, found/, (m) => { m.tensors.get('ln_f.bias').dtype = dtype; });
  }
  variant('an I8 1-D tensor', /tensor `ln_f.bias`: expected dtype/, (m) => { const t = m.tensors.get('ln_f.bias'); t.dtype = 'I8'; t.bytes = t.bytes.subarray(0, t.shape[0]); });
  for (const dtype of ['F32', 'F16']) {
    const name = firstOf(base, dtype);
    if (!name) continue;
    for (const kind of ['nan', 'inf', '-inf']) variant(`${kind} in ${dtype} tensor ${name}`, new RegExp(`tensor \`${name.replace(/\./g, '\\.')}\`: expected finite values, found ${kind === 'nan' ? 'NaN' : kind === 'inf' ? 'inf' : '-inf'}`), (m) => poison(m, name, kind));
  }
  // finite, so the reader accepts every value, but the forward pass overflows f32 (found by fuzzing)
  // (an I8 tensor's scale of 3e38 already overflows when the reader expands it, and says so)
  variant('every F32 value ±3e38', /expected values that 32-bit floats can compute with, found (NaN|inf|-inf) in |expected finite values, found -?inf/, (m) => {
    for (const t of m.tensors.values()) if (t.dtype === 'F32') for (let i = 0; i < t.bytes.length; i += 4) t.bytes.writeFloatLE(i % 8 ? -3e38 : 3e38, i);
  });
  const i8 = firstOf(base, 'I8');
  if (i8) variant(`NaN scale of I8 tensor ${i8}`, new RegExp(`tensor \`${i8.replace(/\./g, '\\.')}(\\.scale)?\`: expected finite values`), (m) => poison(m, `${i8}.scale`, 'nan'));
  // offsets edited in the header (the data left as it is)
  const editHeader = (label, re, fn) => {
    const h = JSON.parse(good.subarray(8, 8 + n).toString('utf8'));
    fn(h);
    const json = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    out.push([label, Buffer.concat([len, json, good.subarray(8 + n)]), re]);
  };
  editHeader('offsets past the end', /tensor `ln_f.bias`/, (h) => { h['ln_f.bias'].data_offsets = [good.length * 4, good.length * 4 + 64]; });
  editHeader('inverted offsets', /tensor `ln_f.bias`/, (h) => { const [a, b] = h['ln_f.bias'].data_offsets; h['ln_f.bias'].data_offsets = [b, a]; });
  editHeader('offsets as strings', /tensor `ln_f.bias`|header/, (h) => { h['ln_f.bias'].data_offsets = h['ln_f.bias'].data_offsets.map(String); });
  editHeader('negative shape', /tensor `ln_f.bias`|header/, (h) => { h['ln_f.bias'].shape = [-16]; });
  editHeader('two tensors on the same bytes', /tensor `.+`/, (h) => { h['ln_f.bias'].data_offsets = [...h['ln_f.weight'].data_offsets]; });
  return out;
}

/** Every bad tokenizer: [label, bytes, what the message must say]. */
function badTokenizers(good) {
  const j = JSON.parse(good.toString('utf8'));
  const edit = (fn) => { const c = structuredClone(j); fn(c); return Buffer.from(JSON.stringify(c)); };
  return [
    ['empty tokenizer', Buffer.alloc(0), /tokenizer.json: expected JSON/],
    ['tokenizer truncated', good.subarray(0, good.length >> 1), /tokenizer.json: expected JSON/],
    ['tokenizer is an array', Buffer.from('[]'), /expected a JSON object, found/],
    ['tokenizer is not UTF-8', Buffer.concat([good.subarray(0, 20), Buffer.from([0xff, 0xfe]), good.subarray(20)]), /tokenizer.json/],
    ['WordPiece model', edit((c) => { c.model.type = 'WordPiece'; }), /model\.type: expected "BPE"/],
    ['vocabulary missing', edit((c) => { delete c.model.vocab; }), /model\.vocab: expected an object/],
    ['a single byte missing from the vocabulary', edit((c) => { const k = Object.keys(c.model.vocab).find((x) => [...x].length === 1 && c.model.vocab[x] === 1); delete c.model.vocab[k]; }), /vocab|byte|id/i],
    ['a merge of unknown tokens', edit((c) => { c.model.merges.unshift(Array.isArray(c.model.merges[0]) ? ['zzqq', 'xxyy'] : 'zzqq xxyy'); }), /merge/i],
    ['a normalizer', edit((c) => { c.normalizer = { type: 'NFC' }; }), /normalizer: expected null/],
    ['a prefix space', edit((c) => { const bl = c.pre_tokenizer.type === 'ByteLevel' ? c.pre_tokenizer : c.pre_tokenizer.pretokenizers[1]; bl.add_prefix_space = true; }), /add_prefix_space: expected false/],
  ];
}

// ----- the browser side --------------------------------------------------------------------------------

let env, page;
before(async () => {
  env = await start();
  page = await env.page('/index.html#step=tokens');
  await page.evaluate(async () => {
    const mod = await import('/pkg/attention_explorer.js');
    await mod.default({ module_or_path: '/pkg/attention_explorer_bg.wasm' });
    window.__mod = mod;
  });
});
after(async () => { await env.close(); });

/** In the page: tries explorer.load(w, t) and Explorer.fromBytes(w, t) on the current explorer. */
async function tryLoad(w, t) {
  return page.evaluate(([w64, t64]) => {
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const ex = window.__explorer;
    const before = ex.info().name;
    const probe = 'the cat sat on the mat';
    const a0 = ex.analyze(probe, null);
    const res = { before };
    try { ex.load(bytes(w64), bytes(t64)); res.load = 'accepted'; } catch (e) { res.load = { type: e.constructor.name, message: String(e.message) }; }
    try { window.__mod.Explorer.fromBytes(bytes(w64), bytes(t64)).free(); res.fromBytes = 'accepted'; } catch (e) { res.fromBytes = { type: e.constructor.name, message: String(e.message) }; }
    res.after = ex.info().name;
    const a1 = ex.analyze(probe, null);
    res.same = a0.tokens.length === a1.tokens.length && a0.predict.probs.data.every((v, i) => v === a1.predict.probs.data[i])
      && a0.layers[0].heads[0].weights.data.every((v, i) => v === a1.layers[0].heads[0].weights.data[i]);
    return res;
  }, [w.toString('base64'), t.toString('base64')]);
}

/** Loads a good model into window.__explorer (new one from bytes) and returns its name. */
const useModel = (w, t) => page.evaluate(([w64, t64]) => {
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  if (window.__explorer) window.__explorer.free();
  window.__explorer = window.__mod.Explorer.fromBytes(bytes(w64), bytes(t64));
  return window.__explorer.info().name;
}, [w.toString('base64'), t.toString('base64')]);

function assertRefused(r, label, re) {
  for (const how of ['load', 'fromBytes']) {
    assert.notEqual(r[how], 'accepted', `${label}: ${how} accepted a bad file`);
    assert.equal(r[how].type, 'Error', `${label}: ${how} threw ${r[how].type}, not an Error with a message`);
    assert.match(r[how].message, re, `${label}: ${how}'s message does not say what is wrong: ${r[how].message}`);
    assert.doesNotMatch(r[how].message, /unreachable|RuntimeError|panicked|undefined/, `${label}: a crash, not a message`);
  }
  assert.equal(r.after, r.before, `${label}: the model in use changed`);
  assert.equal(r.same, true, `${label}: the analysis changed after the refused load`);
}

const MODELS = [
  ['tiny 2-layer (F32/F16/I8 mixed)', path.join(TINY, 'model.safetensors'), path.join(TINY, 'tokenizer.json')],
  ['tiny attention-only (F32)', path.join(TINY, 'attn_only.safetensors'), path.join(TINY, 'tokenizer.json')],
  ['the shipped model', path.join(ROOT, 'model/model.safetensors'), path.join(ROOT, 'model/tokenizer.json')],
].filter(([, w, t]) => fs.existsSync(w) && fs.existsSync(t));

for (const [label, wPath, tPath] of MODELS) {
  test(`bad weights files built from ${label} are refused and the previous model stays`, async () => {
    const w = read(wPath), t = read(tPath);
    // the previously loaded model is a different one, so "stays" is not "fell back to the built-in"
    const other = MODELS.find(([, ww]) => ww !== wPath) ?? MODELS[0];
    const name = await useModel(read(other[1]), read(other[2]));
    const cases = badWeights(w);
    assert.ok(cases.length > 40);
    for (const [what, bytes, re] of cases) assertRefused(await tryLoad(bytes, t), `${label}, ${what}`, re);
    assert.equal(await page.evaluate(() => window.__explorer.info().name), name);
    // and the good file loads after all that
    assert.equal((await tryLoad(w, t)).load, 'accepted');
    env.assertClean(page);
  });
}

test('bad tokenizers and a tokenizer that does not match the weights are refused', async () => {
  const w = read(path.join(TINY, 'model.safetensors'));
  const t = read(path.join(TINY, 'tokenizer.json'));
  await useModel(read(path.join(TINY, 'attn_only.safetensors')), t);
  for (const [what, bytes, re] of badTokenizers(t)) assertRefused(await tryLoad(w, bytes), what, re);
  // the weights' vocabulary is smaller than the tokenizer's: tokens would index past the embeddings
  const m = parse(w);
  const c = JSON.parse(m.meta.config);
  const V = 300;
  c.vocab_size = V;
  m.meta.config = JSON.stringify(c);
  const emb = m.tensors.get('tok_emb');
  const per = emb.bytes.length / emb.shape[0];
  emb.shape = [V, emb.shape[1]];
  emb.bytes = emb.bytes.subarray(0, V * per);
  if (m.tensors.has('tok_emb.scale')) { const s = m.tensors.get('tok_emb.scale'); s.shape = [V]; s.bytes = s.bytes.subarray(0, V * 4); }
  const small = build(m);
  assertRefused(await tryLoad(small, t), 'tokenizer bigger than the weights', /the tokenizer does not match the weights: the weights have 300 token embeddings, the tokenizer has 360 tokens/);
  // a weights file given as the tokenizer and the other way round
  assertRefused(await tryLoad(t, w), 'files swapped', /weights file cannot be used/);
  assertRefused(await tryLoad(w, w), 'weights as the tokenizer', /tokenizer file cannot be used/);
  env.assertClean(page);
});

test('the element keeps its built-in model and keeps analysing after refused loads in the same page', async () => {
  await page.waitForFunction(() => document.querySelector('attention-explorer')?.trace);
  const name = await page.evaluate(() => document.querySelector('attention-explorer').model.name);
  await page.evaluate(() => { document.querySelector('attention-explorer').text = 'we sat on the river bank'; });
  await page.waitForFunction(() => document.querySelector('attention-explorer').trace?.tokens.filter((x) => !x.special).map((x) => x.text).join('') === 'we sat on the river bank');
  assert.equal(await page.evaluate(() => document.querySelector('attention-explorer').model.name), name);
  env.assertClean(page);
});
