import { convGeometry, type ConvGeometry } from './conv-geometry';
import { inChannelsLast, nchwToNhwcShape } from './in-channels-last';
import { subPixelConvolution } from './sub-pixel-convolution';
import { transposedConvolution } from './transposed-convolution';
import type { TensorInfo, WasmBackendHandle, WasmTrainingKernel } from './wasm-backend-handle';

/**
 * dx of conv2d (and the forward pass of conv2dTranspose) on XNNPACK: a matmul for 1×1, one
 * convolution per stride phase when strided, else the convolution with the flipped filter.
 * Replaces the stock wasm kernel, whose plain loops took half of a CIFAR-10 CNN training step.
 */
export const conv2dBackpropInputKernel: WasmTrainingKernel = {
  kernelName: 'Conv2DBackpropInput',
  requires: ['Reverse', 'Transpose', 'Conv2D', 'BatchMatMul'],
  run(wasm, { dy, filter }, attrs) {
    const inputShape = attrs.inputShape as number[];
    const shape = attrs.dataFormat === 'NCHW' ? nchwToNhwcShape(inputShape) : inputShape;
    const g = convGeometry(wasm.tf, shape, filter.shape, { ...attrs, dilations: 1 }, false);
    if (isPointwise(g)) {
      return inChannelsLast(wasm, attrs, [dy], ([dyNhwc]) => pointwiseInputGradient(wasm, dyNhwc, filter, shape), true);
    }
    if (g.strideHeight > 1 || g.strideWidth > 1) {
      // 3.7× faster than the zero grid for a 3×3 stride-2 conv (64×32×32×64 → 128: 71 ms against 265 ms).
      return inChannelsLast(wasm, attrs, [dy], ([dyNhwc]) => subPixelConvolution(wasm, dyNhwc, filter, g), true);
    }
    // XNNPACK wants [KH, KW, CO, CI] flipped in space: the forward filter read backwards.
    const reversed = wasm.run('Reverse', { x: filter }, { dims: [0, 1] });
    const flipped = wasm.runAndFree('Transpose', { x: reversed }, { perm: [0, 1, 3, 2] }, [reversed]);
    try {
      return inChannelsLast(wasm, attrs, [dy], ([dyNhwc]) => transposedConvolution(wasm, 'Conv2D', dyNhwc, flipped, g), true);
    } finally {
      wasm.free(flipped);
    }
  },
};

function isPointwise(g: ConvGeometry): boolean {
  return g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 &&
    g.padInfo.top === 0 && g.padInfo.left === 0 && g.outHeight === g.inHeight && g.outWidth === g.inWidth;
}

/** A 1×1 unstrided conv is a matmul over pixels: dx = dy·Wᵀ, one XNNPACK product. */
function pointwiseInputGradient(wasm: WasmBackendHandle, dy: TensorInfo, filter: TensorInfo, inShape: number[]): TensorInfo {
  const [, , ci, co] = filter.shape;
  const pixels = dy.shape[0] * dy.shape[1] * dy.shape[2];
  const wT = wasm.transpose(wasm.view(filter, [ci, co]), [1, 0]);
  const dx = wasm.runAndFree(
    'BatchMatMul',
    { a: wasm.view(dy, [1, pixels, co]), b: wasm.view(wT, [1, co, ci]) },
    { transposeA: false, transposeB: false },
    [wT],
  );
  return wasm.view(dx, inShape);
}
