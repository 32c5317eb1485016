// Step `delta`: ΔE, each head's mixed vectors mapped back to d_model by W_O, and their sum.
import { h, heatStrips, maxAbs } from '../draw.js';
import { labelsOf, layerOf, table, where } from './common.js';

export const id = 'delta';
export const title = 'ΔE';
export const math = 'ΔE = concat(A·V) · W_O = Σ_h mixed_h · W_O[h]';
export const scope = 'layer';

export function explain(trace) {
  const c = trace.config;
  return [
    `Each head's mixed vectors (${c.d_head} numbers) are mapped back to the model's width (${c.d_model}) by its slice of the output matrix W_O. The ${c.n_heads} heads' contributions are added: ΔE is the change attention proposes for each token's vector.`,
    `Shape: ${trace.tokens.length} × ${c.d_model} per head and for the sum. A head switched off (ablation) contributes zeros.`,
  ];
}

export function render(trace, state) {
  const layer = layerOf(trace, state);
  const labels = labelsOf(trace);
  const dom = maxAbs(layer.delta, ...layer.heads.map((hd) => hd.delta));
  return h('div', { class: 'figs' },
    layer.heads.map((hd, i) => heatStrips({ m: hd.delta, labels, domain: dom, caption: `head ${i + 1} delta`, title: `Head ${i + 1}: mixed · W_O[${i + 1}]${hd.enabled ? '' : ' (switched off)'}` })),
    heatStrips({ m: layer.delta, labels, domain: dom, caption: `delta ΔE (${where(trace, state, false) || 'sum of heads'})`, title: 'ΔE = the sum of the heads' }));
}

export function data(trace, state) {
  const layer = layerOf(trace, state);
  const labels = labelsOf(trace);
  return { tables: [...layer.heads.map((hd, i) => table(`head ${i + 1} delta`, hd.delta, labels)), table('delta', layer.delta, labels)] };
}
