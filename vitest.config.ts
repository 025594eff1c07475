import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: 'localhost', PACT_DO_NOT_TRACK: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts', 'contracts/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', '**/node_modules/**'],
          // Some unit tests spawn the CLI (1-2 s on a quiet host); a busy 2-core host makes that 5-8 s,
          // and vitest's 5 s default then fails them for the host's sake, not the code's.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.integration.test.ts', 'src/**/*.integration.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Real containers on a 2-core machine: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
