import type { TensorInfo, WasmBackendHandle, WasmTrainingKernel } from '../wasm-kernels/wasm-backend-handle';
import { simdKernelsFor } from './simd-module';

/**
 * Add, Sub, Multiply and RealDiv on float32 in our SIMD module when one side is the whole output
 * and the other is the same size, a single element, or a vector along the last axis (with any
 * leading 1s): the shapes of activations, biases, batch-norm statistics and optimizer updates.
 * A MobileNet-style step makes ~400 Multiply calls; stock wasm sets up an XNNPACK broadcasting
 * operator for each. Every other broadcast goes to the stock kernel.
 */

const OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;
const FULL = 0;
const SCALAR = 1;
const CHANNELS = 2;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** How `side` is read against an output of `outShape`, or null when it is none of our forms. */
function form(side: number[], outShape: number[]): number | null {
  const n = size(side);
  if (n === size(outShape) && (sameShape(side, outShape) || side.length <= outShape.length)) {
    // Same size under broadcasting means same shape apart from leading 1s.
    return FULL;
  }
  if (n === 1) return SCALAR;
  const channels = outShape[outShape.length - 1];
  if (n === channels && side[side.length - 1] === channels) return CHANNELS;
  return null;
}

function binaryKernel(kernelName: keyof typeof OPS): WasmTrainingKernel {
  return {
    kernelName,
    requires: [kernelName],
    run(wasm: WasmBackendHandle, { a, b }) {
      const simd = simdKernelsFor(wasm.backend.wasm);
      if (!simd || a.dtype !== 'float32' || b.dtype !== 'float32') return wasm.run(kernelName, { a, b });
      const outShape: number[] = wasm.tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const n = size(outShape);
      const fa = form(a.shape, outShape);
      const fb = form(b.shape, outShape);
      if (n === 0 || fa === null || fb === null || (fa !== FULL && fb !== FULL)) return wasm.run(kernelName, { a, b });
      const out: TensorInfo = wasm.backend.makeOutput(outShape, 'float32');
      const off = (t: TensorInfo) => wasm.backend.getMemoryOffset(t.dataId);
      simd.binaryF32(OPS[kernelName], off(a), fa, off(b), fb, off(out), n, outShape[outShape.length - 1] ?? 1);
      return out;
    },
  };
}

export const simdBinaryKernels: WasmTrainingKernel[] = (Object.keys(OPS) as Array<keyof typeof OPS>).map(binaryKernel);

/** A cast to the dtype a tensor already has shares its buffer (counted), as the cpu backend does; stock wasm copies it. */
export const sameDtypeCastKernel: WasmTrainingKernel = {
  kernelName: 'Cast',
  requires: ['Cast'],
  run(wasm, { x }, attrs) {
    if (x.dtype !== attrs.dtype || x.dtype === 'string' || x.dtype === 'complex64') return wasm.run('Cast', { x }, attrs);
    (wasm.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};
