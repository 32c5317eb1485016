// iframe mode (embed.html): the element fills the frame's width, takes its attributes from the query string,
// and tells the parent page its height so the host can size the frame to fit:
//   parent ← { type: 'attention-explorer:height', height }   whenever the rendered height changes
//   parent ← { type: 'attention-explorer:change', state }    on every change of view (the element's event)
// A host with several frames tells them apart by `event.source === frame.contentWindow`.
import { EVENT } from './attention-explorer.js';

const ATTRIBUTES = ['text', 'step', 'steps', 'layer', 'head', 'controls', 'transpose', 'theme', 'height'];
const el = document.querySelector('attention-explorer');
const params = new URLSearchParams(location.search);
for (const name of ATTRIBUTES) {
  if (!params.has(name) || (name === 'transpose' && params.get(name) === 'false')) continue;
  el.setAttribute(name, params.get(name));
}

// Page styles as a constructed sheet (allowed under style-src 'self'): no margins, transparent around the widget.
const sheet = new CSSStyleSheet();
sheet.replaceSync('html, body { margin: 0; padding: 0; background: transparent; } attention-explorer { display: block; }'
  + ' attention-explorer[height] { box-sizing: border-box; }');
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const parentWindow = window.parent !== window ? window.parent : null;
let reported = -1;
function reportHeight() {
  const height = Math.ceil(el.getBoundingClientRect().height);
  if (!parentWindow || height === reported) return;
  reported = height;
  parentWindow.postMessage({ type: 'attention-explorer:height', height }, '*');
}
new ResizeObserver(reportHeight).observe(el);
el.addEventListener(EVENT, (e) => {
  if (parentWindow) parentWindow.postMessage({ type: EVENT, state: e.detail }, '*');
});
