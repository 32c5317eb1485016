// Builds dist/: what a site (or npm) needs to embed <attention-explorer>, and nothing else.
//
//   node tools/dist.mjs [--out DIR]      (after `./build.sh build` has written www/pkg/; `./build.sh dist` does both)
//
// dist/
//   attention-explorer.js, define.js, element/*.js, engine.js, …, steps/*.js   the ES modules, exactly as in www/
//                                       (the module graph is followed from the entry points, so only what they import
//                                       is copied)
//   pkg/attention_explorer.js, pkg/attention_explorer_bg.wasm    the wasm-bindgen glue and the wasm (the built-in
//                                       model is compiled into the wasm)
//   attention-explorer.single.js        one classic script: every module above and the wasm (base64) in one file;
//                                       works from file:// and on hosts that cannot serve .wasm
//   embed.html, embed.js, favicon.svg   the iframe page (embed.html?text=…&step=…) and the icon it links
//   llm/worker.js, models/              the large model's Web Worker; SmolLM2-135M's licence, data card and (when
//                                       ./build.sh setup fetched it) its GGUF, beside the modules (npm: the texts)
//   package.json, README.md, LICENSE    for npm: `import 'attention-explorer'`
//
// No bundler: the single file is made by a small linker for the plain ES modules this project writes
// (static `import {…} from`, `import * as`, `export <declaration>`, `export {…}`); anything else is an
// error naming the file and the statement, so a new construct cannot be silently mis-linked.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WWW = path.join(ROOT, 'www');
const ENTRY = 'attention-explorer.js';
const ENTRIES = [ENTRY, 'define.js', 'embed.js'];
const GLUE = 'pkg/attention_explorer.js';
const WASM = 'pkg/attention_explorer_bg.wasm';
const ENGINE = 'engine.js';
const SINGLE = 'attention-explorer.single.js';
const LLM_WORKER = 'llm/worker.js';
const MODEL_TEXTS = ['models/LICENSE-SmolLM2-135M.txt', 'models/smollm2-135m.md'];
const MODEL_FILE = 'models/smollm2-135m.Q4_1.gguf';

function fail(msg) {
  console.error(`tools/dist.mjs: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  let out = path.join(ROOT, 'dist');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out = path.resolve(argv[++i]);
    else fail(`expected no arguments or --out DIR, found ${JSON.stringify(argv[i])}`);
  }
  return { out };
}

const read = (rel) => {
  const file = path.join(WWW, rel);
  if (!fs.existsSync(file)) fail(`expected ${path.relative(ROOT, file)} to exist${rel.startsWith('pkg/') ? ' (run ./build.sh build first)' : ''}, found nothing`);
  return fs.readFileSync(file, 'utf8');
};

// ----- the module graph ------------------------------------------------------------------------------

const STATIC_IMPORT = /^import\s+(?:(\*\s+as\s+[\w$]+|\{[^}]*\})\s+from\s+)?(['"])([^'"]+)\2\s*;?[ \t]*$/gm;
const REEXPORT = /^export\s+\{([^}]*)\}\s+from\s+(['"])([^'"]+)\2\s*;?[ \t]*$/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*(['"])([^'"]+)\1\s*\)/g;

const resolveRel = (from, spec) => {
  if (!spec.startsWith('./') && !spec.startsWith('../')) fail(`${from}: expected relative imports only, found ${JSON.stringify(spec)}`);
  const rel = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  if (rel.startsWith('../')) fail(`${from}: import ${JSON.stringify(spec)} leaves www/`);
  return rel;
};

/** Every module reachable from `entries` (static and literal dynamic imports), with its direct deps. */
function moduleGraph(entries) {
  const graph = new Map();
  const todo = [...entries];
  while (todo.length) {
    const rel = todo.pop();
    if (graph.has(rel)) continue;
    const src = read(rel);
    const deps = new Set();
    for (const re of [STATIC_IMPORT, REEXPORT]) for (const m of src.matchAll(re)) deps.add(resolveRel(rel, m[3]));
    const dynamic = new Set([...src.matchAll(DYNAMIC_IMPORT)].map((m) => resolveRel(rel, m[2])));
    graph.set(rel, { src, deps: [...deps], dynamic: [...dynamic] });
    todo.push(...deps, ...dynamic);
  }
  return graph;
}

/** Dependencies before dependents; a cycle is an error (the linker binds imports by value). */
function topoOrder(graph, entries) {
  const order = [], state = new Map();
  const visit = (rel, trail) => {
    if (state.get(rel) === 'done') return;
    if (state.get(rel) === 'active') fail(`expected no import cycles, found ${[...trail, rel].join(' → ')}`);
    state.set(rel, 'active');
    for (const d of graph.get(rel).deps) visit(d, [...trail, rel]);
    state.set(rel, 'done');
    order.push(rel);
  };
  for (const e of entries) visit(e, []);
  for (const rel of graph.keys()) visit(rel, []);
  return order;
}

// ----- the linker ------------------------------------------------------------------------------------

const names = (list, file, stmt) => list.split(',').map((x) => x.trim()).filter(Boolean).map((x) => {
  const m = /^([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(x);
  if (!m) fail(`${file}: cannot link ${JSON.stringify(stmt)}`);
  return { local: m[1], exported: m[2] ?? m[1] };
});

/**
 * One module as a function scope: imports become bindings to earlier modules' export objects, `export`
 * keywords are dropped and the exports returned as getters (so `let` exports stay live).
 */
function linkModule(rel, src, ids) {
  const exports = [];
  const head = [];
  const v = (dep) => ids.get(resolveRel(rel, dep));
  let body = src.replace(STATIC_IMPORT, (stmt, clause, _q, spec) => {
    if (!clause) return '';
    if (clause.startsWith('*')) { head.push(`const ${clause.replace(/^\*\s+as\s+/, '')} = ${v(spec)};`); return ''; }
    const bound = names(clause.slice(1, -1), rel, stmt).map((n) => (n.local === n.exported ? n.local : `${n.local}: ${n.exported}`));
    head.push(`const { ${bound.join(', ')} } = ${v(spec)};`);
    return '';
  });
  body = body.replace(REEXPORT, (stmt, list, _q, spec) => {
    for (const n of names(list, rel, stmt)) {
      const tmp = `__reexport_${n.exported}`;
      head.push(`const ${tmp} = ${v(spec)}.${n.local};`);
      exports.push({ local: tmp, exported: n.exported });
    }
    return '';
  });
  body = body.replace(/^export\s+\{([^}]*)\}\s*;?[ \t]*$/gm, (stmt, list) => { exports.push(...names(list, rel, stmt)); return ''; });
  body = body.replace(/^export\s+(?=(?:async\s+function\*?|function\*?|class|const|let|var)\s)/gm, (stmt, offset) => {
    const rest = body.slice(offset + stmt.length);
    const m = /^(?:async\s+function\*?|function\*?|class|const|let|var)\s+([\w$]+)/.exec(rest);
    if (m) { exports.push({ local: m[1], exported: m[1] }); return ''; }
    // `export const { a, b: c } = …` (flat object patterns only)
    const d = /^(?:const|let|var)\s*\{([^{}]*)\}\s*=/.exec(rest);
    if (!d) fail(`${rel}: cannot link the export at ${JSON.stringify(rest.slice(0, 60))}`);
    for (const part of d[1].split(',').map((x) => x.trim()).filter(Boolean)) {
      const n = /^(?:[\w$]+\s*:\s*)?([\w$]+)(?:\s*=.*)?$/.exec(part);
      if (!n) fail(`${rel}: cannot link the destructured export ${JSON.stringify(part)}`);
      exports.push({ local: n[1], exported: n[1] });
    }
    return '';
  });
  const left = /^(?:import\s|export\s)/m.exec(body);
  if (left) fail(`${rel}: cannot link ${JSON.stringify(body.slice(left.index, body.indexOf('\n', left.index)))}`);
  // Literal dynamic imports of bundled modules resolve to the bundled module.
  body = body.replace(DYNAMIC_IMPORT, (_m, _q, spec) => `Promise.resolve(${v(spec)})`);
  // A classic script has no import.meta: module URLs resolve against the script's own URL.
  body = body.replace(/\bimport\.meta\.url\b/g, '__AE_SCRIPT_URL__');
  const getters = exports.map((e) => `get ${e.exported}() { return ${e.local}; }`).join(', ');
  return `// ---- ${rel}\nconst ${ids.get(rel)} = (() => {\n${head.join('\n')}\n${body.trim()}\nreturn Object.freeze({ __proto__: null, ${getters} });\n})();\n`;
}

/** The glue module linked as `const id = (() => {…})();` becomes a factory `id__fresh` (each call a new copy,
 * whose module-scoped wasm state is its own) and `const id = id__fresh();`. */
function freshable(linked, id) {
  const head = `const ${id} = (() => {`;
  if (!linked.includes(head) || !linked.trimEnd().endsWith('})();')) fail(`expected the linked glue to start with ${JSON.stringify(head)}`);
  return `${linked.replace(head, `const ${id}__fresh = () => (() => {`).trimEnd()}\nconst ${id} = ${id}__fresh();\n`;
}

/** The self-contained classic script: every module, the wasm as base64, the engine loader switched to it. */
function singleFile(graph, wasm, banner) {
  const order = topoOrder(graph, [GLUE, ENTRY]).filter((rel) => rel !== 'embed.js');
  const ids = new Map(order.map((rel, i) => [rel, `__ae_m${i}_${rel.replace(/[^\w]/g, '_')}`]));
  const parts = [
    `${banner}\n(() => {\n'use strict';`,
    `// Where this script was loaded from (a classic script has no import.meta).`,
    `const __AE_SCRIPT_URL__ = (typeof document !== 'undefined' && document.currentScript && document.currentScript.src) || location.href;`,
    `// The wasm module (with the built-in model), base64; decoded once, when the first element connects.`,
    `const __AE_WASM_BASE64__ = '${wasm.toString('base64')}';`,
    `const __aeWasmBytes = () => {`,
    `  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(__AE_WASM_BASE64__);`,
    `  const s = atob(__AE_WASM_BASE64__), out = new Uint8Array(s.length);`,
    `  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);`,
    `  return out;`,
    `};`,
  ];
  for (const rel of order) {
    parts.push(rel === GLUE ? freshable(linkModule(rel, graph.get(rel).src, ids), ids.get(GLUE)) : linkModule(rel, graph.get(rel).src, ids));
    if (rel === ENGINE) {
      // attempt > 0: engine.js restarts after a trap and needs a new instance, so a new copy of the glue
      parts.push(`// The wasm comes from the bytes above (no fetch): works from file:// and where .wasm cannot be hosted.`,
        `${ids.get(ENGINE)}.setEngineLoader(async (attempt) => {\n  const glue = attempt > 0 ? ${ids.get(GLUE)}__fresh() : ${ids.get(GLUE)};\n  await glue.default({ module_or_path: __aeWasmBytes() });\n  return glue;\n});`);
    }
  }
  if (!ids.has(ENGINE)) fail(`expected ${ENTRY} to import ${ENGINE} (the loader the single file replaces), found no such import`);
  parts.push(`// The element's class, for pages that register it under another tag: AttentionExplorer.define('my-tag').`,
    `globalThis.AttentionExplorer = ${ids.get(ENTRY)}.AttentionExplorer;`, '})();\n');
  return parts.join('\n');
}

// ----- the files around the code ----------------------------------------------------------------------

function cargoField(name) {
  const m = new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, 'm').exec(fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8'));
  if (!m) fail(`expected Cargo.toml to have a ${name} field, found none`);
  return m[1];
}

/** The built-in model's data card, whole: its licence, data sources and credits travel with the wasm. */
function modelCard() {
  const file = path.join(ROOT, 'model/MODEL.md');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : null;
}

/** What LICENSE says when the data card is missing (the same choice as build.rs makes for the model). */
function missingCard() {
  if (fs.existsSync(path.join(ROOT, 'model/model.safetensors'))) {
    console.warn('tools/dist.mjs: warning: expected model/MODEL.md (the trained model\'s data card) for LICENSE, found none');
    return 'model/MODEL.md (the data card: corpus, licence, training) did not exist when this dist/ was built: see the\nproject\'s model/MODEL.md for the licence and credits of the data the built-in model was trained on.';
  }
  return 'The built-in model is the project\'s own tiny test model (tests/fixtures/tiny: seeded random weights, no\ntraining data), covered by the MIT licence above.';
}

function license(version) {
  const card = modelCard();
  return `MIT License

Copyright (c) 2026 the attention-explorer contributors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE
USE OR OTHER DEALINGS IN THE SOFTWARE.

-------------------------------------------------------------------------------------------------------
The built-in model (compiled into pkg/attention_explorer_bg.wasm and attention-explorer.single.js,
version ${version}): its data card, model/MODEL.md, with the licences and credits of its data
-------------------------------------------------------------------------------------------------------

${card ?? missingCard()}
`;
}

function packageJson(version, files) {
  return {
    name: 'attention-explorer',
    version,
    description: cargoField('description'),
    license: 'MIT',
    type: 'module',
    main: './attention-explorer.js',
    module: './attention-explorer.js',
    browser: './attention-explorer.js',
    exports: {
      '.': './attention-explorer.js',
      './define': './define.js',
      './define.js': './define.js',
      './element': './element/explorer.js',
      './single': './attention-explorer.single.js',
      './attention-explorer.single.js': './attention-explorer.single.js',
      './embed.html': './embed.html',
      './pkg/*': './pkg/*',
      './package.json': './package.json',
    },
    sideEffects: ['./attention-explorer.js', './define.js', './attention-explorer.single.js', './embed.js'],
    files,
    keywords: ['attention', 'transformer', 'webassembly', 'custom-element', 'web-component', 'teaching', 'visualization'],
  };
}

const README = (version, sizes) => `# attention-explorer ${version}

\`<attention-explorer>\`: a custom element that shows, step by step and with the real numbers, how attention
turns context-free token embeddings into context-rich ones. A tiny pretrained transformer runs in the
browser as WebAssembly; nothing is sent anywhere.

## Use it
\`\`\`html
<script type="module" src="attention-explorer.js"></script>
<attention-explorer text="a fluffy blue creature roamed the verdant forest" step="weights"></attention-explorer>
\`\`\`
The wasm is found next to the script (\`pkg/\`), wherever you put these files. Many elements on one page share
one loaded model.

- **One file** (from \`file://\`, or where \`.wasm\` cannot be hosted): \`<script src="attention-explorer.single.js"></script>\`
  (a classic script; the wasm is inside it).
- **An iframe**: \`<iframe src="embed.html?text=…&step=weights&controls=minimal"></iframe>\`; the frame posts
  \`{type: 'attention-explorer:height', height}\` to its parent whenever its height changes.
- **npm**: \`import 'attention-explorer';\` (defines the element), or
  \`import { define } from 'attention-explorer/define'; define('my-explorer');\` (browsers only: with server-side
  rendering, import it on the client).
- **Strict Content-Security-Policy**: works under \`default-src 'self'; script-src 'self' 'wasm-unsafe-eval';
  style-src 'self'\`.

Attributes (mirrored by properties): \`text\`, \`step\`, \`steps\`, \`layer\`, \`head\`, \`controls\` (full | minimal |
none), \`transpose\`, \`theme\` (light | dark | auto), \`height\`, and for lessons \`mode\` (explore | tour |
compare), \`stop\` (the tour stop, from 1), \`highlight\` (\`"forest→verdant"\` marks a cell), \`caption\` and
\`compare\` (the second sentence). Every change fires one bubbling
\`attention-explorer:change\` event whose \`detail\` is the new state.

Sizes (gzip -9): modules + wasm ${kb(sizes.modulesGz)}, single file ${kb(sizes.singleGz)}.

Licence: MIT; the built-in model's data and credits are in LICENSE.
`;

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;

// ----- main ------------------------------------------------------------------------------------------

const { out } = parseArgs(process.argv.slice(2));
const version = cargoField('version');
const graph = moduleGraph(ENTRIES);
if (!graph.has(GLUE)) fail(`expected the modules to import ${GLUE}, found no such import`);
const wasm = fs.readFileSync(path.join(WWW, WASM));
const banner = `/*! attention-explorer ${version} (single file: ES modules and wasm inlined) · MIT · see LICENSE for the built-in model's credits */`;
const single = singleFile(graph, wasm, banner);
try {
  new vm.Script(single, { filename: SINGLE });
} catch (e) {
  fail(`the linked single file is not a valid classic script: ${e.message}`);
}

fs.rmSync(out, { recursive: true, force: true });
const written = [];
const write = (rel, data) => {
  const file = path.join(out, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  written.push(rel);
};
for (const rel of [...graph.keys()].sort()) write(rel, graph.get(rel).src);
write(WASM, wasm);
write('embed.html', read('embed.html'));
write('favicon.svg', read('favicon.svg'));
// The large model's worker (started by llm/client.js, not imported) and models/: SmolLM2-135M's licence
// and data card, and its GGUF when ./build.sh setup has fetched it (a hard link, for sites; npm gets the
// two text files only).
write(LLM_WORKER, read(LLM_WORKER));
for (const rel of MODEL_TEXTS) write(rel, read(rel));
if (fs.existsSync(path.join(WWW, MODEL_FILE))) {
  fs.mkdirSync(path.join(out, 'models'), { recursive: true });
  try { fs.linkSync(path.join(WWW, MODEL_FILE), path.join(out, MODEL_FILE)); } catch { fs.copyFileSync(path.join(WWW, MODEL_FILE), path.join(out, MODEL_FILE)); }
}
write(SINGLE, single);
write('LICENSE', license(version));
const gz = (rels) => rels.reduce((n, rel) => n + zlib.gzipSync(fs.readFileSync(path.join(out, rel)), { level: 9 }).length, 0);
const moduleFiles = [...graph.keys()].filter((rel) => rel !== 'embed.js').concat(WASM);
const sizes = { modulesGz: gz(moduleFiles), singleGz: gz([SINGLE]) };
write('README.md', README(version, sizes));
const files = [...new Set(written.map((rel) => (rel.startsWith('models/') ? rel : rel.split('/')[0])))].sort();
write('package.json', JSON.stringify(packageJson(version, files), null, 2) + '\n');

const total = written.reduce((n, rel) => n + fs.statSync(path.join(out, rel)).size, 0);
console.log(`dist: ${written.length} files, ${kb(total)} in ${path.relative(process.cwd(), out) || '.'}; gzip -9: modules + wasm ${kb(sizes.modulesGz)}, single file ${kb(sizes.singleGz)}`);
