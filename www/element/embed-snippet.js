// "Embed this view", for teachers writing course notes: the <attention-explorer …> tag and the iframe snippet
// that show exactly the current view (text, step, layer, head, axes, mode and tour stop, the second sentence),
// each with a copy button. On a tour stop whose answer is shown, a third snippet embeds that one observation:
// the step with its cell marked (highlight) and the stop's caption, with no controls.

import { h } from '../draw.js';
import { stepById } from '../steps/index.js';
import { comparing, markOf } from './modes.js';

/** Where the files are: the element's module folder's parent (www/ or dist/). */
const BASE = new URL('../', import.meta.url);

const escapeAttr = (v) => String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The attributes (in order) that give the current view. */
export function viewAttributes(el) {
  const a = [['text', el.text]];
  const scope = stepById(el.step).scope;
  if (el.mode === 'tour') a.push(['mode', 'tour'], ['stop', String(el.stop)]);
  else if (el.mode === 'compare') a.push(['mode', 'compare']);
  if (el.mode !== 'explore' && el.compare) a.push(['compare', el.compare]);
  a.push(['step', el.step]);
  if (scope !== 'model' || comparing(el)) a.push(['layer', String(el.layer)]);
  if (scope === 'head' || comparing(el)) a.push(['head', String(el.head)]);
  if (el.transpose) a.push(['transpose', '']);
  if (el.mode !== 'tour' && el.highlight) a.push(['highlight', el.highlight]);
  if (el.mode === 'explore' && el.caption) a.push(['caption', el.caption]);
  if (el.controls !== 'full') a.push(['controls', el.controls]);
  return a;
}

/** The revealed tour stop as one observation: its step, head and sentence, the cell marked and the caption. */
export function observationAttributes(el) {
  const lesson = el.lesson, mark = markOf(el), t = el.trace;
  if (el.mode !== 'tour' || !el.revealed || !lesson || lesson.missing || !t) return null;
  const name = (i) => {
    const text = t.tokens[i].text.trim();
    // a word that appears twice (or a blank one) is named by its position
    return text && !/→|->/.test(text) && t.tokens.filter((x, j) => j <= i && x.text.trim() === text).length === 1 ? text : `#${i}`;
  };
  const a = [['text', el.text], ['step', el.step], ['layer', String(el.layer)], ['head', String(el.head)]];
  if (mark) a.push(['highlight', 'tok' in mark ? name(mark.tok) : `${name(mark.q)}→${name(mark.k)}`]);
  a.push(['caption', lesson.caption], ['controls', 'none']);
  return a;
}

const tagOf = (attrs) => `<script type="module" src="${new URL('attention-explorer.js', BASE).href}"></script>\n`
  + `<attention-explorer ${attrs.map(([k, v]) => (v === '' ? k : `${k}="${escapeAttr(v)}"`)).join(' ')}></attention-explorer>`;

function iframeOf(attrs) {
  const q = new URLSearchParams();
  for (const [k, v] of attrs) q.set(k, v === '' ? 'true' : v);
  const src = `${new URL('embed.html', BASE).href}?${q.toString().replace(/\+/g, '%20')}`;
  return `<iframe src="${escapeAttr(src)}" title="Attention explorer" width="100%" height="720" loading="lazy"\n`
    + '  sandbox="allow-scripts allow-same-origin allow-downloads" style="border: 0"></iframe>';
}

/** The footer's button and the panel it opens (b.embed). */
export function embedButton(el, b) {
  b.embedToggle = h('button', { type: 'button', class: 'embed-toggle', 'aria-expanded': 'false', 'aria-controls': 'ae-embed', text: 'Embed this view',
    on: { click: () => { b.embed.hidden = !b.embed.hidden; b.embedToggle.setAttribute('aria-expanded', String(!b.embed.hidden)); updateEmbed(el); } } });
  b.embedStatus = h('span', { class: 'embed-status', role: 'status', 'aria-live': 'polite' });
  b.embedBlocks = h('div', { class: 'embed-blocks' });
  b.embed = h('section', { class: 'ae-embed', id: 'ae-embed', hidden: true, 'aria-labelledby': 'ae-embed-title' },
    h('h2', { id: 'ae-embed-title', text: 'Embed this view' }),
    h('p', { class: 'muted', text: 'Paste one of these into a page (course notes, slides, a learning platform) to show exactly this view. The tag needs the files next to it; the frame works where only iframes are allowed.' }),
    b.embedBlocks, b.embedStatus);
  return b.embedToggle;
}

/** Refills the snippets for the current view (only while the panel is open). */
export function updateEmbed(el) {
  const b = el._built;
  if (!b.embed || b.embed.hidden) return;
  const attrs = viewAttributes(el), one = observationAttributes(el);
  const blocks = [['embed-tag', 'The element (HTML)', tagOf(attrs)], ['embed-iframe', 'An iframe', iframeOf(attrs)]];
  if (one) blocks.push(['embed-observation', 'This observation alone (the cell marked, the caption, no controls)', tagOf(one)]);
  const key = blocks.map((x) => x[2]).join('\n');
  if (b.embedBlocks.dataset.key === key) return;
  b.embedBlocks.dataset.key = key;
  b.embedBlocks.replaceChildren(...blocks.map(([cls, label, code]) => snippet(el, cls, label, code)));
}

function snippet(el, cls, label, code) {
  const id = `ae-${cls}`;
  const area = h('textarea', { id, class: `snippet ${cls}`, readonly: true, rows: code.split('\n').length + 1, spellcheck: 'false' });
  area.value = code;
  const copy = h('button', { type: 'button', class: `copy ${cls}-copy`, text: 'Copy', 'aria-label': `copy: ${label}`, on: { click: () => copyText(el, area, label) } });
  return h('div', { class: 'snippet-block' }, h('label', { for: id, text: label }), area, copy);
}

async function copyText(el, area, label) {
  const status = el._built.embedStatus;
  try {
    await navigator.clipboard.writeText(area.value);
    status.textContent = `Copied: ${label}.`;
  } catch {
    // no clipboard permission (an insecure origin, a sandbox): select it for the reader to copy
    area.focus();
    area.select();
    status.textContent = 'This page may not write to the clipboard: the text is selected, press Ctrl+C (⌘C) to copy it.';
  }
}
