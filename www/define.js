// The one place that registers <attention-explorer>: importing this module defines the default tag (unless
// the page already did), and `define(tag, registry)` registers the element under another tag or in another
// registry (a scoped registry, for instance): `define('my-explorer')`. The class itself (element/explorer.js)
// has no side effects, so a page that wants only its own tag imports the class and calls
// `AttentionExplorer.define('my-tag')`.
import { AttentionExplorer } from './element/explorer.js';

export { AttentionExplorer };

export function define(tag = 'attention-explorer', registry = customElements) {
  return AttentionExplorer.define(tag, registry);
}

if (typeof customElements !== 'undefined' && !customElements.get('attention-explorer')) define();
