import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/runner/**/*.test.ts', 'test/cli/**/*.test.ts'],
    // Runner and CLI tests start real child processes running tfjs; give them room on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
