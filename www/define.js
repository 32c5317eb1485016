// Registers <attention-explorer> (or the element under another tag): `define('my-explorer')`.
// Importing attention-explorer.js alone already defines the default tag; this module exists so a page
// can choose the tag and the registry (a scoped registry, for instance).
import { AttentionExplorer } from './attention-explorer.js';

export { AttentionExplorer };

export function define(tag = 'attention-explorer', registry = customElements) {
  return AttentionExplorer.define(tag, registry);
}
