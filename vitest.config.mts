import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const wasmTraining = (file: string) => fileURLToPath(new URL(`./packages/tfjs-backend-wasm-training/src/${file}`, import.meta.url));

export default defineConfig({
  // Tests read the workspace package's TypeScript source (as tsc and esbuild do, by its `wasm-training-source`
  // export condition), never a stale dist/. Its own acceptance test loads dist/ in a plain node child process.
  resolve: {
    alias: [
      { find: /^tfjs-backend-wasm-training$/, replacement: wasmTraining('index.ts') },
      { find: /^tfjs-backend-wasm-training\/api$/, replacement: wasmTraining('api.ts') },
    ],
  },
  test: {
    include: ['test/{unit,runner,cli,kernels,webview,packaging}/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // Runner and CLI tests start real child processes running tfjs; give them room on 2 cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
