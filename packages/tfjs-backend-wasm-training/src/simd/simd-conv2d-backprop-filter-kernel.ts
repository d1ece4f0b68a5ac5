import { conv2dBackpropFilterKernel } from '../wasm-kernels/conv2d-backprop-filter-kernel';
import { convGeometry } from '../wasm-kernels/conv-geometry';
import { inChannelsLast } from '../wasm-kernels/in-channels-last';
import type { TensorInfo, WasmBackendHandle, WasmTrainingKernel } from '../wasm-kernels/wasm-backend-handle';
import { simdKernelsFor } from './simd-module';

/** Pixels per reduction chunk: dy's packed panels (chunk × channels floats) stay in L2, the A panel in L1. */
const CHUNK_PIXELS = 256;

/**
 * Conv2DBackpropFilter in our own wasm-SIMD kernel (im2col panels, K-blocked over output rows, a
 * 4×8 register tile; see ./assembly/conv2d-filter-grad.ts), reading x and dy where they lie on
 * the backend's heap. Without it (no SIMD, another backend build) the XNNPACK form runs.
 */
export const simdConv2dBackpropFilterKernel: WasmTrainingKernel = {
  kernelName: 'Conv2DBackpropFilter',
  requires: conv2dBackpropFilterKernel.requires,
  run(wasm, inputs, attrs) {
    const simd = simdKernelsFor(wasm.backend.wasm);
    if (!simd || inputs.x.dtype !== 'float32' || inputs.dy.dtype !== 'float32') {
      return conv2dBackpropFilterKernel.run(wasm, inputs, attrs);
    }
    const filterShape = attrs.filterShape as number[];
    return inChannelsLast(wasm, attrs, [inputs.x, inputs.dy], ([x, dy]) => filterGradient(wasm, simd, x, dy, filterShape, attrs), false);
  },
};

function filterGradient(
  wasm: WasmBackendHandle,
  simd: NonNullable<ReturnType<typeof simdKernelsFor>>,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: number[],
  attrs: Record<string, unknown>,
): TensorInfo {
  const g = convGeometry(wasm.tf, x.shape, filterShape, attrs, false);
  const [kh, kw, ci, co] = filterShape;
  if (dy.shape[1] !== g.outHeight || dy.shape[2] !== g.outWidth || dy.shape[3] !== co) {
    throw new Error(`Conv2DBackpropFilter: dy ${dy.shape} does not match x ${x.shape} and filter ${filterShape}`);
  }
  const out = wasm.backend.makeOutput(filterShape, 'float32');
  if (x.shape[0] * g.outHeight * g.outWidth === 0) {
    wasm.heapF32(out).fill(0);
    return out;
  }
  const rowsPerChunk = Math.max(1, Math.round(CHUNK_PIXELS / g.outWidth));
  const module = wasm.backend.wasm;
  const scratch = module._malloc(simd.conv2dFilterGradScratchBytes(kh, kw, ci, g.outWidth, co, rowsPerChunk));
  if (!scratch) throw new Error('Conv2DBackpropFilter: out of wasm memory');
  try {
    simd.conv2dFilterGrad(
      wasm.backend.getMemoryOffset(x.dataId),
      wasm.backend.getMemoryOffset(dy.dataId),
      wasm.backend.getMemoryOffset(out.dataId),
      scratch,
      x.shape[0], g.inHeight, g.inWidth, ci,
      g.outHeight, g.outWidth, co,
      kh, kw, g.strideHeight, g.strideWidth, g.dilationHeight, g.dilationWidth,
      g.padInfo.top, g.padInfo.left, rowsPerChunk,
    );
  } finally {
    module._free(scratch);
  }
  return out;
}
