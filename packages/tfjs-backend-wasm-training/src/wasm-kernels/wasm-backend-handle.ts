import type { Attrs, BackendWasmLike, KernelFunc, TensorInfo, Tf } from '../tfjs-private';

// The kernels' vocabulary; defined once, with the rest of tfjs's private surface, in tfjs-private.
export type { Attrs, BackendWasmLike, KernelArgs, KernelFunc, PThreadLike, PThreadWorkerLike, TensorInfo, WasmMemoryLike, WasmModuleLike } from '../tfjs-private';

/** A kernel this package registers on wasm, written against the backend's own kernels. */
export interface WasmTrainingKernel {
  kernelName: string;
  /** Stock wasm kernels it calls (or falls back to); without them it is not installed. */
  requires: readonly string[];
  run(wasm: WasmBackendHandle, inputs: Record<string, TensorInfo>, attrs: Attrs): TensorInfo;
}

/**
 * Calls the wasm backend's stock kernels directly (not through the engine, so nothing lands on the
 * gradient tape or in tf.profile twice) and frees the intermediates they return.
 */
export class WasmBackendHandle {
  constructor(
    readonly tf: Tf,
    readonly backend: BackendWasmLike,
    private readonly stock: ReadonlyMap<string, KernelFunc>,
  ) {}

  /** Runs the stock wasm kernel `kernelName`; the caller owns (and frees) the result. */
  run(kernelName: string, inputs: Record<string, TensorInfo | null | undefined>, attrs: Attrs = {}): TensorInfo {
    const kernel = this.stock.get(kernelName);
    if (!kernel) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    const out = kernel({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs`);
    return out;
  }

  /** Runs `kernelName` and frees `inputs` listed in `consumed` afterwards. */
  runAndFree(
    kernelName: string,
    inputs: Record<string, TensorInfo>,
    attrs: Attrs,
    consumed: TensorInfo[],
  ): TensorInfo {
    try {
      return this.run(kernelName, inputs, attrs);
    } finally {
      this.free(...consumed);
    }
  }

  free(...infos: Array<TensorInfo | null | undefined>): void {
    for (const t of infos) if (t) this.backend.disposeData(t.dataId);
  }

  /** The same data under another shape of the same size; shares the buffer, so never free it. */
  view(t: TensorInfo, shape: number[]): TensorInfo {
    return { dataId: t.dataId, shape, dtype: t.dtype };
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** A fresh output tensor whose heap bytes are zero. */
  zeros(shape: number[], dtype = 'float32'): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.heap(out).fill(0);
    return out;
  }

  /** A view of `t`'s bytes on the wasm heap; take it again after any allocation (the heap may grow). */
  heap(t: TensorInfo): Float32Array | Int32Array | Uint8Array {
    return this.backend.typedArrayFromHeap(t);
  }

  heapF32(t: TensorInfo): Float32Array {
    const a = this.backend.typedArrayFromHeap(t);
    if (!(a instanceof Float32Array)) throw new Error(`expected a float32 tensor, got ${t.dtype}`);
    return a;
  }
}
