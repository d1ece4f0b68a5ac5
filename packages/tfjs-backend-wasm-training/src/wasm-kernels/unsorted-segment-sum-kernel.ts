import type { WasmTrainingKernel } from './wasm-backend-handle';

/**
 * out[s] = Σ x[i] over i with segmentIds[i] = s; ids outside [0, numSegments) are dropped, as on
 * cpu. The gradient of gather, hence of every Embedding layer: one pass over the heap.
 */
export const unsortedSegmentSumKernel: WasmTrainingKernel = {
  kernelName: 'UnsortedSegmentSum',
  requires: [],
  run(wasm, { x, segmentIds }, attrs) {
    const numSegments = attrs.numSegments as number;
    const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
    const rowShape = x.shape.slice(segmentIds.shape.length);
    const width = rowShape.reduce((a, b) => a * b, 1);
    const out = wasm.zeros([numSegments, ...rowShape], x.dtype);
    const ids = wasm.heap(segmentIds);
    const src = wasm.heap(x);
    const dst = wasm.heap(out);
    for (let i = 0; i < rows; i++) {
      const s = ids[i];
      if (s < 0 || s >= numSegments) continue;
      const from = i * width;
      const to = s * width;
      for (let k = 0; k < width; k++) dst[to + k] += src[from + k];
    }
    return out;
  },
};
