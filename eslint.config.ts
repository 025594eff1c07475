import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Imports only go down: cli -> certify|report|kubernetes -> boot|faults|load|contracts|security|recovery
// -> auth -> runner -> stack -> provision -> config -> core (docs/architecture.md).
// The middle row: stage modules share only what is below them.
const STAGE_DIRS = [
  './src/boot',
  './src/faults',
  './src/load',
  './src/contracts',
  './src/security',
  './src/recovery',
  './src/signals',
];
const layer = (target: string, from: string[], message: string) => ({ target, from, message });

export default defineConfig(
  {
    ignores: [
      'node_modules',
      'dist',
      'reports',
      'fixtures/stack/node_modules',
      'scenarios/load',
      // Examples: run folders, built binaries and k6 scripts (typechecked by their own tsconfig).
      'examples/*/reports',
      'examples/*/bin',
      'examples/*/load',
      'contracts/pacts',
      'bin',
      // Deliberately malformed configs for the CLI's bad-input tests.
      'test/fixtures/configs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            layer(
              './src/core',
              [
                './src/config',
                './src/provision',
                './src/stack',
                './src/runner',
                './src/boot',
                './src/certify',
                './src/report',
                './src/cli',
              ],
              'core imports nothing of ours',
            ),
            layer(
              './src/config',
              [
                './src/provision',
                './src/stack',
                './src/runner',
                './src/boot',
                './src/certify',
                './src/report',
                './src/cli',
              ],
              'config imports only core',
            ),
            layer(
              './src/provision',
              ['./src/stack', './src/runner', './src/boot', './src/certify', './src/report', './src/cli'],
              'provision imports config and core',
            ),
            layer(
              './src/stack',
              ['./src/runner', './src/boot', './src/certify', './src/report', './src/cli'],
              'stack imports provision, config, core',
            ),
            layer(
              './src/runner',
              ['./src/auth', ...STAGE_DIRS, './src/certify', './src/report', './src/cli', './src/kubernetes'],
              'runner is below auth and the stages',
            ),
            // Every stage folder: only what is below the stages (auth, runner, stack, provision, config, core).
            ...STAGE_DIRS.map((stage) =>
              layer(
                stage,
                [
                  ...STAGE_DIRS.filter((other) => other !== stage),
                  './src/certify',
                  './src/report',
                  './src/cli',
                  './src/kubernetes',
                ],
                'a stage module imports only auth, runner, stack, provision, config and core; never another stage',
              ),
            ),
            layer(
              './src/auth',
              [...STAGE_DIRS, './src/certify', './src/report', './src/cli', './src/kubernetes'],
              'auth is below the stages: every stage takes credentials from it',
            ),
            layer('./src/certify', ['./src/report', './src/cli', ...STAGE_DIRS], 'certify reads results, not stages'),
            layer('./src/report', ['./src/cli', ...STAGE_DIRS], 'report is below cli'),
            layer(
              './src',
              ['./suites', './scenarios', './fixtures'],
              'src never imports suites, scenarios or fixtures',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**', 'bench/**', 'ci/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // vitest's asymmetric matchers (expect.stringContaining) are typed any.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
