import type { Tf } from './tfjs-internals';

/** tfjs-backend-wasm 4.x is built with a 4 GiB maximum heap (wasm32). */
const WASM_MAX_HEAP = 4 * 1024 ** 3;

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/**
 * When the wasm backend dies for lack of memory, emscripten's release build only says
 * "RuntimeError: Aborted(). Build with -sASSERTIONS for more info." (or an out-of-bounds access when a failed
 * allocation returned 0). Say what it was, and how much was held; the caller adds the user's line.
 */
export function describeWasmMemoryFailure(tf: Tf, err: Error): { name: string; message: string } | null {
  const aborted = /^Aborted\(/.test(err.message);
  if (err.name !== 'RuntimeError' || (!aborted && !/memory access out of bounds/.test(err.message))) return null;
  let heap = 0;
  let held = { numBytes: 0, numTensors: 0 };
  try {
    if (tf.getBackend() !== 'wasm') return null;
    heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length ?? 0;
    held = tf.memory();
  } catch {
    return null;
  }
  const holding = `with ${size(held.numBytes)} in ${held.numTensors} live tensors`;
  const advice =
    'Dispose of tensors you no longer need (tf.tidy, tensor.dispose()), train on smaller batches, or install @tensorflow/tfjs-node.';
  const said = `(wasm said: ${err.message.split('\n')[0]})`;
  if (heap >= 0.75 * WASM_MAX_HEAP) {
    return {
      name: 'WasmOutOfMemory',
      message: `The wasm backend ran out of memory: its heap had grown to ${size(heap)} of the ${size(WASM_MAX_HEAP)} it can address, ${holding}, when an allocation failed. ${advice} ${said}`,
    };
  }
  if (!aborted) return null;
  return {
    name: 'WasmAborted',
    message: `The wasm backend aborted, most likely on an allocation its ${size(WASM_MAX_HEAP)} heap could not hold (it had ${size(heap)}, ${holding}). ${advice} ${said}`,
  };
}
