// <attention-explorer>: every step of attention, drawn from the real trace of the sentence shown.
//
// One include is enough: `<script type="module" src=".../attention-explorer.js">` defines the element
// under its default tag (through define.js, unless that tag is already taken). The wasm module and the
// model are found relative to engine.js and shared by every instance on the page.
//
//   element/explorer.js     the class: attributes ↔ properties, state, lifecycle, analysis, one step rendered
//   element/controls.js     the text box, step list, layer/head pickers, ablations, credit line
//   element/interaction.js  hover, focus and keys in the view, and the detail panel
//   element/export.js       SVG, PNG, CSV and JSON of the current view
//   steps/*.js              one module per step (its id, title, math, prose, figures and data)
import './define.js';

export { AttentionExplorer, DEFAULT_TEXT, EVENT } from './element/explorer.js';
export { EXAMPLES } from './element/controls.js';
export { define } from './define.js';
