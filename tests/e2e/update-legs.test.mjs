// Attention's move apart from the MLP's (issue 11): the update step draws E → E + ΔE and E + ΔE → E′ as two
// maps, each fitted to its own points, with every token's cosine to itself before and after each leg. The
// numbers drawn are the trace's (map.updated, cos_updated, cos_output), and the test checks those against
// their definitions, computed here from the trace's own vectors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, ready } from './helpers.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env.close(); });

test('update: two legs, each on a readable scale, with each token’s cosine to itself', async () => {
  const page = await env.page('/index.html#step=update&layer=0');
  await ready(page);
  for (const layer of [0, 1]) {
    const r = await page.evaluate(async (L) => {
      const el = document.querySelector('attention-explorer');
      el.layer = L;
      await new Promise((res) => setTimeout(res, 50));
      const t = el.trace, lt = t.layers[L], T = t.tokens.length, D = t.config.d_model;
      const sec = el.shadowRoot.querySelector('section[data-step="update"]');
      const maps = [...sec.querySelectorAll('svg.map.paths')];
      const legLengths = (svg, cls) => [...svg.querySelectorAll(`line.${cls}`)].map((l) => Math.hypot(l.x2.baseVal.value - l.x1.baseVal.value, l.y2.baseVal.value - l.y1.baseVal.value));
      const cos = (a, b, i) => { let ab = 0, aa = 0, bb = 0; for (let d = 0; d < D; d++) { const x = a.data[i * D + d], y = b.data[i * D + d]; ab += x * y; aa += x * x; bb += y * y; } return ab / Math.sqrt(aa * bb); };
      const shown = [...sec.querySelectorAll('table.turns tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.textContent.replace('−', '-'))));
      return {
        T, mlp: Boolean(lt.mlp), maps: maps.length, width: maps.map((m) => m.width.baseVal.value),
        leg1: legLengths(maps[0], 'move'), leg2: maps[1] ? legLengths(maps[1], 'move-mlp') : [],
        shown, want: Array.from({ length: T }, (_, i) => [cos(lt.input, lt.updated, i), cos(lt.updated, lt.output, i)]),
        field: Array.from({ length: T }, (_, i) => [lt.cos_updated.data[i], lt.cos_output.data[i]]),
      };
    }, layer);
    assert.ok(r.mlp, 'the shipped model has an MLP');
    assert.equal(r.maps, 2, `layer ${layer}: attention's map and the MLP's`);
    assert.equal(r.leg1.length, r.T, 'one attention arrow per token');
    assert.equal(r.leg2.length, r.T, 'one MLP arrow per token');
    // readable: the arrows of each leg are on the scale of their own map, not dwarfed by the other leg
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const [name, legs, w] of [['attention', r.leg1, r.width[0]], ['MLP', r.leg2, r.width[1]]]) {
      assert.ok(mean(legs) > 0.05 * w, `layer ${layer}: ${name}'s arrows average ${mean(legs).toFixed(1)} px on a ${w} px map`);
    }
    for (let i = 0; i < r.T; i++) {
      for (let c = 0; c < 2; c++) {
        assert.ok(Math.abs(r.field[i][c] - r.want[i][c]) < 1e-5, `token ${i}: the trace's cosine ${r.field[i][c]} is not the cosine of its vectors ${r.want[i][c]}`);
        assert.ok(Math.abs(r.shown[i][c] - r.want[i][c]) <= 0.0005 + 1e-9, `token ${i}: printed ${r.shown[i][c]}, the cosine is ${r.want[i][c]}`);
      }
    }
  }
  env.assertClean(page);
});
