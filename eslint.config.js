'use strict';
// ESLint (flat config): typescript-eslint for nodes/**/*.ts, eslint's recommended rules for the
// JavaScript in test/, scripts/, bench/ and resources/. Formatting is Prettier's job.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');
const prettier = require('eslint-config-prettier');

module.exports = tseslint.config(
  { ignores: ['dist/**', 'resources/rules.js', 'node_modules/**', '.cache/**', '.node-red/**', 'coverage/**'] },
  js.configs.recommended,
  {
    files: ['nodes/**/*.ts'],
    extends: [...tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', ecmaVersion: 2022, globals: { ...globals.node, ...globals.mocha } },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // code handed to page.evaluate runs in the editor
    files: ['test/browser/**/*.js', 'test/support/browser.js', 'scripts/screenshot-examples.js'],
    languageOptions: { globals: { ...globals.browser, RED: 'readonly', $: 'readonly' } },
  },
  {
    files: ['resources/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { ...globals.browser, RED: 'readonly', $: 'readonly', jQuery: 'readonly' },
    },
  },
  {
    // a message's way through HTTP POST and the durable queue: no object spread. On Node.js 20 the copy a
    // spread makes keeps what it points at alive past the young generation (docs/performance.md, "What
    // kept memory up"); Object.assign does not.
    files: [
      'nodes/lib/http/{abort,attempt-headers,deliver,delivery,transport,undici}.ts',
      'nodes/lib/http-post/{in-flight,request}.ts',
      'nodes/lib/outbox/{durable-step,fast-lane,in-process,scheduler,secret-headers}.ts',
      'nodes/lib/short-lived.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ObjectExpression > SpreadElement',
          message: "No object spread on a message's path: use Object.assign({}, …) (docs/performance.md).",
        },
      ],
    },
  },
  {
    rules: {
      // Node-RED's node constructors keep `const node = this` for their callbacks.
      '@typescript-eslint/no-this-alias': 'off',
      // Validators match control characters and combining marks on purpose.
      'no-control-regex': 'off',
      'no-misleading-character-class': 'off',
    },
  },
  prettier,
);
