import { convGeometry } from './conv-geometry';
import { transposedConvolution } from './transposed-convolution';
import type { WasmTrainingKernel } from './wasm-backend-handle';

/**
 * dx of a depthwise conv2d: a depthwise convolution of dy with the flipped filter, one channel
 * per (input channel, multiplier) pair, then a sum over the multiplier. All in XNNPACK.
 */
export const depthwiseConv2dBackpropInputKernel: WasmTrainingKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  requires: ['Reverse', 'DepthwiseConv2dNative', 'Sum'],
  run(wasm, { dy, filter }, attrs) {
    const inputShape = attrs.inputShape as number[];
    const [kh, kw, channels, multiplier] = filter.shape;
    const g = convGeometry(wasm.tf, inputShape, filter.shape, attrs, true);
    const flipped = wasm.run('Reverse', { x: filter }, { dims: [0, 1] });
    let perPair;
    try {
      perPair = transposedConvolution(
        wasm,
        'DepthwiseConv2dNative',
        dy,
        wasm.view(flipped, [kh, kw, channels * multiplier, 1]),
        g,
      );
    } finally {
      wasm.free(flipped);
    }
    if (multiplier === 1) return perPair;
    const [b, h, w] = perPair.shape;
    return wasm.runAndFree('Sum', { x: wasm.view(perPair, [b, h, w, channels, multiplier]) }, { axis: [4], keepDims: false }, [perPair]);
  },
};
