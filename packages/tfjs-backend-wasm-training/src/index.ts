/**
 * `import 'tfjs-backend-wasm-training'`: the wasm backend of the @tensorflow/tfjs-core this package resolves can
 * train. tfjs keeps its kernels in one registry per process (shared by every copy of tfjs-core), keyed by kernel
 * and backend name, and tfjs-backend-wasm registers its own when it is imported: so importing it here first, and
 * then registering ours, works whatever the order of the user's imports, and before or after `setBackend('wasm')`.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
// From ./api, not the module behind it: dist/index.js then requires dist/api.js, so both entries share one
// install per tfjs (installWasmTrainingKernels remembers it).
import { installWasmTrainingKernels, type WasmTrainingKernelsInstall } from './api';

// The cpu bridge bridges the cpu kernels registered when it is installed: load them now if they are installed
// (@tensorflow/tfjs imports the same module anyway), so that importing this package first loses nothing.
try {
  createRequire(__filename)('@tensorflow/tfjs-backend-cpu');
} catch {
  // Not installed (a tfjs-core + tfjs-backend-wasm setup): nothing to bridge to.
}

/** What the import registered on wasm: `added` (ours), `replaced` (the stock kernels ours replaced), `fallback` (bridged to cpu). */
export const installed: WasmTrainingKernelsInstall = installWasmTrainingKernels(tf, () => {});

export * from './api';
