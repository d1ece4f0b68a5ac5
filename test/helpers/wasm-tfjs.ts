import { createRequire } from 'node:module';
import { cpuBackend } from '../../src/runner/tfjs-internals';
import { installWasmTrainingKernels, preferThreadedWasm, type WasmTrainingKernelsInstall } from 'tfjs-backend-wasm-training/api';
import { wasmThreadCount } from '../../src/runner/backend/wasm-thread-plan';
import type { Tf } from '../../src/runner/tfjs-internals';

const require = createRequire(import.meta.url);

/** tfjs on wasm with Loss Lens's training kernels, loaded the way the runner loads it (threaded if LOSS_LENS_WASM_THREADS asks). */
export async function loadWasmTfjs(
  onFallbackUsed: (kernelName: string) => void = () => {},
): Promise<{ tf: Tf; install: WasmTrainingKernelsInstall }> {
  const tf = require('@tensorflow/tfjs') as Tf;
  require('@tensorflow/tfjs-backend-wasm');
  preferThreadedWasm(tf, require, wasmThreadCount(), (reason) => {
    throw new Error(`threaded wasm failed: ${reason}`);
  });
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialize');
  await tf.ready();
  const install = installWasmTrainingKernels(tf, onFallbackUsed);
  cpuBackend(tf);
  return { tf, install };
}
