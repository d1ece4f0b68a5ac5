import type { TensorInfo, WasmBackendHandle } from './wasm-backend-handle';

/**
 * Spreads an NHWC gradient onto a zero grid: element (oh, ow) lands at (top + oh·sh, left + ow·sw)
 * of an [B, height, width, C] tensor; what falls outside is dropped. This turns a strided
 * transposed convolution into a plain one that XNNPACK runs.
 */
export function dilateAndPad(
  wasm: WasmBackendHandle,
  dy: TensorInfo,
  strides: [number, number],
  offsets: [number, number],
  [height, width]: [number, number],
): TensorInfo {
  const out = wasm.zeros([dy.shape[0], height, width, dy.shape[3]]);
  spreadInto(wasm, dy, out, strides, offsets);
  return out;
}

/** Writes each pixel (h, w) of `src` to pixel (top + h·sh, left + w·sw) of `dst` (same batch and channels); what falls outside is dropped. */
export function spreadInto(
  wasm: WasmBackendHandle,
  src: TensorInfo,
  dst: TensorInfo,
  [strideH, strideW]: [number, number],
  [top, left]: [number, number],
): void {
  const [batch, inH, inW, channels] = src.shape;
  const [, height, width] = dst.shape;
  const from = wasm.heapF32(src);
  const to = wasm.heapF32(dst);
  // One Float32Array over the whole heap: copyWithin moves a pixel's channels without allocating.
  const heap = new Float32Array(to.buffer);
  const srcBase = from.byteOffset >> 2;
  const dstBase = to.byteOffset >> 2;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < inH; h++) {
      const row = top + h * strideH;
      if (row < 0 || row >= height) continue;
      for (let w = 0; w < inW; w++) {
        const col = left + w * strideW;
        if (col < 0 || col >= width) continue;
        const s = srcBase + ((b * inH + h) * inW + w) * channels;
        const d = dstBase + ((b * height + row) * width + col) * channels;
        if (channels >= 8) heap.copyWithin(d, s, s + channels);
        else for (let c = 0; c < channels; c++) heap[d + c] = heap[s + c];
      }
    }
  }
}
