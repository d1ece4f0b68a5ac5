import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{unit,runner,cli,kernels,webview,packaging}/**/*.test.ts'],
    // Runner and CLI tests start real child processes running tfjs; give them room on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
