import { wasmModuleOf, type Tf, type WasmModuleLike } from './tfjs-internals';

/** tfjs-backend-wasm 4.x is built with a 4 GiB maximum heap (wasm32). */
const WASM_MAX_HEAP = 4 * 1024 ** 3;

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/**
 * Thrown where a wasm `_malloc` called from JavaScript (every tensor's memory, and our kernels' scratch) returns 0.
 * Unchecked, tfjs writes the tensor at address 0: over the heap's own data when it is smaller than the heap, and
 * with "RangeError: offset is out of bounds" when it is larger. Stopping at the failed allocation says what it was.
 */
export class WasmAllocationFailure extends Error {
  override name = 'WasmOutOfMemory';
  constructor(
    readonly bytes: number,
    readonly heapBytes: number,
  ) {
    super(`the wasm backend could not allocate ${size(bytes)}: its heap had grown to ${size(heapBytes)} of the ${size(WASM_MAX_HEAP)} it can address`);
  }
}

const GUARDED = new WeakSet<object>();

/** Makes a failed allocation of the wasm backend's module throw (see WasmAllocationFailure). Once per module. */
export function guardWasmAllocations(tf: Tf): void {
  let module: WasmModuleLike | undefined;
  try {
    module = wasmModuleOf(tf.backend());
  } catch {
    return;
  }
  if (!module || typeof module._malloc !== 'function' || GUARDED.has(module)) return;
  GUARDED.add(module);
  const m = module;
  let malloc = module._malloc;
  const guarded = function guardedMalloc(this: unknown, bytes: number): number {
    const at = malloc.call(this, bytes);
    if (at === 0 && bytes > 0) throw new WasmAllocationFailure(bytes, m.HEAPU8?.length ?? 0);
    return at;
  };
  // emscripten binds its exports lazily: the first call assigns the raw export to `Module._malloc`. Keep what it
  // assigns as the function we call, and keep the guard in front.
  Object.defineProperty(module, '_malloc', {
    configurable: true,
    enumerable: true,
    get: () => guarded,
    set: (next: (bytes: number) => number) => {
      if (next !== guarded) malloc = next;
    },
  });
}

/**
 * When the wasm backend dies for lack of memory, emscripten's release build only says
 * "RuntimeError: Aborted(). Build with -sASSERTIONS for more info." (or an out-of-bounds access when a failed
 * allocation inside a kernel returned 0); allocations made from JavaScript throw WasmAllocationFailure. Say what
 * it was, and how much was held; the caller adds the user's line.
 */
export function describeWasmMemoryFailure(tf: Tf, err: Error): { name: string; message: string } | null {
  const aborted = err.name === 'RuntimeError' && /^Aborted\(/.test(err.message);
  const kernel = err.name === 'RuntimeError' && /memory access out of bounds/.test(err.message);
  const failure = err instanceof WasmAllocationFailure ? err : null;
  if (!aborted && !kernel && !failure) return null;
  let heap = 0;
  let held = { numBytes: 0, numTensors: 0 };
  try {
    if (tf.getBackend() !== 'wasm') return null;
    heap = wasmModuleOf(tf.backend())?.HEAPU8?.length ?? 0;
    held = tf.memory();
  } catch {
    return null;
  }
  const holding = `with ${size(held.numBytes)} in ${held.numTensors} live tensor${held.numTensors === 1 ? '' : 's'}`;
  const advice =
    'Dispose of tensors you no longer need (tf.tidy, tensor.dispose()), train on smaller batches, or install @tensorflow/tfjs-node.';
  const said = `(wasm said: ${err.message.split('\n')[0]})`;
  if (failure) {
    return {
      name: 'WasmOutOfMemory',
      message: `The wasm backend ran out of memory: an allocation of ${size(failure.bytes)} failed with its heap at ${size(failure.heapBytes)} of the ${size(WASM_MAX_HEAP)} it can address, ${holding}. ${advice}`,
    };
  }
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
