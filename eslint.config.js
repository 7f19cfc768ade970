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
