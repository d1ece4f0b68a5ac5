import type { ConvGeometry } from './conv-geometry';
import { dilateAndPad } from './dilate-and-pad';
import type { TensorInfo, WasmBackendHandle } from './wasm-backend-handle';

/**
 * dx of a convolution, computed as the forward convolution of dy with the spatially flipped
 * filter (`flipped`, already laid out for `kernelName`). Stride 1 pads inside XNNPACK; a
 * stride spreads dy onto a zero grid first, which costs stride² more multiply-adds (conv2d
 * avoids that with `subPixelConvolution`; for depthwise the whole dx is a few ms).
 */
export function transposedConvolution(
  wasm: WasmBackendHandle,
  kernelName: 'Conv2D' | 'DepthwiseConv2dNative',
  dy: TensorInfo,
  flipped: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = g;
  const reachH = (g.filterHeight - 1) * dilationHeight;
  const reachW = (g.filterWidth - 1) * dilationWidth;
  const top = reachH - g.padInfo.top;
  const left = reachW - g.padInfo.left;
  const bottom = inHeight + reachH - ((outHeight - 1) * strideHeight + 1) - top;
  const right = inWidth + reachW - ((outWidth - 1) * strideWidth + 1) - left;
  const attrs = { strides: 1, dilations: [dilationHeight, dilationWidth], dataFormat: 'NHWC' };
  if (strideHeight === 1 && strideWidth === 1 && Math.min(top, left, bottom, right) >= 0) {
    return wasm.run(kernelName, { x: dy, filter: flipped }, { ...attrs, pad: [[0, 0], [top, bottom], [left, right], [0, 0]] });
  }
  const spread = dilateAndPad(wasm, dy, [strideHeight, strideWidth], [top, left], [inHeight + reachH, inWidth + reachW]);
  return wasm.runAndFree(kernelName, { x: spread, filter: flipped }, { ...attrs, pad: 'valid' }, [spread]);
}
