// dist/ (issue 5): what `./build.sh dist` ships. The test builds it itself (`node tools/dist.mjs`, which
// needs www/pkg from `./build.sh build`), then checks the file set and package.json (npm pack, Node's
// resolution of `import 'attention-explorer'`), the module from an arbitrary directory of another site
// (plain script tag and import map), the size budget, and the single file: from file://, on a host
// that cannot serve .wasm, and under the strict Content-Security-Policy.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { start, allReady, checkRealValues, ROOT } from './helpers.mjs';

const DIST = path.join(ROOT, 'dist');
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const BUDGET_GZ = 1.5 * 1024 * 1024;

let tmp, site, env;

const listFiles = (dir, base = dir) => fs.readdirSync(dir, { withFileTypes: true })
  .flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), base) : [path.relative(base, path.join(dir, d.name)).split(path.sep).join('/')]))
  .sort();

const write = (rel, text) => {
  const file = path.join(site, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
};

const page = (head, body) => `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>host</title>${head}</head><body>${body}</body></html>\n`;

before(async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'tools/dist.mjs')], { cwd: ROOT, stdio: 'pipe' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-dist-'));
  // Another site: the widget's files under an unrelated directory, pages elsewhere.
  site = path.join(tmp, 'site');
  fs.cpSync(DIST, path.join(site, 'static/vendor/ae'), { recursive: true });
  write('lessons/week-1/attention.html', page('<script type="module" src="/static/vendor/ae/attention-explorer.js"></script>',
    '<attention-explorer id="a" text="the river bank" step="weights" controls="minimal"></attention-explorer>'
    + '<attention-explorer id="b" text="a bank account" step="predict" controls="none"></attention-explorer>'));
  write('lessons/week-1/import-map.html', page('<script type="importmap">{"imports": {"attention-explorer": "/static/vendor/ae/attention-explorer.js", "attention-explorer/define": "/static/vendor/ae/define.js"}}</script>'
    + '<script type="module" src="import-map.js"></script>', '<my-explorer text="hello world" step="scores" controls="none"></my-explorer>'));
  write('lessons/week-1/import-map.js', "import { define } from 'attention-explorer/define';\nimport 'attention-explorer';\ndefine('my-explorer');\n");
  write('favicon.ico', fs.readFileSync(path.join(ROOT, 'www/favicon.svg'))); // browsers ask for it; a 404 would be a console error
  // A host that cannot serve .wasm: only the single file, copied under another name.
  write('nowasm/js/explorer.js', fs.readFileSync(path.join(DIST, 'attention-explorer.single.js')));
  write('nowasm/page.html', page('<script src="js/explorer.js"></script>',
    '<attention-explorer text="the cat sat on the mat" step="masked"></attention-explorer><attention-explorer text="on the mat" step="tokens" controls="none"></attention-explorer>'));
  write('nowasm/strict.html', page('<script src="js/explorer.js" defer></script>', '<attention-explorer text="strict hosts" step="weights"></attention-explorer>'));
  env = await start({ root: site, headers: { '/nowasm/strict.html': { 'Content-Security-Policy': CSP } } });
});

after(async () => {
  if (env) await env.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('dist/ holds only what a site needs', () => {
  const files = listFiles(DIST);
  const steps = fs.readdirSync(path.join(ROOT, 'www/steps')).filter((f) => f.endsWith('.js')).map((f) => `steps/${f}`);
  for (const must of ['attention-explorer.js', 'define.js', 'engine.js', 'attention-explorer.single.js', 'embed.html', 'embed.js',
    'pkg/attention_explorer.js', 'pkg/attention_explorer_bg.wasm', 'LICENSE', 'README.md', 'package.json', ...steps]) {
    assert.ok(files.includes(must), `dist/ has ${must}`);
  }
  for (const f of files) assert.doesNotMatch(f, /index\.html|page\.js|style\.css|examples\/|\.d\.ts$|\.map$|\.gitignore/, `dist/ should not ship ${f}`);
  // Every relative import of every shipped module resolves to a shipped file.
  for (const f of files.filter((x) => x.endsWith('.js') && x !== 'attention-explorer.single.js')) {
    const src = fs.readFileSync(path.join(DIST, f), 'utf8');
    for (const m of src.matchAll(/(?:^import[^'"\n]*|^export[^'"\n]*from\s*|\bimport\()\s*['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), m[1]));
      assert.ok(files.includes(target), `${f} imports ${m[1]}, which dist/ does not have`);
    }
  }
  // The shipped modules are www/'s, byte for byte (what the page tests test is what ships).
  for (const f of files.filter((x) => x.endsWith('.js') && !x.startsWith('pkg/') && x !== 'attention-explorer.single.js')) {
    assert.ok(fs.readFileSync(path.join(DIST, f)).equals(fs.readFileSync(path.join(ROOT, 'www', f))), `${f} differs from www/${f}`);
  }
});

test('package.json: publishable, `import "attention-explorer"` resolves, npm pack ships every file', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(DIST, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'attention-explorer');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.license, 'MIT');
  assert.match(pkg.version, /^\d+\.\d+\.\d+/);
  assert.equal(pkg.exports['.'], './attention-explorer.js');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: DIST, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  // dist/ is what a site deploys; npm gets all of it but the large model's GGUF (98 MB; its licence and data card ship)
  const gguf = listFiles(DIST).filter((f) => f.endsWith('.gguf'));
  assert.deepEqual(gguf, fs.existsSync(path.join(ROOT, 'www/models/smollm2-135m.Q4_1.gguf')) ? ['models/smollm2-135m.Q4_1.gguf'] : []);
  assert.deepEqual(packed[0].files.map((f) => f.path).sort(), listFiles(DIST).filter((f) => !f.endsWith('.gguf')), 'npm pack includes exactly dist/ but the GGUF');
  // Node resolves the bare specifier and the subpaths through `exports` (resolution only: the module
  // itself needs a browser).
  const app = path.join(tmp, 'app');
  fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  fs.symlinkSync(DIST, path.join(app, 'node_modules/attention-explorer'), 'dir');
  fs.writeFileSync(path.join(app, 'resolve.mjs'), "for (const s of ['attention-explorer', 'attention-explorer/define', 'attention-explorer/single', 'attention-explorer/embed.html']) console.log(import.meta.resolve(s));\n");
  const resolved = execFileSync(process.execPath, ['--preserve-symlinks', 'resolve.mjs'], { cwd: app, encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(resolved.map((u) => u.replace(/^.*node_modules\/attention-explorer\//, '')),
    ['attention-explorer.js', 'define.js', 'attention-explorer.single.js', 'embed.html']);
});

test('LICENSE is MIT and carries the built-in model’s data card', () => {
  const text = fs.readFileSync(path.join(DIST, 'LICENSE'), 'utf8');
  assert.match(text, /^MIT License/);
  assert.match(text, /Permission is hereby granted, free of charge/);
  const md = path.join(ROOT, 'model/MODEL.md');
  if (fs.existsSync(md)) {
    assert.ok(text.includes(fs.readFileSync(md, 'utf8').trim()), 'LICENSE carries model/MODEL.md (licence, data, credits) in full');
  } else {
    assert.match(text, fs.existsSync(path.join(ROOT, 'model/model.safetensors')) ? /MODEL\.md .*did not exist/ : /tiny test model/);
  }
});

test('size: modules + wasm and the single file each fit the 1.5 MB gzipped budget', () => {
  const gz = (f) => zlib.gzipSync(fs.readFileSync(path.join(DIST, f)), { level: 9 }).length;
  const modules = listFiles(DIST).filter((f) => (f.endsWith('.js') || f.endsWith('.wasm')) && f !== 'attention-explorer.single.js' && f !== 'embed.js');
  const total = modules.reduce((n, f) => n + gz(f), 0);
  assert.ok(total <= BUDGET_GZ, `modules + wasm: ${total} bytes gzipped`);
  assert.ok(gz('attention-explorer.single.js') <= BUDGET_GZ, `single file: ${gz('attention-explorer.single.js')} bytes gzipped`);
});

test('the module from another site’s directory: wasm found next to the script, one load for two widgets', async () => {
  const from = env.served.length;
  const p = await env.page('/lessons/week-1/attention.html');
  await allReady(p);
  assert.deepEqual(await checkRealValues(p), []);
  const served = env.served.slice(from).map((f) => f.path);
  assert.deepEqual(served.filter((f) => f.endsWith('.wasm')), ['/static/vendor/ae/pkg/attention_explorer_bg.wasm']);
  assert.equal(served.filter((f) => f.endsWith('/attention-explorer.js')).length, 1);
  assert.equal(await p.evaluate(() => { const [a, b] = document.querySelectorAll('attention-explorer'); return a._engine === b._engine; }), true);
  env.assertClean(p);
});

test('import "attention-explorer" through an import map, and define() under another tag', async () => {
  const p = await env.page('/lessons/week-1/import-map.html');
  await p.waitForFunction(() => document.querySelector('my-explorer')?.trace, null, { timeout: 20000 });
  const r = await p.evaluate(() => {
    const el = document.querySelector('my-explorer');
    return { tokens: el.trace.tokens.filter((t) => !t.special).map((t) => t.text).join(''), step: el.shadowRoot.querySelector('section').dataset.step, def: !!customElements.get('attention-explorer') };
  });
  assert.deepEqual(r, { tokens: 'hello world', step: 'scores', def: true });
  env.assertClean(p);
});

test('the single file where .wasm cannot be hosted: no .wasm request, two widgets share one engine', async () => {
  const p = await env.page('/nowasm/page.html', { goto: false });
  const requests = [];
  p.on('request', (r) => requests.push(r.url()));
  await p.route('**/*.wasm', (route) => route.abort());
  await p.goto(`${env.origin}/nowasm/page.html`);
  await allReady(p);
  assert.deepEqual(await checkRealValues(p), []);
  assert.deepEqual(requests.map((u) => new URL(u).pathname).filter((x) => x !== '/favicon.ico'), ['/nowasm/page.html', '/nowasm/js/explorer.js']);
  const r = await p.evaluate(() => {
    const [a, b] = document.querySelectorAll('attention-explorer');
    return { shared: a._engine === b._engine, global: typeof window.AttentionExplorer, cls: customElements.get('attention-explorer') === window.AttentionExplorer };
  });
  assert.deepEqual(r, { shared: true, global: 'function', cls: true });
  env.assertClean(p);
});

test('the single file under the strict Content-Security-Policy', async () => {
  const p = await env.page('/nowasm/strict.html', { goto: false });
  await p.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const res = await p.goto(`${env.origin}/nowasm/strict.html`);
  assert.equal(res.headers()['content-security-policy'], CSP);
  await allReady(p);
  assert.deepEqual(await checkRealValues(p), []);
  assert.deepEqual(await p.evaluate(() => window.__violations), []);
  env.assertClean(p);
});

test('the single-file example works from file://', async () => {
  const p = await env.page('/', { goto: false });
  const requests = [];
  p.on('request', (r) => requests.push(r.url()));
  await p.goto(`file://${path.join(ROOT, 'www/examples/single-file.html')}`);
  await allReady(p);
  assert.deepEqual(await checkRealValues(p), []);
  assert.deepEqual(requests.filter((u) => !u.startsWith(`file://${ROOT}/`)), [], 'nothing but the local files');
  assert.ok(requests.includes(`file://${ROOT}/dist/attention-explorer.single.js`));
  // The helpers count requests outside the test server as problems; here the file:// ones are expected.
  const problems = p.problems.filter((x) => !x.startsWith(`outside request: file://${ROOT}/`));
  assert.deepEqual(problems, []);
  assert.equal(await p.evaluate(() => location.protocol), 'file:');
});
