// One build() per runtime entry; type-checking is separate (`npm run typecheck`).
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');

/** Node entries keep tfjs and esbuild as real packages: tfjs is loaded per run, esbuild is native. */
const nodeExternal = ['@tensorflow/*', 'esbuild', 'vscode'];

const build = (options) =>
  (watch ? esbuild.context(options).then((c) => c.watch()) : esbuild.build(options));

await Promise.all([
  build({
    entryPoints: ['src/host/extension.ts'],
    outfile: 'dist/extension.js',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    external: nodeExternal,
  }),
  build({
    entryPoints: ['src/runner/main.ts'],
    outfile: 'dist/runner.js',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    external: nodeExternal,
  }),
  build({
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    external: nodeExternal,
    define: { LOSS_LENS_VERSION: JSON.stringify(version) },
  }),
]);
