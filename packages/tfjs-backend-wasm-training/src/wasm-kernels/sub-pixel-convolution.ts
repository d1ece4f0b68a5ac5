import type { ConvGeometry } from './conv-geometry';
import { spreadInto } from './dilate-and-pad';
import type { TensorInfo, WasmBackendHandle } from './wasm-backend-handle';

/**
 * dx of a strided conv2d (dilation 1) without the zero grid: the rows i with (i + padTop) ≡ φ
 * (mod stride) only meet the filter taps φ, φ + s, φ + 2s, …, so each of the sh·sw phases is a
 * stride-1 XNNPACK convolution of dy with that sub-filter, written back with stride s. Same
 * multiply-adds as the gradient needs, against stride² as many on the zero grid.
 */
export function subPixelConvolution(wasm: WasmBackendHandle, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth } = g;
  const { top, left } = g.padInfo;
  const dx = wasm.zeros([batchSize, inHeight, inWidth, inChannels]);
  for (let ph = 0; ph < strideHeight; ph++) {
    const tapsH = Math.ceil((g.filterHeight - ph) / strideHeight);
    const lastRow = Math.floor((inHeight - 1 + top - ph) / strideHeight);
    if (tapsH <= 0 || lastRow < 0) continue;
    for (let pw = 0; pw < strideWidth; pw++) {
      const tapsW = Math.ceil((g.filterWidth - pw) / strideWidth);
      const lastCol = Math.floor((inWidth - 1 + left - pw) / strideWidth);
      if (tapsW <= 0 || lastCol < 0) continue;
      const sub = subFilter(wasm, filter, [ph, pw], [tapsH, tapsW], [strideHeight, strideWidth]);
      // Full correlation (pad taps − 1 before), extended after far enough to reach the last row.
      const pad = [[0, 0], [tapsH - 1, Math.max(0, lastRow - (outHeight - 1))], [tapsW - 1, Math.max(0, lastCol - (outWidth - 1))], [0, 0]];
      const phase = wasm.runAndFree('Conv2D', { x: dy, filter: sub }, { strides: 1, dilations: 1, pad, dataFormat: 'NHWC' }, [sub]);
      spreadInto(wasm, phase, dx, [strideHeight, strideWidth], [ph - top, pw - left]);
      wasm.free(phase);
    }
  }
  return dx;
}

/** sub[a, b, co, ci] = W[ph + (tapsH − 1 − a)·sh, pw + (tapsW − 1 − b)·sw, ci, co]: one phase's taps, flipped, in/out swapped. */
function subFilter(
  wasm: WasmBackendHandle,
  filter: TensorInfo,
  [ph, pw]: [number, number],
  [tapsH, tapsW]: [number, number],
  [strideH, strideW]: [number, number],
): TensorInfo {
  const [, kw, ci, co] = filter.shape;
  const sub = wasm.backend.makeOutput([tapsH, tapsW, co, ci], 'float32');
  const w = wasm.heapF32(filter);
  const out = wasm.heapF32(sub);
  for (let a = 0; a < tapsH; a++) {
    const kh = ph + (tapsH - 1 - a) * strideH;
    for (let b = 0; b < tapsW; b++) {
      const kwIndex = pw + (tapsW - 1 - b) * strideW;
      const from = (kh * kw + kwIndex) * ci * co;
      const to = (a * tapsW + b) * co * ci;
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[to + o * ci + i] = w[from + i * co + o];
    }
  }
  return sub;
}
