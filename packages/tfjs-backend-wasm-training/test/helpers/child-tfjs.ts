import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { SIMD_WASM_FILES } from '../../src/simd/simd-module';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Bundles the backend setup (no tfjs inside: it is passed in) for a plain `node` child process. */
function bundleBackendSetup(dir: string): string {
  const entry = path.join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export { preferThreadedWasm } from ${JSON.stringify(path.join(ROOT, 'src/threaded-wasm-backend'))};\n` +
      `export { installWasmTrainingKernels } from ${JSON.stringify(path.join(ROOT, 'src/wasm-training-kernels'))};\n` +
      `export { installAdaptiveThreads, adaptiveThreadsStats } from ${JSON.stringify(path.join(ROOT, 'src/wasm-threads/adaptive-threads'))};\n` +
      `export { threadPoolsOf } from ${JSON.stringify(path.join(ROOT, 'src/wasm-threads/thread-pools'))};\n`,
  );
  const outfile = path.join(dir, 'backend-setup.cjs');
  buildSync({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' });
  // The SIMD kernels are looked up next to the bundle, as in dist/.
  for (const f of Object.values(SIMD_WASM_FILES)) copyFileSync(path.join(ROOT, 'src/simd', f), path.join(dir, f));
  return outfile;
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to exit. */
  elapsed: number;
}

/**
 * Runs `body` (JavaScript with `tf` in scope, on wasm with our kernels and `threads` threads)
 * in a fresh node process that must end by itself; killed after `timeoutMs`.
 */
export function runInChild(body: string, threads: number, timeoutMs = 60_000, adaptive = false): Promise<ChildResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wasm-training-child-'));
  const setup = bundleBackendSetup(dir);
  const script = path.join(dir, 'script.cjs');
  writeFileSync(
    script,
    `const req = require('node:module').createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))});\n` +
      `const setup = require(${JSON.stringify(setup)});\n` +
      `const { preferThreadedWasm, installWasmTrainingKernels } = setup;\n` +
      `const tf = req('@tensorflow/tfjs');\nreq('@tensorflow/tfjs-backend-wasm');\n` +
      `preferThreadedWasm(tf, req, ${threads}, (r) => { console.error('threaded wasm failed: ' + r); process.exitCode = 3; }, ${adaptive});\n` +
      `(async () => {\n  await tf.setBackend('wasm');\n  installWasmTrainingKernels(tf, () => {});\n` +
      `${adaptive ? "  if (!setup.installAdaptiveThreads(tf)) throw new Error('adaptive threads did not install');\n" : ''}${body}\n})();\n`,
  );
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsed: Date.now() - started });
    });
  });
}
