#!/usr/bin/env node
// Builds dist/: index.js (the side-effect entry) and api.js, CommonJS for Node 20+, tfjs left as the user's
// packages; the SIMD kernels' .wasm files beside them; the declarations. Loss Lens's esbuild.mjs calls
// buildPackage() before its own bundles (so `npm ci`'s prepare and `npm run build` build this first).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const req = createRequire(import.meta.url);

/** The prebuilt wasm-SIMD kernels (scripts/build-simd-kernels.mjs makes them from src/simd/assembly). */
export const WASM_DIR = path.join(here, 'src/simd');
export const wasmFiles = () => readdirSync(WASM_DIR).filter((f) => f.endsWith('.wasm')).map((f) => path.join(WASM_DIR, f));

export async function buildPackage({ declarations = true } = {}) {
  const esbuild = await import(req.resolve('esbuild'));
  const dist = path.join(here, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, logLevel: 'warning', external: ['@tensorflow/*'] };
  await Promise.all([
    esbuild.build({ ...common, entryPoints: [path.join(here, 'src/api.ts')], outfile: path.join(dist, 'api.js') }),
    // index.js requires ./api.js rather than holding a second copy of it (one install per tfjs, whichever entry).
    esbuild.build({ ...common, entryPoints: [path.join(here, 'src/index.ts')], outfile: path.join(dist, 'index.js'), external: [...common.external, './api'] }),
  ]);
  for (const f of wasmFiles()) copyFileSync(f, path.join(dist, path.basename(f)));
  if (declarations) {
    const tsc = spawnSync(process.execPath, [req.resolve('typescript/bin/tsc'), '-p', path.join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
    if (tsc.status !== 0) throw new Error('tfjs-backend-wasm-training: the declarations did not build');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildPackage();
