// ESLint (pinned in package.json): the recommended rules, plus the size limits the code keeps (a file a
// newcomer reads in one sitting, a function that fits on a screen). `npx eslint` from the repository root.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['www/pkg/**', 'dist/**', 'target/**', 'node_modules/**', 'fuzz/**', 'benches/**', 'tests/**', 'trainer/**'] },
  js.configs.recommended,
  {
    files: ['www/**/*.js'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['tools/**/*.mjs', 'eslint.config.js'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.node },
  },
  {
    // engine.js is also being changed on another branch: its one `throw` without a `cause` is left for that
    // merge, after which this exception goes.
    files: ['www/engine.js'],
    rules: { 'preserve-caught-error': 'off' },
  },
  {
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'none' }],
    },
  },
];
