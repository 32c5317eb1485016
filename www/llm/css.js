// The large-model view's styles (a constructed stylesheet adopted beside the element's own, so the
// strict CSP `style-src 'self'` holds); colours are the element's custom properties.
export const LLM_CSS = `
.ae-llm { gap: 10px; }
.llm-load { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.llm-status { margin: 0; }
.llm-progress { width: 220px; }
.llm-text { width: 100%; resize: vertical; padding: 6px 8px; border: 1px solid var(--ae-border); border-radius: 6px; background: var(--ae-bg); }
.llm-examples { display: flex; gap: 6px; flex-wrap: wrap; margin-top: 6px; }
.llm-notice:empty { display: none; }
.llm-predict p { margin: 0; }
.llm-top { margin: 4px 0 0; padding-left: 1.6em; display: flex; flex-wrap: wrap; gap: 2px 22px; }
.llm-pickers { display: flex; gap: 14px; flex-wrap: wrap; align-items: center; }
.llm-gqa, .llm-gallery-note { max-width: 80ch; color: var(--ae-muted); }
.llm-step h3 { font-size: 1.1em; margin: 8px 0 2px; }
.llm-step .explain { max-width: 80ch; margin: 0 0 8px; }
.llm-gallery-wrap { content-visibility: auto; contain-intrinsic-size: auto 1900px; }
.llm-gallery { display: grid; grid-template-columns: repeat(var(--llm-cols, 9), minmax(0, 1fr)); gap: 4px; }
.llm-head { display: grid; justify-items: center; gap: 1px; padding: 3px; font-size: 0.72em; line-height: 1.2; }
.llm-head[aria-pressed="true"] { background: var(--ae-accent-bg); border-color: var(--ae-accent); }
.llm-thumb { image-rendering: pixelated; border: 1px solid var(--ae-border); }
.llm-head-name { color: var(--ae-muted); text-align: center; }
.llm-head[data-name="induction"] .llm-head-name, .llm-head[data-name="previous token"] .llm-head-name { color: var(--ae-accent); font-weight: 600; }
.llm-rules { margin: 4px 0; }
.llm-matrix { font-size: 0.95em; margin: 10px 0 2px; font-family: ui-monospace, Menlo, Consolas, monospace; }
`;
