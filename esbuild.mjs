// One build() per runtime entry; type-checking is separate (`npm run typecheck`).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildPackage as buildWasmTraining, wasmFiles as wasmTrainingFiles } from './packages/tfjs-backend-wasm-training/build.mjs';
import { generateRunnerSchema } from './scripts/gen-schema.mjs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');

/** Node entries keep tfjs and esbuild as real packages: tfjs is loaded per run, esbuild is native. */
const nodeExternal = ['@tensorflow/*', 'esbuild', 'vscode'];

/** The layout worker is bundled first and inlined as text: a webview can only start workers from blob: URLs. */
const layoutWorker = {
  name: 'layout-worker',
  setup(b) {
    b.onResolve({ filter: /^virtual:layout-worker$/ }, () => ({ path: 'layout-worker', namespace: 'virtual' }));
    b.onLoad({ filter: /.*/, namespace: 'virtual' }, async () => {
      const r = await esbuild.build({
        entryPoints: ['src/webview/graph/layout-worker.ts'],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: 'es2022',
        minify: true,
      });
      return { contents: r.outputFiles[0].text, loader: 'text', watchFiles: ['src/webview/graph/layout-worker.ts', 'src/webview/graph/dagre-layout.ts'] };
    });
  },
};

const build = (options) =>
  (watch ? esbuild.context(options).then((c) => c.watch()) : esbuild.build(options));

/**
 * A Node entry of ours: one CommonJS file with a source map, tfjs and esbuild left as packages. The workspace
 * packages (packages/*) are bundled from their TypeScript source (their `wasm-training-source` export condition).
 */
const nodeEntry = (entry, outfile, extra = {}) =>
  build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    external: nodeExternal,
    conditions: ['wasm-training-source'],
    ...extra,
  });

/** Minified for load time, with names kept so stack traces and `constructor.name` still read. */
const minified = { minify: !watch, keepNames: true };

// The workspace package of the wasm training kernels first: its dist/ is what a plain `import` of it in Node
// loads (its tests do). In watch mode only its JS: the declarations are for its npm users.
await buildWasmTraining({ declarations: !watch });
// Its wasm-SIMD kernels are looked up next to the code that runs: bundled into dist/runner.js, that is dist/.
mkdirSync('dist', { recursive: true });
for (const f of wasmTrainingFiles()) copyFileSync(f, path.join('dist', path.basename(f)));

await Promise.all([
    // Activation loads extension.js alone; the host (dist/host.js) comes with the first command or restored panel,
  // the engine with the first run. Minified (names kept, source maps beside them): all three are parsed on the way.
  nodeEntry('src/host/extension.ts', 'dist/extension.js', minified),
  nodeEntry('src/host/vscode/host-core.ts', 'dist/host.js', minified),
  nodeEntry('src/engine/run-script.ts', 'dist/engine.js', minified),
  nodeEntry('src/runner/main.ts', 'dist/runner.js'),
  // Beside the runner: its ES module hooks (module.register loads them by URL, on their own thread on Node 20),
  // its host watchdog (a worker thread) and the reaper the watchdog starts when the host died.
  nodeEntry('src/runner/esm-loader-hooks.ts', 'dist/esm-loader-hooks.mjs', { format: 'esm' }),
  nodeEntry('src/runner/host-watchdog.ts', 'dist/host-watchdog.js'),
  nodeEntry('src/engine/reaper.ts', 'dist/reaper.js'),
  nodeEntry('src/cli/main.ts', 'dist/cli.js', { define: { LOSS_LENS_VERSION: JSON.stringify(version) } }),
  // The webview: one browser bundle plus its CSS, loaded by the panel HTML (src/host/panel/webview-html.ts).
  build({
    entryPoints: { main: 'src/webview/main.ts' },
    outdir: 'dist/webview',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: !watch && !process.env.LL_NO_MINIFY,
    sourcemap: true,
    plugins: [layoutWorker],
  }),
  // The standalone harness: replays recorded runs into the real panel page (tests, bench, manual work).
  build({
    entryPoints: { harness: 'test/webview/harness/harness-page.ts' },
    outdir: 'dist/harness',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: true,
  }),
  nodeEntry('test/webview/harness/harness-server.ts', 'dist/harness/server.cjs', { sourcemap: false }),
  // The runner contract as JSON Schema (schema/runner-events.schema.json), shipped for runners in other languages.
  generateRunnerSchema(),
]);
