import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SIMD_WASM_FILES } from 'tfjs-backend-wasm-training/api';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The prebuilt binaries, in the workspace package this resolves to. */
const SIMD_DIR = path.join(path.dirname(createRequire(import.meta.url).resolve('tfjs-backend-wasm-training/package.json')), 'src/simd');

describe('packaging', () => {
  // `npm test` builds dist/ first (rebuilding here would race the tests that run dist/runner.js).
  it('the build puts both binaries next to dist/runner.js, and the VSIX ships them', () => {
    for (const file of Object.values(SIMD_WASM_FILES)) {
      expect(readFileSync(path.join(ROOT, 'dist', file)).equals(readFileSync(path.join(SIMD_DIR, file))), file).toBe(true);
    }
    const ls = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/@vscode/vsce/vsce'), 'ls'], { cwd: ROOT, encoding: 'utf8' });
    expect(ls.status, ls.stderr).toBe(0);
    const shipped = ls.stdout.split('\n').map((l) => l.trim());
    for (const file of Object.values(SIMD_WASM_FILES)) expect(shipped).toContain(`dist/${file}`);
    // The threaded build (adaptive threads): its glue and worker from wasm-out/, its binary from dist/.
    for (const file of ['wasm-out/tfjs-backend-wasm-threaded-simd.js', 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js', 'dist/tfjs-backend-wasm-threaded-simd.wasm']) {
      expect(shipped).toContain(`node_modules/@tensorflow/tfjs-backend-wasm/${file}`);
    }
  });
});
