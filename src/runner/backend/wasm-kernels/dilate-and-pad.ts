import type { TensorInfo, WasmBackendHandle } from './wasm-backend-handle';

/**
 * Spreads an NHWC gradient onto a zero grid: element (oh, ow) lands at (top + oh·sh, left + ow·sw)
 * of an [B, height, width, C] tensor; what falls outside is dropped. This turns a strided
 * transposed convolution into a plain one that XNNPACK runs.
 */
export function dilateAndPad(
  wasm: WasmBackendHandle,
  dy: TensorInfo,
  [strideH, strideW]: [number, number],
  [top, left]: [number, number],
  [height, width]: [number, number],
): TensorInfo {
  const [batch, inH, inW, channels] = dy.shape;
  const out = wasm.zeros([batch, height, width, channels]);
  const src = wasm.heapF32(dy);
  const dst = wasm.heapF32(out);
  // One Float32Array over the whole heap: copyWithin moves a pixel's channels without allocating.
  const heap = new Float32Array(dst.buffer);
  const srcBase = src.byteOffset >> 2;
  const dstBase = dst.byteOffset >> 2;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < inH; h++) {
      const row = top + h * strideH;
      if (row < 0 || row >= height) continue;
      for (let w = 0; w < inW; w++) {
        const col = left + w * strideW;
        if (col < 0 || col >= width) continue;
        const from = srcBase + ((b * inH + h) * inW + w) * channels;
        const to = dstBase + ((b * height + row) * width + col) * channels;
        if (channels >= 8) heap.copyWithin(to, from, from + channels);
        else for (let c = 0; c < channels; c++) heap[to + c] = heap[from + c];
      }
    }
  }
  return out;
}
