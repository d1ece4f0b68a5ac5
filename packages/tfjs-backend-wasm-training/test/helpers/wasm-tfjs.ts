import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { preferThreadedWasm } from '../../src/threaded-wasm-backend';
import { cpuBackend } from '../../src/tfjs-private';
import { installWasmTrainingKernels, type WasmTrainingKernelsInstall } from '../../src/wasm-training-kernels';
import type { Tensor, Tf } from './tfjs';

const require = createRequire(import.meta.url);

/** XNNPACK threads for the suite: TFJS_WASM_TRAINING_TEST_THREADS (2–8) runs it all on the threaded build; 1 by default. */
export function testThreads(env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env.TFJS_WASM_TRAINING_TEST_THREADS);
  return Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 8) : 1;
}

/** tfjs on wasm with this package's training kernels (threaded if TFJS_WASM_TRAINING_TEST_THREADS asks). */
export async function loadWasmTfjs(
  onFallbackUsed: (kernelName: string) => void = () => {},
): Promise<{ tf: Tf; install: WasmTrainingKernelsInstall }> {
  const tf = require('@tensorflow/tfjs') as Tf;
  require('@tensorflow/tfjs-backend-wasm');
  preferThreadedWasm(tf, require, testThreads(), (reason) => {
    throw new Error(`threaded wasm failed: ${reason}`);
  });
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialize');
  await tf.ready();
  const install = installWasmTrainingKernels(tf, onFallbackUsed);
  cpuBackend(tf);
  return { tf, install };
}

/**
 * Runs `compute` on wasm, then on cpu, and returns what each produced. `compute` must build
 * its inputs from plain arrays, so both backends see identical data.
 */
export async function onWasmAndCpu(
  tf: Tf,
  compute: () => Tensor | Tensor[],
): Promise<{ wasm: Array<{ shape: number[]; values: Float32Array | Int32Array }>; cpu: Array<{ shape: number[]; values: Float32Array | Int32Array }> }> {
  const read = () =>
    tf.tidy(() => {
      const out = compute();
      return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape.slice(), values: t.dataSync() as Float32Array | Int32Array }));
    });
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
  const wasm = read();
  await tf.setBackend('cpu');
  try {
    const cpu = read();
    return { wasm, cpu };
  } finally {
    await tf.setBackend('wasm');
  }
}

/** max|got − want| ≤ tolerance · max|want| (absolute 1e-6 floor for all-zero references). */
export function expectClose(
  got: { shape: number[]; values: ArrayLike<number> },
  want: { shape: number[]; values: ArrayLike<number> },
  context: string,
  tolerance = 1e-4,
): void {
  expect(got.shape, `shape, ${context}`).toEqual(want.shape);
  let scale = 0;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < want.values.length; i++) {
    scale = Math.max(scale, Math.abs(want.values[i]));
    const d = Math.abs(got.values[i] - want.values[i]);
    if (Number.isNaN(d)) expect.fail(`${context}: NaN at index ${i} (wasm ${got.values[i]}, cpu ${want.values[i]})`);
    if (d > worst) {
      worst = d;
      worstAt = i;
    }
  }
  const limit = Math.max(tolerance * scale, 1e-6);
  if (!(worst <= limit)) {
    expect.fail(
      `${context}: max |wasm − cpu| = ${worst} at index ${worstAt} ` +
        `(wasm ${got.values[worstAt]}, cpu ${want.values[worstAt]}), allowed ${limit} (max |cpu| ${scale})`,
    );
  }
}
