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
.ae { display: flex; flex-direction: column; gap: 8px; padding: 12px; height: 100%; min-width: 0; container: ae / inline-size; }
.ae-view { flex: 1 1 auto; min-height: 0; overflow: auto; }
:host([height]) .ae-view { overflow: auto; }
button, select, input, textarea { font: inherit; color: inherit; }
button, select { background: var(--ae-panel); border: 1px solid var(--ae-border); border-radius: 6px; padding: 4px 10px; cursor: pointer; }
button:hover { border-color: var(--ae-muted); }
button[aria-pressed="true"], button[aria-current="step"] { background: var(--ae-accent-bg); border-color: var(--ae-accent); }
button:disabled { opacity: 0.45; cursor: default; }
:focus-visible { outline: 3px solid var(--ae-focus); outline-offset: 2px; }
.muted { color: var(--ae-muted); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.status { padding: 24px 12px; color: var(--ae-muted); }
.error { border-left: 4px solid var(--ae-accent); background: var(--ae-accent-bg); padding: 8px 12px; border-radius: 4px; }
.note { border-left: 4px solid var(--ae-accent); padding: 4px 10px; background: var(--ae-panel); }
.dropped { text-decoration: line-through; color: var(--ae-muted); }

/* input */
.ae-input { display: grid; gap: 5px 10px; grid-template-columns: auto minmax(0, 1fr) auto;
  grid-template-areas: "label text text" "examples examples modes" "compare compare compare"; align-items: center; }
.ae-input label { font-weight: 600; }
.ae-top { display: contents; }
.ae-top > label { grid-area: label; white-space: nowrap; }
.ae-top > .ae-modes { grid-area: modes; }
.ae-input > textarea { grid-area: text; }
.ae-input > .examples { grid-area: examples; min-width: 0; }
.ae-input > .compare-box { grid-area: compare; }
textarea { width: 100%; min-height: 2.2em; resize: vertical; padding: 5px 8px; border: 1px solid var(--ae-border); border-radius: 6px; background: var(--ae-bg); field-sizing: content; max-height: 12em; }
.examples { display: flex; flex-wrap: wrap; gap: 5px; align-items: center; font-size: 0.9em; }
.examples button { padding: 2px 8px; }
.count { font-size: 0.9em; color: var(--ae-muted); }
.count.over { color: var(--ae-accent); font-weight: 600; }

/* navigation */
.ae-nav { display: flex; flex-wrap: nowrap; gap: 5px; align-items: flex-start; }
.ae-nav > button { padding: 2px 9px; font-size: 0.9em; }
.steplist { flex: 0 1 auto; min-width: 0; display: flex; flex-wrap: wrap; gap: 3px; list-style: none; margin: 0; padding: 0; }
.steplist button { padding: 2px 6px; font-size: 0.85em; }
.steplist .n { color: var(--ae-muted); margin-right: 3px; font-variant-numeric: tabular-nums; }
.toggle { display: inline-flex; gap: 5px; align-items: center; font-size: 0.92em; }

/* tools */
.ae-tools { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; padding: 5px 8px; background: var(--ae-panel); border-radius: 6px; }
.more-tools { display: none; font-size: 0.85em; padding: 2px 8px; }
.ablation-summary:empty { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); margin: 0; }
.ae-tools[hidden], [hidden] { display: none !important; }
.group { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; border: 0; margin: 0; padding: 0; min-width: 0; }
.group > legend, .group-title { font-size: 0.8em; font-weight: 600; color: var(--ae-muted); text-transform: uppercase; letter-spacing: 0.04em; padding: 0; margin-right: 4px; float: left; }
.heads { display: flex; flex-wrap: wrap; gap: 6px; }
.head { display: flex; align-items: center; gap: 2px; }
.head button { display: grid; grid-template-columns: auto auto; grid-template-rows: auto auto; column-gap: 5px; align-items: center; justify-items: start; padding: 3px 6px 3px 3px; font-size: 0.8em; text-align: start; }
.head button canvas { grid-row: 1 / 3; }
.head canvas { width: 30px; height: 30px; image-rendering: pixelated; border: 1px solid var(--ae-border); }
.head.off canvas { opacity: 0.3; }
.head label { font-size: 0.75em; display: inline-flex; flex-direction: column; gap: 0; align-items: center; }

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

/* modes, the tour and compare */
.ae-modes { display: flex; flex-wrap: wrap; gap: 4px; }
.ae-modes button { font-size: 0.9em; padding: 3px 10px; }
.ae-tour { border: 1px solid var(--ae-accent); border-radius: 8px; padding: 8px 12px; background: var(--ae-panel); display: grid; grid-template-columns: minmax(0, 1fr); gap: 6px; }
.ae-tour > * { min-width: 0; }
.tour-head { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; }
.tour-title { font-size: 1.05em; margin: 0; flex: 1 1 16em; }
.tour-dots { display: flex; flex-wrap: wrap; gap: 3px; list-style: none; margin: 0; padding: 0; }
.tour-dots button { padding: 1px 7px; font-size: 0.8em; min-width: 2em; }
.tour-question { margin: 0; max-width: 80ch; }
.tour-act { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.tour-choice.right { border-color: #1b7f3b; background: #e2f4e7; color: #0f3d1d; opacity: 1; }
.tour-choice.wrong { border-color: var(--ae-accent); text-decoration: line-through; opacity: 1; }
.tour-answer p { margin: 0 0 4px; max-width: 80ch; }
.tour-answer:focus { outline: none; }
.tour-answer:focus-visible { outline: 3px solid var(--ae-focus); }
.tour-caption { border-left: 4px solid var(--ae-accent); padding-left: 8px; }
.tour-sentence { margin: 0; font-size: 0.88em; }
.tour-exhibit:empty { display: none; }
.veiled { filter: blur(7px) grayscale(0.6); opacity: 0.55; user-select: none; }
.veil-note { font-weight: 600; color: var(--ae-accent); margin: 4px 0; }
.ae-callout { border-left: 4px solid var(--ae-accent); background: var(--ae-accent-bg); padding: 6px 10px; border-radius: 4px; margin: 0 0 8px; max-width: 80ch; }
.marked { color: var(--ae-accent); font-weight: 700; }
.chip.marked { border-color: var(--ae-accent); border-width: 2px; }
.head-name { font-size: 0.9em; color: var(--ae-muted); max-width: 8em; line-height: 1.15; }
.head-name:empty { display: none; }
.compare-box { display: grid; gap: 4px; }
input.compare-text { width: 100%; padding: 5px 8px; border: 1px solid var(--ae-border); border-radius: 6px; background: var(--ae-bg); }
.compare-box label:first-child { font-weight: 600; }
.compare-cols { display: flex; flex-wrap: wrap; gap: 8px 28px; }
.compare-col { flex: 1 1 280px; }
.compare-sentence { margin: 0 0 4px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em; white-space: pre-wrap; }
.ctok.marked { background: var(--ae-accent-bg); border-radius: 3px; }
svg .bar.path-a { fill: var(--ae-focus); }
svg .bar.path-b { fill: var(--ae-mlp); }
svg .leg-mlp { stroke-dasharray: 5 3; }
svg .cos-track { fill: var(--ae-mask-bg); }
svg .cos-fill { fill: var(--ae-focus); }
table.cosines th[scope="row"] { font-family: inherit; white-space: normal; }

/* glossary and embed */
.term-wrap { display: inline; }
button.term { font: inherit; color: inherit; background: none; border: 0; border-bottom: 1px dotted var(--ae-focus); border-radius: 0; padding: 0; cursor: help; }
button.term[aria-expanded="true"] { color: var(--ae-focus); }
.gloss-pop { display: block; margin: 4px 0 6px; padding: 6px 10px; background: var(--ae-panel); border: 1px solid var(--ae-border); border-left: 4px solid var(--ae-focus); border-radius: 4px; font-size: 0.92em; }
.gloss-pop[hidden] { display: none; }
.ae-glossary summary { cursor: pointer; }
.ae-glossary dl { margin: 6px 0; max-width: 80ch; font-size: 1.1em; }
.ae-glossary dt { font-weight: 700; color: var(--ae-fg); }
.ae-glossary dd { margin: 0 0 6px 0; color: var(--ae-fg); }
.ae-embed { border: 1px solid var(--ae-border); border-radius: 8px; padding: 8px 12px; display: grid; gap: 6px; }
.ae-embed h2 { font-size: 1em; margin: 0; }
.ae-embed p { margin: 0; font-size: 0.88em; }
.snippet-block { display: grid; grid-template-columns: 1fr auto; gap: 2px 8px; align-items: end; }
.snippet-block label { grid-column: 1 / -1; font-size: 0.85em; font-weight: 600; }
textarea.snippet { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.8em; resize: vertical; background: var(--ae-panel); }

/* the arithmetic panel */
.ae-detail { min-height: 2.6em; padding: 6px 10px; background: var(--ae-panel); border-radius: 6px; font-size: 0.88em; }
.ae-detail p { margin: 0 0 3px; }
.ae-detail .terms { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em; word-break: break-word; }
.ae-foot { display: flex; flex-wrap: wrap; gap: 6px 16px; justify-content: space-between; font-size: 0.8em; color: var(--ae-muted); }
.ae-foot .export { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
.ae-foot button { font-size: 0.95em; padding: 2px 8px; }

@media (max-width: 520px) {
  .ae { padding: 8px; }
}
/* a narrow widget: one scrolling row of examples and of steps, the ablations and view switches folded away,
   and the figure before its explanation, so that the picture is on the first screen */
@container ae (max-width: 620px) {
  .ae-input { grid-template-columns: minmax(0, 1fr) auto; grid-template-areas: "label modes" "text text" "examples examples" "compare compare"; }
  .examples, .steplist { flex-wrap: nowrap; overflow-x: auto; scrollbar-width: thin; padding-bottom: 2px; }
  .examples > *, .steplist > li { flex: 0 0 auto; }
  .ae-nav { flex-wrap: nowrap; }
  .steplist { flex: 1 1 auto; }
  .group-title { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  .more-tools { display: inline-block; }
  .ae-tools:not(.open) > .extra { display: none; }
  .ae-tools { gap: 4px 10px; }
  .head button { grid-template-columns: auto; justify-items: center; padding: 2px; font-size: 0.72em; }
  .head button canvas { grid-row: auto; }
  .head-name { display: none; }
  .head label { font-size: 0.7em; }
}
@container (max-width: 939px) {
  .step { display: flex; flex-direction: column; }
  .step > .explain { order: 4; }
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
