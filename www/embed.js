// iframe mode (embed.html): the element fills the frame's width, takes its attributes from the query string,
// and tells the parent page its height so the host can size the frame to fit:
//   parent ← { type: 'attention-explorer:height', height }   whenever the rendered height changes
//   parent ← { type: 'attention-explorer:change', state }    on every change of view (the element's event)
// A host with several frames tells them apart by `event.source === frame.contentWindow`.
//
// The height protocol never feeds back on itself: a height relative to the frame (`vh`, `%`) makes the
// widget fill the frame the host sized, and the frame then reports no height at all (a frame sized to a
// height that is a share of itself would grow or shrink without end). Content height and fixed lengths
// (`px`, `em`, `rem`) do not depend on the frame's height, so they are reported.
import { EVENT } from './attention-explorer.js';
import { heightLength } from './element/explorer.js';

const ATTRIBUTES = ['text', 'step', 'steps', 'layer', 'head', 'controls', 'transpose', 'theme', 'height', 'mode', 'stop', 'highlight', 'caption', 'compare'];
const el = document.querySelector('attention-explorer');
const params = new URLSearchParams(location.search);
for (const name of ATTRIBUTES) {
  if (!params.has(name) || (name === 'transpose' && params.get(name) === 'false')) continue;
  el.setAttribute(name, params.get(name));
}

const length = heightLength(params.get('height'));
const fillsFrame = length !== null && /(vh|%)$/.test(length);

// Page styles as a constructed sheet (allowed under style-src 'self'): no margins, transparent around the widget.
const sheet = new CSSStyleSheet();
sheet.replaceSync('html, body { margin: 0; padding: 0; background: transparent; } attention-explorer { display: block; }'
  + ' attention-explorer[height] { box-sizing: border-box; }' + (fillsFrame ? ' html, body { height: 100%; }' : ''));
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const parentWindow = window.parent !== window ? window.parent : null;
if (fillsFrame) {
  console.warn(`attention-explorer (embed.html): height=${length} is relative to this frame, so the widget fills the frame the host page `
    + 'sized and the frame reports no height (reporting it would make an auto-sizing host resize the frame without end). For a frame '
    + 'sized to the widget, leave height out or give a length in px, em or rem.');
} else {
  let reported = -1;
  const reportHeight = () => {
    const height = Math.ceil(el.getBoundingClientRect().height);
    if (!parentWindow || height === reported) return;
    reported = height;
    parentWindow.postMessage({ type: 'attention-explorer:height', height }, '*');
  };
  new ResizeObserver(reportHeight).observe(el);
}
el.addEventListener(EVENT, (e) => {
  if (parentWindow) parentWindow.postMessage({ type: EVENT, state: e.detail }, '*');
});
