/**
 * The package's functions, without side effects: for code that loads tfjs itself (another copy than the one
 * this package resolves, or in another order) and installs the kernels on it. `import 'tfjs-backend-wasm-training'`
 * does the usual case for you (see index.ts).
 */
export { installWasmTrainingKernels, WASM_TRAINING_KERNELS, type WasmTrainingKernelsInstall } from './wasm-training-kernels';
export { installCpuFallbackKernels } from './cpu-fallback-kernels';
export { preferThreadedWasm } from './threaded-wasm-backend';
export {
  adaptiveThreadsDetail,
  adaptiveThreadsStats,
  installAdaptiveThreads,
  type AdaptiveThreadsStats,
} from './wasm-threads/adaptive-threads';
export { SIMD_WASM_FILES } from './simd/simd-module';
export type { WasmTrainingKernel } from './wasm-kernels/wasm-backend-handle';
export type { Tf } from './tfjs-private';
