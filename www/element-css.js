// The element's stylesheet, adopted into each shadow root (a constructed stylesheet: no <style> or
// style attribute, so the strict CSP `style-src 'self'` holds). Colours are custom properties so the
// light, dark and auto themes only swap variables.
export const CSS = `
:host {
  --ae-bg: #ffffff; --ae-fg: #1d1d1f; --ae-muted: #5d6168; --ae-border: #d0d4da; --ae-panel: #f5f6f8;
  --ae-accent: #b4440f; --ae-accent-bg: #fde9dc; --ae-focus: #0b57d0; --ae-mask-bg: #e9eaee; --ae-mask-line: #9aa0a8; --ae-mlp: #7a3fb0;
  display: block; color: var(--ae-fg); background: var(--ae-bg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  border: 1px solid var(--ae-border); border-radius: 8px; contain: content; text-align: start;
}
:host([theme="dark"]) {
  --ae-bg: #17181b; --ae-fg: #e8e9ec; --ae-muted: #a4a9b2; --ae-border: #3a3d44; --ae-panel: #212328;
  --ae-accent: #ff9b5c; --ae-accent-bg: #4a2a17; --ae-focus: #8ab4ff; --ae-mask-bg: #2b2d33; --ae-mask-line: #6d727b; --ae-mlp: #c79bf0;
  color-scheme: dark;
}
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"]):not([theme="dark"])) {
    --ae-bg: #17181b; --ae-fg: #e8e9ec; --ae-muted: #a4a9b2; --ae-border: #3a3d44; --ae-panel: #212328;
    --ae-accent: #ff9b5c; --ae-accent-bg: #4a2a17; --ae-focus: #8ab4ff; --ae-mask-bg: #2b2d33; --ae-mask-line: #6d727b; --ae-mlp: #c79bf0;
    color-scheme: dark;
  }
}
:host([hidden]) { display: none; }
/* The host page's CSS must not restyle the widget: the inherited text properties are fixed on the host with
   !important, and for !important declarations the shadow tree's rules win over the page's, even over
   \`* { font-size: 40px !important }\`. A page sizes the widget's text with --ae-font-size. */
:host { font: var(--ae-font-size, 15px)/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif !important; color: var(--ae-fg) !important;
  letter-spacing: normal !important; word-spacing: normal !important; text-transform: none !important; text-indent: 0 !important;
  text-shadow: none !important; white-space: normal !important; text-align: start !important; font-variant-numeric: normal !important; }
:host([height]) { height: var(--ae-height); }
* { box-sizing: border-box; }
.ae { display: flex; flex-direction: column; gap: 10px; padding: 12px; height: 100%; min-width: 0; }
.ae-view { flex: 1 1 auto; min-height: 0; overflow: auto; }
:host([height]) .ae-view { overflow: auto; }
button, select, input, textarea { font: inherit; color: inherit; }
button, select { background: var(--ae-panel); border: 1px solid var(--ae-border); border-radius: 6px; padding: 4px 10px; cursor: pointer; }
button:hover { border-color: var(--ae-muted); }
button[aria-pressed="true"], button[aria-current="step"] { background: var(--ae-accent-bg); border-color: var(--ae-accent); }
button:disabled { opacity: 0.45; cursor: default; }
:focus-visible { outline: 3px solid var(--ae-focus); outline-offset: 2px; }
.muted { color: var(--ae-muted); }
.status { padding: 24px 12px; color: var(--ae-muted); }
.error { border-left: 4px solid var(--ae-accent); background: var(--ae-accent-bg); padding: 8px 12px; border-radius: 4px; }
.note { border-left: 4px solid var(--ae-accent); padding: 4px 10px; background: var(--ae-panel); }
.dropped { text-decoration: line-through; color: var(--ae-muted); }

/* input */
.ae-input { display: grid; gap: 6px; }
.ae-input label { font-weight: 600; }
textarea { width: 100%; min-height: 2.6em; resize: vertical; padding: 6px 8px; border: 1px solid var(--ae-border); border-radius: 6px; background: var(--ae-bg); }
.examples { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.count { font-size: 0.9em; color: var(--ae-muted); }
.count.over { color: var(--ae-accent); font-weight: 600; }

/* navigation */
.ae-nav { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.steplist { flex-basis: 100%; display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 0; padding: 0; }
.steplist button { padding: 3px 8px; font-size: 0.9em; }
.steplist .n { color: var(--ae-muted); margin-right: 3px; font-variant-numeric: tabular-nums; }
.toggle { display: inline-flex; gap: 5px; align-items: center; font-size: 0.92em; }

/* tools */
.ae-tools { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: flex-start; padding: 8px; background: var(--ae-panel); border-radius: 6px; }
.ae-tools[hidden], [hidden] { display: none !important; }
.group { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; border: 0; margin: 0; padding: 0; min-width: 0; }
.group > legend, .group-title { font-size: 0.8em; font-weight: 600; color: var(--ae-muted); text-transform: uppercase; letter-spacing: 0.04em; padding: 0; margin-right: 4px; float: left; }
.heads { display: flex; flex-wrap: wrap; gap: 6px; }
.head { display: grid; justify-items: center; gap: 2px; }
.head button { display: grid; justify-items: center; gap: 2px; padding: 4px; font-size: 0.8em; }
.head canvas { width: 52px; height: 52px; image-rendering: pixelated; border: 1px solid var(--ae-border); }
.head.off canvas { opacity: 0.3; }
.head label { font-size: 0.75em; display: inline-flex; gap: 3px; align-items: center; }

/* steps */
.step { padding: 4px 0 16px; }
.step + .step { border-top: 1px solid var(--ae-border); padding-top: 16px; }
.step h2 { font-size: 1.15em; margin: 0 0 2px; }
.step .math { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 0.92em; color: var(--ae-muted); margin: 0 0 8px; }
.step .explain p { margin: 0 0 8px; max-width: 72ch; }
.where { font-size: 0.9em; color: var(--ae-muted); }
.figure { margin: 12px 0; min-width: 0; max-width: 100%; }
.figs { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-start; }
.figs > .figure { margin: 8px 0; }
.fig-title { font-weight: 600; font-size: 0.9em; margin-bottom: 4px; }
.scroll { overflow-x: auto; max-width: 100%; }
.scroll-wrap { position: relative; max-width: 100%; }
.scroll-cue { display: none; position: absolute; top: 0; right: 0; bottom: 0; width: 56px; pointer-events: none; align-items: center; justify-content: flex-end;
  padding-right: 2px; font-size: 0.75em; font-weight: 600; color: var(--ae-accent); writing-mode: vertical-rl;
  background: linear-gradient(to right, transparent, var(--ae-bg) 70%); }
.scroll-wrap.more-right > .scroll-cue { display: flex; }
figcaption { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; font-size: 0.85em; }
svg { display: block; overflow: visible; }
svg.map { width: 100%; max-width: 560px; height: auto; }
svg.bars { width: 100%; max-width: 510px; height: auto; }
svg text { fill: var(--ae-fg); font-family: system-ui, sans-serif; }
svg .label { font-size: 11px; }
svg .axis-title { font-size: 11px; font-weight: 600; fill: var(--ae-muted); }
svg .tick { font-size: 10px; }
svg .muted, svg .vocab-label { fill: var(--ae-muted); }
svg .num { pointer-events: none; font-variant-numeric: tabular-nums; }
svg .num.masked { fill: var(--ae-muted); }
svg .num.sum { fill: var(--ae-muted); }
svg .mask-bg { fill: var(--ae-mask-bg); }
svg .mask-line { stroke: var(--ae-mask-line); }
svg .band { fill: none; stroke: none; pointer-events: none; }
svg .band.hl { stroke: var(--ae-accent); stroke-width: 2.5; }
svg .label.hl, svg .point-label.hl { fill: var(--ae-accent); font-weight: 700; }
svg .cursor { fill: none; stroke: var(--ae-focus); stroke-width: 3; pointer-events: none; }
canvas.grid { display: block; cursor: crosshair; }
.grid:focus-visible { outline-offset: -3px; }
.strip-canvas, canvas.grid { max-width: none; }
svg .att-line { stroke: var(--ae-focus); }
svg .att-line.hl { stroke: var(--ae-accent); }
svg .map-frame { fill: none; stroke: var(--ae-border); }
svg .vocab-dot { fill: var(--ae-muted); opacity: 0.45; }
svg .vocab-label { font-size: 9px; opacity: 0.7; }
svg .before { fill: var(--ae-bg); stroke: var(--ae-fg); stroke-width: 1.5; }
svg .after { fill: var(--ae-focus); }
svg .move { stroke: var(--ae-focus); stroke-width: 1.5; }
svg .arrow-head { fill: var(--ae-focus); }
svg .move.hl { stroke: var(--ae-accent); stroke-width: 3; }
svg .move-mlp { stroke: var(--ae-mlp); stroke-width: 1.5; }
svg .arrow-head.move-mlp { fill: var(--ae-mlp); }
svg .move-mlp.hl { stroke: var(--ae-accent); stroke-width: 3; }
svg .path-a, svg .arrow-head.path-a { stroke: var(--ae-focus); fill: var(--ae-focus); }
svg .path-b, svg .arrow-head.path-b { stroke: var(--ae-mlp); fill: var(--ae-mlp); }
svg line.path-a, svg line.path-b { stroke-width: 2; fill: none; }
svg.paths .move, svg.paths .move-mlp { stroke-width: 2; }
svg circle.before.path-a, svg circle.before.path-b { fill: var(--ae-bg); stroke-width: 2; }
svg text.point-label.path-a, svg text.point-label.path-b { stroke: none; font-weight: 600; }
.leg-key::before { content: ""; display: inline-block; width: 18px; height: 3px; margin-right: 5px; vertical-align: middle; background: var(--ae-focus); }
.leg-key.move-mlp::before, .leg-key.path-b::before { background: var(--ae-mlp); }
table.turns td { min-width: 7em; }
svg .before.hl, svg .after.hl { stroke: var(--ae-accent); stroke-width: 3; }
svg .point-label { font-size: 11px; }
svg .ghost { fill: none; stroke: var(--ae-fg); stroke-dasharray: 3 2; }
svg .num-out { font-size: 11px; font-variant-numeric: tabular-nums; }
.strip-grid { display: grid; grid-template-columns: auto auto; gap: 0 6px; width: max-content; }
.strip-labels { display: grid; grid-auto-rows: 16px; font-size: 11px; line-height: 14px; text-align: end; }
.strip-label { white-space: nowrap; max-width: 120px; overflow: hidden; text-overflow: ellipsis; }
.strip-label.hl { color: var(--ae-accent); font-weight: 700; }
.strip-canvas { image-rendering: pixelated; display: block; }
.legend { margin-top: 2px; }
.mask-key { display: inline-flex; gap: 6px; align-items: center; }
.mask-swatch { display: inline-block; width: 14px; height: 14px; border: 1px solid var(--ae-mask-line); background: repeating-linear-gradient(45deg, var(--ae-mask-bg) 0 3px, var(--ae-mask-line) 3px 5px); }
.chips { display: flex; flex-wrap: wrap; gap: 6px; list-style: none; padding: 0; margin: 8px 0; }
.chip { display: grid; border: 1px solid var(--ae-border); border-radius: 6px; padding: 4px 8px; background: var(--ae-panel); }
.chip.hl { border-color: var(--ae-accent); background: var(--ae-accent-bg); }
.chip-text { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre; }
.chip-id { font-size: 0.75em; color: var(--ae-muted); }
details.numbers { font-size: 0.85em; margin-top: 4px; }
details.numbers summary { cursor: pointer; color: var(--ae-muted); }
.table-scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.85em; margin-top: 4px; }
th, td { border: 1px solid var(--ae-border); padding: 2px 6px; text-align: end; white-space: nowrap; }
th[scope="row"] { text-align: start; font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre; }
table.neighbours th[scope="col"] { text-align: start; }
table.neighbours td { text-align: start; white-space: normal; min-width: 12em; }
tr.hl th, tr.hl td { background: var(--ae-accent-bg); }
caption { text-align: start; color: var(--ae-muted); padding-bottom: 2px; }
.row-controls { display: flex; flex-wrap: wrap; gap: 8px 20px; align-items: center; margin: 8px 0; }
.lead { font-weight: 600; }
.ablation-summary { margin: 0; flex-basis: 100%; font-size: 0.9em; }
svg .bar { fill: #31688e; }
:host([theme="dark"]) svg .bar { fill: #35b779; }
@media (prefers-color-scheme: dark) { :host(:not([theme="light"])) svg .bar { fill: #35b779; } }

/* wide views: the explanation beside the figures, so the numbers are on screen without scrolling */
.ae-view { container-type: inline-size; }
@container (min-width: 940px) {
  .step { display: grid; grid-template-columns: minmax(220px, 300px) minmax(0, 1fr); grid-template-rows: auto auto 1fr;
    grid-template-areas: "head head" "math body" "explain body"; column-gap: 28px; }
  .step > h2 { grid-area: head; }
  .step > .math { grid-area: math; }
  .step > .explain { grid-area: explain; font-size: 0.95em; }
  .step > :last-child { grid-area: body; min-width: 0; }
  .step > :last-child > .figure:first-child, .step > :last-child > .figs:first-child > .figure:first-child { margin-top: 0; }
}

/* the arithmetic panel */
.ae-detail { min-height: 2.6em; padding: 6px 10px; background: var(--ae-panel); border-radius: 6px; font-size: 0.88em; }
.ae-detail p { margin: 0 0 3px; }
.ae-detail .terms { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em; word-break: break-word; }
.ae-foot { display: flex; flex-wrap: wrap; gap: 6px 16px; justify-content: space-between; font-size: 0.8em; color: var(--ae-muted); }
.ae-foot .export { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
.ae-foot button { font-size: 0.95em; padding: 2px 8px; }

@media (max-width: 520px) {
  .ae { padding: 8px; }
  .ae-tools { padding: 6px; gap: 8px; }
  .head canvas { width: 40px; height: 40px; }
}
@media (prefers-reduced-motion: no-preference) {
  button { transition: background-color 120ms, border-color 120ms; }
}
@media print {
  .ae-nav, .ae-tools, .ae-foot .export, .ae-input .examples, .ae-detail { display: none; }
  :host { border: 0; --ae-bg: #fff; --ae-fg: #000; --ae-panel: #fff; }
  details.numbers { display: none; }
}
`;
