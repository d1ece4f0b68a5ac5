import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadWasmTfjs } from '../helpers/wasm-tfjs';
import { wasmThreadCount, wasmThreadPlan } from '../../src/runner/backend/wasm-thread-plan';

const require = createRequire(import.meta.url);

describe('multithreaded wasm in Node', () => {
  it('LOSS_LENS_WASM_THREADS forces a thread count (adaptive threads, the default, are in adaptive-threads.test.ts)', () => {
    expect(wasmThreadCount({})).toBe(1);
    expect(wasmThreadCount({ LOSS_LENS_WASM_THREADS: '1' })).toBe(1);
    expect(wasmThreadCount({ LOSS_LENS_WASM_THREADS: '3' })).toBe(3);
    expect(wasmThreadCount({ LOSS_LENS_WASM_THREADS: '64' })).toBe(8);
    expect(wasmThreadCount({ LOSS_LENS_WASM_THREADS: 'lots' })).toBe(1);
  });

  it('this process runs wasm on as many threads as LOSS_LENS_WASM_THREADS asks (1 unless set)', async () => {
    const { tf } = await loadWasmTfjs();
    const backend = tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } };
    expect(backend.wasm.tfjs.getThreadsCount()).toBe(wasmThreadCount());
  });
});

describe('the thread plan', () => {
  it('is adaptive by default where the process may use two cores, and LOSS_LENS_WASM_THREADS overrides it', () => {
    expect(wasmThreadPlan({ LOSS_LENS_WASM_THREADS: '1' })).toEqual({ threads: 1, adaptive: false });
    expect(wasmThreadPlan({ LOSS_LENS_WASM_THREADS: '3' })).toEqual({ threads: 3, adaptive: false });
    const cores = require('node:os').availableParallelism() as number;
    expect(wasmThreadPlan({})).toEqual(cores >= 2 ? { threads: Math.min(cores, 4), adaptive: true } : { threads: 1, adaptive: false });
  });
});
