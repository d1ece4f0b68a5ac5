#!/usr/bin/env node
// Builds this package's wasm-SIMD kernels from AssemblyScript source (assemblyscript is a pinned
// devDependency, so `npm ci` brings the whole toolchain; its compiler and Binaryen are JS/wasm and
// give the same bytes on every machine).
//
//   node scripts/build-simd-kernels.mjs           writes the .wasm files next to the source
//   node scripts/build-simd-kernels.mjs --check   rebuilds in memory and fails if the committed bytes differ
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SIMD_DIR = path.join(root, 'src/simd');
const SOURCE = 'src/simd/assembly/index.ts';

const COMMON = [
  '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd',
  // No memory of its own: the tfjs backend's heap is imported, and nothing may be laid out in it.
  '--importMemory', '--noExportMemory', '--initialMemory', '1', '--use', 'abort=',
];
/** One binary per kind of backend heap: the threaded build's is shared memory. */
export const VARIANTS = {
  'wasm-training-simd.wasm': COMMON,
  'wasm-training-simd-shared.wasm': [...COMMON, '--enable', 'threads', '--sharedMemory', '--maximumMemory', '65536'],
};

/** Compiles every variant; returns file name → bytes. */
export async function buildSimdKernels() {
  const asc = await import('assemblyscript/asc');
  const out = {};
  for (const [file, flags] of Object.entries(VARIANTS)) {
    let binary = null;
    const stderr = [];
    const { error } = await asc.main([SOURCE, ...flags, '--outFile', file], {
      readFile: (name, baseDir) => {
        try {
          return readFileSync(path.resolve(root, baseDir, name), 'utf8');
        } catch {
          return null;
        }
      },
      writeFile: (name, contents) => {
        if (name === file) binary = contents;
      },
      listFiles: () => [],
      stdout: { write: () => true },
      stderr: { write: (s) => (stderr.push(String(s)), true) },
    });
    if (error || !binary) throw new Error(`asc failed for ${file}: ${error?.message ?? ''}\n${stderr.join('')}`);
    out[file] = Buffer.from(binary);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const built = await buildSimdKernels();
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, bytes] of Object.entries(built)) {
    const target = path.join(SIMD_DIR, file);
    if (check) {
      let committed = null;
      try {
        committed = readFileSync(target);
      } catch {
        // missing counts as stale
      }
      if (!committed || !committed.equals(bytes)) {
        console.error(`${path.relative(root, target)} does not match its source: run node scripts/build-simd-kernels.mjs`);
        stale++;
      }
    } else {
      writeFileSync(target, bytes);
      console.log(`${path.relative(root, target)}: ${bytes.length} bytes`);
    }
  }
  process.exit(stale ? 1 : 0);
}
