import { simdKernelsFor } from '../simd/simd-module';
import type { Attrs, TensorInfo, WasmBackendHandle, WasmTrainingKernel } from './wasm-backend-handle';

/**
 * Sum and Mean over leading axes (bias and batch-norm gradients: everything but channels) in
 * one pass with float64 accumulators. Stock wasm first transposes the reduced axes innermost,
 * a full copy of the activation, then reduces. Other reductions go to the stock kernels.
 */
function reduceLeadingAxes(
  wasm: WasmBackendHandle,
  kernelName: 'Sum' | 'Mean',
  inputs: Record<string, TensorInfo>,
  attrs: Attrs,
): TensorInfo {
  const { x } = inputs;
  const rank = x.shape.length;
  const axes = normalizeAxes(attrs.axis as number | number[] | null | undefined, rank);
  const leading = axes !== null && axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return wasm.run(kernelName, inputs, attrs);
  const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const keptShape = x.shape.slice(axes.length);
  const width = keptShape.reduce((a, b) => a * b, 1);
  const outShape = attrs.keepDims === true ? [...axes.map(() => 1), ...keptShape] : keptShape;
  const simd = simdKernelsFor(wasm.backend.wasm);
  if (simd && rows > 0 && width > 0) {
    // The same sums in our SIMD module (float32 in eights, then float64).
    const out = wasm.backend.makeOutput(outShape, 'float32');
    const acc = wasm.backend.wasm._malloc(8 * width);
    try {
      simd.columnSums(wasm.backend.getMemoryOffset(x.dataId), rows, width, acc, wasm.backend.getMemoryOffset(out.dataId), kernelName === 'Mean' ? 1 / rows : 1);
    } finally {
      wasm.backend.wasm._free(acc);
    }
    return out;
  }
  const sums = sumRows(wasm.heapF32(x), rows, width);
  if (kernelName === 'Mean') for (let c = 0; c < width; c++) sums[c] /= rows;
  const out = wasm.backend.makeOutput(outShape, 'float32');
  wasm.heapF32(out).set(sums);
  return out;
}

/** Column sums of a row-major [rows, width] matrix; eight rows per pass quarters the accumulator traffic. */
function sumRows(values: Float32Array, rows: number, width: number): Float64Array {
  const sums = new Float64Array(width);
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const at = r * width;
    for (let c = 0; c < width; c++) {
      const i = at + c;
      sums[c] +=
        values[i] + values[i + width] + (values[i + 2 * width] + values[i + 3 * width]) +
        (values[i + 4 * width] + values[i + 5 * width] + (values[i + 6 * width] + values[i + 7 * width]));
    }
  }
  for (; r < rows; r++) {
    const at = r * width;
    for (let c = 0; c < width; c++) sums[c] += values[at + c];
  }
  return sums;
}

/** Sorted non-negative axes; null when one repeats (left to the stock kernel, whatever it does). */
function normalizeAxes(axis: number | number[] | null | undefined, rank: number): number[] | null {
  const list = axis == null ? Array.from({ length: rank }, (_, i) => i) : Array.isArray(axis) ? axis : [axis];
  const axes = list.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  return new Set(axes).size === axes.length ? axes : null;
}

export const sumKernel: WasmTrainingKernel = {
  kernelName: 'Sum',
  requires: ['Sum'],
  run: (wasm, inputs, attrs) => reduceLeadingAxes(wasm, 'Sum', inputs, attrs),
};

export const meanKernel: WasmTrainingKernel = {
  kernelName: 'Mean',
  requires: ['Mean'],
  run: (wasm, inputs, attrs) => reduceLeadingAxes(wasm, 'Mean', inputs, attrs),
};
