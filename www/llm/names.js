// A large model's head names, measured live on the analysed text: the summary's numbers per head
// (src/llm/gallery.rs defines each) named by the same fixed rules, in the same order, as the tiny
// model's shipped profile (model/heads.json), so a name means the same thing on both models. On a
// short or unrepeated text most heads are "broad" or "start/resting"; repeated text lights up the
// induction heads.

/** The rules, first match wins: [name, the number it reads, the threshold, the rule in words]. */
export const RULES = [
  ['induction', 'induction', (x) => x >= 0.4, 'induction ≥ 0.4: on a repeated token, weight on the token that followed its earlier copy'],
  ['previous token', 'prev', (x) => x >= 0.6, '≥ 0.6 of its weight on token i−1'],
  ['start/resting', 'start', (x) => x >= 0.5, '≥ 0.5 of its weight on the first token'],
  ['duplicate token', 'duplicate', (x) => x >= 0.3, '≥ 0.3 on earlier copies of the query’s own token'],
  ['self', 'self', (x) => x >= 0.5, '≥ 0.5 of its weight on the query’s own token'],
  ['local', 'mean_distance', (x) => x <= 3, 'mean distance to its keys ≤ 3 tokens'],
];

/** { name, key, value } for one head summary; `key`/`value` are the number that gave the name (null for broad). */
export function nameOf(h) {
  for (const [name, key, test] of RULES) {
    const v = h[key];
    if (v !== null && v !== undefined && test(v)) return { name, key, value: v };
  }
  return { name: 'broad', key: null, value: null };
}
