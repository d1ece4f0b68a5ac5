import { convGeometry, inChannelsLast, nchwToNhwcShape } from './conv-geometry';
import { transposedConvolution } from './transposed-convolution';
import type { WasmTrainingKernel } from './wasm-backend-handle';

/**
 * dx of conv2d (and the forward pass of conv2dTranspose) on XNNPACK. Replaces the stock wasm
 * kernel, whose plain loops took half of a CIFAR-10 CNN training step.
 */
export const conv2dBackpropInputKernel: WasmTrainingKernel = {
  kernelName: 'Conv2DBackpropInput',
  run(wasm, { dy, filter }, attrs) {
    const inputShape = attrs.inputShape as number[];
    const shape = attrs.dataFormat === 'NCHW' ? nchwToNhwcShape(inputShape) : inputShape;
    const g = convGeometry(wasm.tf, shape, filter.shape, { ...attrs, dilations: 1 }, false);
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
