// Accessibility: axe-core against the walkthrough page (every step at once, the lines view, the transposed
// axes, ablations on) and every page in www/examples/, in light and dark theme, at 1280 px and 375 px:
// zero serious or critical violations. A keyboard-only walk: Tab reaches every control of the widget with
// a visible focus ring, Enter/Space operate them, ←/→ walk the steps, and every step can be reached.
// Screen-reader alternatives: every drawn matrix has a label and a table of its numbers.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, ready, ROOT, WWW, stepsFor } from './helpers.mjs';

const AXE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
const EXAMPLES = fs.existsSync(path.join(WWW, 'examples')) ? fs.readdirSync(path.join(WWW, 'examples')).filter((f) => f.endsWith('.html')).sort() : [];
const CONFIGS = [
  { name: 'light, 1280 px', viewport: { width: 1280, height: 900 }, colorScheme: 'light' },
  { name: 'dark, 1280 px', viewport: { width: 1280, height: 900 }, colorScheme: 'dark' },
  { name: 'light, 375 px', viewport: { width: 375, height: 800 }, colorScheme: 'light' },
  { name: 'dark, 375 px', viewport: { width: 375, height: 800 }, colorScheme: 'dark' },
];

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

/** axe-core in the page (evaluated, not a <script> tag, so a strict CSP page can be checked too). */
async function axe(page, label) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} × ${v.nodes.slice(0, 3).map((n) => n.target.join(' > ')).join(' | ')} — ${v.nodes[0].failureSummary?.split('\n').slice(0, 2).join(' ')}`);
  assert.deepEqual(text, [], `${label}: axe found serious or critical violations`);
  return res.violations.length;
}

const inEl = (page, fn, arg) => page.evaluate(([src, a]) => {
  const el = document.querySelector('attention-explorer');
  return new Function('el', 'root', 'arg', `return (${src})(el, root, arg);`)(el, el.shadowRoot, a);
}, [fn.toString(), arg]);

const settle = (page) => page.evaluate(() => new Promise((r) => setTimeout(() => requestAnimationFrame(() => r()), 0)));

/** Switches theme and width in place (the widgets follow the system theme, as theme="auto" says). */
async function configure(page, cfg) {
  // reduced motion: the buttons' colour transitions would otherwise be measured half-way between themes
  await page.emulateMedia({ colorScheme: cfg.colorScheme, reducedMotion: 'reduce' });
  await page.setViewportSize(cfg.viewport);
  await settle(page);
  // colour transitions (buttons fade between themes) must end before axe measures contrast
  await page.evaluate(() => Promise.race([Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))), new Promise((r) => setTimeout(r, 1000))]));
  await page.waitForTimeout(150);
}

test('axe: the walkthrough page in every state, light and dark, 1280 and 375 px', async () => {
  const page = await env.page('/index.html#step=tokens');
  await ready(page);
  const states = [
    ['one step (tokens)', () => {}],
    ['every step', (el) => { el.showAll = true; }],
    ['lines view, transposed, ablations', (el) => { el.view = 'lines'; el.transpose = true; el.options = { scale: false, causal: false, disabled_heads: [[0, 0]] }; }],
    ['every table of numbers open', (el, root) => { el.view = 'grid'; for (const d of root.querySelectorAll('details.numbers')) d.open = true; }],
  ];
  for (const [name, fn] of states) {
    await inEl(page, fn);
    await settle(page);
    const minor = [];
    for (const cfg of CONFIGS) {
      await configure(page, cfg);
      minor.push(`${cfg.name}: ${await axe(page, `${name}, ${cfg.name}`)}`);
    }
    console.log(`# axe index.html, ${name}: 0 serious/critical; minor/moderate kinds ${minor.join('; ')}`);
  }
  env.assertClean(page);
});

for (const file of EXAMPLES) {
  test(`axe: examples/${file}, light and dark, 1280 and 375 px`, async () => {
    const page = await env.page(`/examples/${file}`, CONFIGS[0]);
    await page.waitForLoadState('load');
    for (const cfg of CONFIGS) {
      await configure(page, cfg);
      // widgets, where there are any, have rendered (or shown their message)
      await page.waitForFunction(() => [...document.querySelectorAll('attention-explorer')].every((el) => el.trace || el.shadowRoot?.querySelector('[role="alert"]') || !customElements.get('attention-explorer')), null, { timeout: 15000 })
        .catch(() => assert.fail(`examples/${file}: a widget neither rendered nor said why`));
      await settle(page);
      const n = await axe(page, `examples/${file}, ${cfg.name}`);
      console.log(`# axe examples/${file} ${cfg.name}: 0 serious/critical, ${n} minor/moderate kinds`);
    }
    await page.close();
  });
}

/** In the page: the focused element, through shadow roots, described. */
function focused() {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a || a === document.body) return null;
  const cs = getComputedStyle(a);
  const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== 'none';
  const r = a.getBoundingClientRect();
  const key = a.dataset.step ? `step:${a.dataset.step}` : a.dataset.head !== undefined ? `${a.localName === 'input' ? 'head-toggle' : 'head'}:${a.dataset.head}`
    : a.dataset.layer !== undefined ? `layer:${a.dataset.layer}` : a.dataset.tok !== undefined ? `chip:${a.dataset.tok}`
    : `${a.localName}${a.className && typeof a.className === 'string' ? '.' + a.className.trim().split(/\s+/).join('.') : ''}${a.type ? `[${a.type}]` : ''}`;
  return { key, ring, inWidget: !!a.getRootNode().host, visible: r.width > 0 && r.height > 0, label: (a.getAttribute('aria-label') || (a.labels && a.labels.length ? [...a.labels].map((l) => l.textContent).join(' ') : '') || a.textContent || a.getAttribute('title') || '').trim().slice(0, 60) };
}

/** Presses Tab until focus comes back to the first element it reached; returns every stop. */
async function tabWalk(page, max = 400) {
  const stops = [];
  await page.evaluate(() => { document.activeElement?.blur?.(); window.scrollTo(0, 0); window.__firstStop = null; });
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const [f, again] = await page.evaluate((fsrc) => {
      let a = document.activeElement;
      while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
      if (a && a !== document.body && window.__firstStop === a) return [null, true];
      if (a && a !== document.body && !window.__firstStop) window.__firstStop = a;
      return [new Function(`return (${fsrc})();`)(), false];
    }, focused.toString());
    if (again) break;
    if (f) stops.push(f);
  }
  return stops;
}

test('keyboard: Tab reaches every control with a visible focus ring; Enter, Space and the arrows operate them', async () => {
  const page = await env.page('/index.html#step=weights');
  await ready(page);
  const cfg = await inEl(page, (el) => el.model.config);
  const stops = await tabWalk(page);
  const keys = stops.map((s) => s.key);
  const need = ['textarea', 'button.prev', 'button.next', 'input.show-all[checkbox]', ...stepsFor(cfg).map((s) => `step:${s}`),
    ...Array.from({ length: cfg.n_heads }, (_, i) => `head:${i}`), ...Array.from({ length: cfg.n_heads }, (_, i) => `head-toggle:${i}`),
    'input.opt-scale[checkbox]', 'input.opt-causal[checkbox]', 'input.opt-transpose[checkbox]', 'button.view-grid[button]', 'button.view-lines[button]',
    'canvas.grid', 'button.export-svg[button]', 'button.export-png[button]', 'button.export-csv[button]', 'button.export-json[button]'];
  if (cfg.n_layers > 1) need.push(...Array.from({ length: cfg.n_layers }, (_, i) => `layer:${i}`));
  const norm = (k) => k.replace(/\[(submit|button)\]$/, '[button]');
  const have = new Set(keys.map(norm));
  const missing = need.map(norm).filter((k) => !have.has(k) && !keys.some((x) => x.startsWith(k)));
  assert.deepEqual(missing, [], `Tab never reaches: ${missing.join(', ')}\nstops: ${keys.join(' ')}`);
  assert.ok(stops.filter((s) => s.key.startsWith('button.example')).length >= 3, 'the example sentences are reachable');
  const noRing = stops.filter((s) => s.inWidget && !s.ring).map((s) => s.key);
  assert.deepEqual(noRing, [], 'focused controls without a visible focus ring');
  const hidden = stops.filter((s) => !s.visible).map((s) => s.key);
  assert.deepEqual(hidden, [], 'Tab stops on invisible elements');
  const unlabelled = stops.filter((s) => s.inWidget && !s.label).map((s) => s.key);
  assert.deepEqual(unlabelled, [], 'focusable elements with no name');
  console.log(`# keyboard: ${stops.length} Tab stops (${stops.filter((s) => s.inWidget).length} in the widget), all with a focus ring`);

  // Enter on a step button, Space on a checkbox, Enter on a head button
  const focusKey = async (sel) => { await page.locator(`attention-explorer >> ${sel}`).focus(); };
  await focusKey('.steplist button[data-step="scores"]');
  await page.keyboard.press('Enter');
  assert.equal(await inEl(page, (el) => el.step), 'scores');
  await focusKey('input.opt-scale');
  await page.keyboard.press('Space');
  assert.equal(await inEl(page, (el) => el.options.scale), false, 'Space toggles the scaling ablation');
  await page.keyboard.press('Space');
  assert.equal(await inEl(page, (el) => el.options.scale), true);
  await focusKey(`.head-button[data-head="${cfg.n_heads - 1}"]`);
  await page.keyboard.press('Enter');
  assert.equal(await inEl(page, (el) => el.head), cfg.n_heads - 1);
  // the arrows inside the grid move the cell cursor and say its arithmetic
  await focusKey('canvas.grid');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowRight');
  assert.ok((await inEl(page, (el, root) => root.querySelector('.ae-detail').textContent)).length > 20, 'the cell under the keyboard cursor is described');
  env.assertClean(page);
});

test('keyboard: every step in order with Next (Enter) and back with ←, from the page and inside the widget', async () => {
  const page = await env.page('/index.html#step=tokens');
  await ready(page);
  // the steps the built-in model offers (a model with rotary positions adds `rotate`)
  const STEPS = await inEl(page, (el) => el.steps);
  await page.locator('attention-explorer >> button.next').focus();
  const seen = [await inEl(page, (el) => el.step)];
  for (let i = 1; i < STEPS.length; i++) {
    await page.keyboard.press('Enter');
    seen.push(await inEl(page, (el) => el.step));
    // every step's view has rendered a section with a heading, reachable by screen readers
    const h = await inEl(page, (el, root) => root.querySelector('.ae-view section h2')?.textContent ?? '');
    assert.match(h, new RegExp(`^${i + 1}\\. `), `step ${seen[i]} has a numbered heading`);
    if (i === STEPS.length - 1) break;
  }
  assert.deepEqual(seen, STEPS);
  assert.equal(await page.locator('attention-explorer >> button.next').isDisabled(), true, 'Next is disabled at the last step');
  // ← inside the widget (focus on a step button), then on the page (focus on the body)
  await page.locator('attention-explorer >> .steplist button[data-step="predict"]').focus();
  await page.keyboard.press('ArrowLeft');
  assert.equal(await inEl(page, (el) => el.step), 'update');
  await page.evaluate(() => { let a = document.activeElement; a?.blur(); a = document.querySelector('attention-explorer').shadowRoot.activeElement; a?.blur(); });
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await inEl(page, (el) => el.step), 'mix');
  await page.keyboard.press('ArrowRight');
  assert.equal(await inEl(page, (el) => el.step), 'delta');
  // the arrows in the text box move the caret, not the step
  await page.locator('attention-explorer >> textarea').focus();
  await page.keyboard.press('ArrowLeft');
  assert.equal(await inEl(page, (el) => el.step), 'delta');
  // step-specific controls: token chips (tokens), temperature and position (predict)
  for (const [step, want] of [['tokens', ['chip:0']], ['predict', ['input.temperature[range]', 'select.position']]]) {
    await inEl(page, (el, root, s) => { el.step = s; }, step);
    await settle(page);
    const keys = (await tabWalk(page)).map((s) => s.key);
    for (const w of want) assert.ok(keys.some((k) => k.startsWith(w)), `step ${step}: Tab never reaches ${w} (stops: ${keys.join(' ')})`);
  }
  env.assertClean(page);
});

test('screen readers: every drawn matrix has a label and a table of its numbers, in every step', async () => {
  const page = await env.page('/index.html#step=tokens');
  await ready(page);
  await inEl(page, (el) => { el.showAll = true; });
  await settle(page);
  await inEl(page, (el, root) => { for (const d of root.querySelectorAll('details.numbers')) d.open = true; }); // tables are built when opened
  await settle(page);
  const r = await inEl(page, (el, root) => {
    const T = el.trace.tokens.length;
    const out = { problems: [], figures: 0, tables: 0 };
    for (const section of root.querySelectorAll('.ae-view section')) {
      const step = section.dataset.step;
      if (!section.getAttribute('aria-labelledby') || !root.getElementById(section.getAttribute('aria-labelledby'))) out.problems.push(`${step}: the section has no heading label`);
      for (const g of section.querySelectorAll('canvas, svg')) {
        if (g.parentElement.closest('svg') || g.getAttribute('aria-hidden') === 'true') continue;
        const label = g.getAttribute('aria-label') ?? '';
        if (g.getAttribute('role') !== 'img' || label.length < 15) out.problems.push(`${step}: <${g.localName} class="${g.getAttribute('class')}"> has no role=img with a description`);
      }
      // every matrix figure (grid, heat strips) carries a table alternative with one row per token
      for (const m of section.querySelectorAll('canvas.grid, canvas.strip-canvas, svg.grid, svg.lines')) {
        out.figures++;
        const fig = m.closest('figure') ?? m.parentElement;
        const table = fig.querySelector('details.numbers table') ?? fig.parentElement.querySelector('details.numbers table');
        if (!table) { out.problems.push(`${step}: ${m.getAttribute('class')} has no table of its numbers`); continue; }
        out.tables++;
        if (!table.querySelector('caption')?.textContent) out.problems.push(`${step}: a table without a caption`);
        const body = table.tBodies[0]?.rows.length ?? 0;
        const head = table.tHead?.rows[0]?.cells.length ?? 0;
        if (body !== T && head - 1 !== T) out.problems.push(`${step}: a table with ${body} rows and ${head - 1} columns, the text has ${T} tokens`);
        if (!table.querySelector('th[scope="row"]') || !table.querySelector('th[scope="col"]')) out.problems.push(`${step}: a table without row and column headers`);
      }
    }
    return out;
  });
  assert.deepEqual(r.problems, []);
  assert.ok(r.figures >= 10 && r.tables === r.figures, `${r.figures} matrix figures, ${r.tables} tables`);
  console.log(`# screen readers: ${r.figures} matrix figures, each with a table alternative`);
  env.assertClean(page);
});
