// The modes of an <attention-explorer>: `explore` (the steps, free), `tour` (the guided story, one stop at a
// time: its sentence, step and head, a question to answer before the answer is shown, and a caption read
// from the live trace) and `compare` (one token in two sentences). This module moves the element to a tour
// stop, analyses the second sentence and their comparison, runs the stop's lesson, and marks the view: the
// cell or token a stop (or the `highlight` attribute) points at, the veil over the figures before a guess.

import { h } from '../draw.js';
import { TOUR, stopAt, stepOf } from '../tour/index.js';
import { ACCOUNT } from '../tour/stops.js';
import { findToken, sharedToken } from '../tour/facts.js';

export const MODES = ['explore', 'tour', 'compare'];
/** The second sentence of compare mode when the `compare` attribute does not give one. */
export const DEFAULT_COMPARE = ACCOUNT;
export const TOUR_LENGTH = TOUR.length;

/** The stop the element shows (its `stop` attribute, 1-based, clamped to the tour). */
export const currentStop = (el) => stopAt(el.stop);

/** Whether the view is the two-sentence comparison (compare mode, or a tour stop drawn that way). */
export const comparing = (el) => el.mode === 'compare' || (el.mode === 'tour' && currentStop(el).view === 'compare');

/** The second sentence: the `compare` attribute, else the tour stop's, else the default. */
export function secondText(el) {
  const own = el.compare;
  if (own) return own;
  if (el.mode === 'tour' && currentStop(el).compare) return currentStop(el).compare;
  return DEFAULT_COMPARE;
}

/** Whether the stop needs the second sentence analysed (a comparison view, or a stop that uses one). */
const needsOther = (el) => comparing(el) || (el.mode === 'tour' && Boolean(currentStop(el).compare));

/**
 * At the start of a render: in tour mode, moves the element to its stop when the stop changed (its sentence,
 * step, layer, head and ablations); leaving the tour puts the ablations back. On the element's first render
 * the attributes it was given (a shared link, an embed) win over the stop's.
 */
export function enterStop(el) {
  const tour = el._tour;
  if (el.mode !== 'tour') {
    if (tour.applied !== null) {
      tour.applied = null;
      el._options = tour.savedOptions;
    }
    return;
  }
  const n = el.stop;
  if (tour.applied === n) return;
  const fromMarkup = !el._live;
  if (tour.applied === null) { tour.savedOptions = el.options; tour.userText = el.text; }
  tour.applied = n;
  tour.revealed = false;
  tour.guess = null;
  const stop = currentStop(el), info = el._engine.info;
  const keep = (name) => fromMarkup && el.hasAttribute(name);
  if (!keep('text')) el.setAttribute('text', stop.text);
  if (!keep('step')) el.setAttribute('step', stepOf(stop, info));
  if (!keep('compare')) { if (stop.compare) el.setAttribute('compare', stop.compare); else el.removeAttribute('compare'); }
  let trace;
  try {
    trace = el._engine.analyze(el.text, { ...el._engineOptions(), disabled_heads: [] });
  } catch {
    trace = null; // the stop's head is then the first; the view says why the text cannot be analysed
  }
  const at = trace && stop.pick ? stop.pick(info, trace) : { layer: 0, head: 0 };
  if (!keep('layer')) el.setAttribute('layer', String(at.layer));
  if (!keep('head')) el.setAttribute('head', String(at.head));
  const extra = trace && stop.options ? stop.options(info, trace) : {};
  el._options = { ...tour.savedOptions, disabled_heads: [], ...extra };
}

/** After the main analysis: the second sentence's trace, the token compared and their comparison. */
export function analyzeOther(el, options) {
  el._other = null;
  el._pair = null;
  el._comparison = null;
  if (!el._trace || !needsOther(el)) return;
  const engine = el._engine;
  const text = secondText(el);
  try {
    el._other = engine.analyze(text, options);
    el._pair = pairOf(el._trace, el._other, el.mode === 'compare' ? el.highlight : null);
    if (el._pair) el._comparison = engine.compare(el.text, text, el._pair[0], el._pair[1], options);
  } catch (e) {
    el._otherError = e && e.message ? e.message : String(e);
    el._other = null;
  }
}

/** The token compared: the one `highlight` names in the first sentence (and its last copy in the second),
 * else the token the two share with the longest text. */
function pairOf(a, b, name) {
  if (name) {
    const i = findToken(a, name.split('→')[0]);
    if (i >= 0) {
      for (let j = b.tokens.length - 1; j >= 0; j--) if (b.tokens[j].id === a.tokens[i].id) return [i, j];
    }
  }
  return sharedToken(a, b);
}

/** The current stop's lesson on the live trace: { question, choices, answer, caption, mark, exhibit } or { missing }. */
export function lessonOf(el) {
  if (el.mode !== 'tour' || !el._trace) return null;
  const stop = currentStop(el);
  const ctx = { trace: el._trace, other: el._other, pair: el._pair, comparison: el._comparison, baseline: el._baseline,
    info: el._engine.info, layer: el.layer, head: el.head };
  try {
    return stop.lesson(ctx);
  } catch (e) {
    return { missing: `this stop could not be read from the trace (${e.message})` };
  }
}

/** What to mark in the view: the revealed stop's answer in tour mode, else the `highlight` attribute. */
export function markOf(el) {
  if (el.mode === 'tour') return revealed(el) && el._lesson && !el._lesson.missing ? el._lesson.mark : null;
  return parseHighlight(el._trace, el.highlight);
}

/** `highlight`: "forest→verdant" (query → key: a cell), "forest" (a token) or "#7→#6" (by position), as
 * { q, k } or { tok }; the query is its last occurrence, the key the last one at or before it. */
export function parseHighlight(trace, value) {
  if (!trace || !value) return null;
  const [a, b] = String(value).split(/→|->/);
  const q = findToken(trace, a);
  if (q < 0) return null;
  if (b === undefined) return { tok: q };
  const k = findToken(trace, b, q);
  return k < 0 ? { tok: q } : { q, k };
}

/** Whether the answer of the current stop is shown (always, when the element has no controls to guess with). */
export const revealed = (el) => el.controls === 'none' || el._tour.revealed;

/** Marks the view after a render: the cell or token, the veil before a guess, and the caption callout. */
export function decorateView(el) {
  const view = el._built.view;
  const mark = markOf(el);
  for (const canvas of view.querySelectorAll('canvas.grid')) if (canvas.__mark) canvas.__mark(mark && 'q' in mark ? mark.q : null, mark && 'k' in mark ? mark.k : null);
  const tok = mark ? ('tok' in mark ? mark.tok : mark.q) : null;
  // the compare view marks its own token in each sentence (their positions differ)
  if (tok !== null && tok !== undefined && !comparing(el)) for (const x of view.querySelectorAll(`[data-tok="${tok}"]`)) x.classList.add('marked');
  const body = view.querySelector('section > :last-child');
  const lesson = el._lesson;
  if (body && el.mode === 'tour' && !revealed(el) && lesson && !lesson.missing) {
    body.classList.add('veiled');
    body.inert = true;
  }
  const caption = el.mode === 'tour' ? (el.controls === 'none' && lesson ? lesson.caption ?? lesson.missing : null) : el.caption;
  if (body && caption) body.prepend(h('p', { class: 'ae-callout', role: 'note', text: caption }));
}
