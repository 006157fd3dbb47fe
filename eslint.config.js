// Lint = style + layering. Layers are folders, as in VS Code's common/node/browser/electron-main:
//   src-main/common/**   pure TypeScript shared with the renderer: no node builtins, no electron
//   src-main/** (core)   node, never electron (only src-main/electron/** may import it)
//   src-renderer/**      browser: no node builtins, no electron, from src-main only common/**
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const noNode = {
  paths: nodeBuiltins.map((name) => ({ name, message: 'This layer runs in a browser: no node modules.' })),
  patterns: [{ group: ['node:*'], message: 'This layer runs in a browser: no node modules.' }],
};
const noElectron = { name: 'electron', message: 'Only src-main/electron/** may import electron: the core runs under plain Node.' };

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', '.test-artifacts/**', 'src-renderer/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/electron/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [noElectron], patterns: [{ regex: 'src-renderer', message: 'The main side never imports the renderer; shared code goes in src-main/common.' }] },
      ],
    },
  },
  {
    files: ['src-main/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [noElectron, ...noNode.paths], patterns: [...noNode.patterns, { regex: 'src-renderer|/core/', message: 'common/ depends on nothing but itself.' }] },
      ],
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte', 'src-renderer/**/*.svelte.ts'],
    ignores: ['src-renderer/vite.config.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.audioWorklet } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noElectron, ...noNode.paths],
          patterns: [
            ...noNode.patterns,
            { regex: 'src-main/(?!common/)', message: 'The renderer may import only src-main/common/** (the contract).' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
);
