// Reading facts out of a trace for the tour's questions and captions: which token a row weighs most, where a
// token appeared before, which token two sentences share. Every function here selects (an index, one of the
// trace's numbers); none computes model math, so every number a caption prints is a number of the trace.

import { fmt } from '../draw.js';

/** A token as a caption names it: ‘forest’ (its text without the leading space; the start token as is). */
export function word(trace, i) {
  const t = trace.tokens[i];
  const shown = t.special ? t.text : t.text.trim() || t.text.replace(/ /g, '·');
  return `‘${shown}’`;
}

/** ‘forest’ (#8): a token with its position, for captions that must say which copy. */
export const wordAt = (trace, i) => `${word(trace, i)} (#${i})`;

/** Whether token i is the model's start token (not from the text). */
export const isStart = (trace, i) => Boolean(trace.tokens[i] && trace.tokens[i].special && trace.config.bos_id === trace.tokens[i].id);

/** Entry (q, k) of a T×T matrix. */
export const cell = (m, q, k) => m.data[q * m.shape[1] + k];

/** The keys row q can see (not masked away: finite in `masked`), in order. */
export function visibleKeys(head, q) {
  const T = head.masked.shape[1];
  const out = [];
  for (let k = 0; k < T; k++) if (cell(head.masked, q, k) !== -Infinity) out.push(k);
  return out;
}

/** The visible key of row q with the largest (or, `least`, smallest) entry of m. */
export function extremeKey(m, head, q, least = false) {
  let best = -1;
  for (const k of visibleKeys(head, q)) {
    const v = cell(m, q, k);
    if (best < 0 || (least ? v < cell(m, q, best) : v > cell(m, q, best))) best = k;
  }
  return best;
}

/** The last index i ≤ `before` whose token text, trimmed, is `text` (or whose position is `#n`); −1 if none. */
export function findToken(trace, text, before = trace.tokens.length - 1) {
  const want = String(text).trim();
  const n = /^#(\d+)$/.exec(want);
  if (n) return Number(n[1]) <= before ? Number(n[1]) : -1;
  for (let i = Math.min(before, trace.tokens.length - 1); i >= 0; i--) if (trace.tokens[i].text.trim() === want) return i;
  return -1;
}

/** The latest position q whose token appeared earlier with a token after it: `{ q, earlier, target }`, where
 * `target` = earlier + 1 is what an induction head at q should look at (null when nothing repeats). Start
 * tokens and the first token after the start do not count. */
export function lastRepeat(trace, before = trace.tokens.length - 1) {
  const ids = trace.tokens.map((t) => t.id);
  for (let q = before; q >= 0; q--) {
    if (isStart(trace, q)) continue;
    for (let e = q - 1; e >= 0; e--) {
      if (ids[e] === ids[q] && !isStart(trace, e) && e + 1 < q) return { q, earlier: e, target: e + 1 };
    }
  }
  return null;
}

/** Every position q whose token appeared earlier (latest earlier copy), as { q, earlier, target }. */
export function repeats(trace) {
  const out = [];
  for (let q = trace.tokens.length - 1; q >= 0; q--) {
    const r = lastRepeat(trace, q);
    if (r && r.q === q) out.push(r);
  }
  return out;
}

/** The repeat whose target head `hd` weighs most (the clearest case of copying), or null. */
export function clearestRepeat(trace, hd) {
  let best = null;
  for (const r of repeats(trace)) if (!best || cell(hd.weights, r.q, r.target) > cell(hd.weights, best.q, best.target)) best = r;
  return best;
}

/** The token two traces share (same id) with the longest text, not the start token: `[a, b]` or null. */
export function sharedToken(a, b) {
  let best = null;
  a.tokens.forEach((t, i) => {
    if (isStart(a, i)) return;
    const j = b.tokens.findIndex((u, jj) => u.id === t.id && !isStart(b, jj));
    if (j >= 0 && (!best || t.text.trim().length > a.tokens[best[0]].text.trim().length)) best = [i, j];
  });
  return best;
}

/** Whether row i of two matrices holds exactly the same numbers. */
export function sameRow(m, i, n, j) {
  const c = m.shape[1];
  if (n.shape[1] !== c) return false;
  for (let d = 0; d < c; d++) if (m.data[i * c + d] !== n.data[j * c + d]) return false;
  return true;
}

/** Rows of matrices stacked into one small matrix (for a figure of a few chosen vectors). */
export function stackRows(parts) {
  const c = parts[0].m.shape[1];
  const data = new Float32Array(parts.length * c);
  parts.forEach((p, r) => data.set(p.m.data.subarray(p.i * c, (p.i + 1) * c), r * c));
  return { shape: [parts.length, c], data };
}

/** A weight as captions print it (two decimals), and a cosine (three). */
export const w2 = (v) => fmt(v, 2);
export const c3 = (v) => fmt(v, 3);
