import { convGeometry } from './conv-geometry';
import type { WasmTrainingKernel } from './wasm-backend-handle';

/**
 * dW of a depthwise conv2d: per tap and channel, a dot product of shifted x with dy. No wasm
 * kernel has this shape (XNNPACK's depthwise conv with dy as a huge filter measured 2× slower),
 * so it is a loop over the heap, channel-innermost, accumulating in float64 like the cpu kernel.
 */
export const depthwiseConv2dBackpropFilterKernel: WasmTrainingKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  run(wasm, { x, dy }, attrs) {
    const filterShape = attrs.filterShape as number[];
    const g = convGeometry(wasm.tf, x.shape, filterShape, attrs, true);
    const [kh, kw, channels, multiplier] = filterShape;
    const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = g;
    const { top, left } = g.padInfo;
    const outChannels = channels * multiplier;
    const sums = new Float64Array(kh * kw * outChannels);
    const xs = wasm.heapF32(x);
    const dys = wasm.heapF32(dy);
    for (let b = 0; b < batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh++) {
        for (let i = 0; i < kh; i++) {
          const ih = oh * strideHeight + i * dilationHeight - top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let ow = 0; ow < outWidth; ow++) {
            const dyAt = ((b * outHeight + oh) * outWidth + ow) * outChannels;
            for (let j = 0; j < kw; j++) {
              const iw = ow * strideWidth + j * dilationWidth - left;
              if (iw < 0 || iw >= inWidth) continue;
              const xAt = ((b * inHeight + ih) * inWidth + iw) * channels;
              const sumAt = (i * kw + j) * outChannels;
              if (multiplier === 1) {
                for (let c = 0; c < channels; c++) sums[sumAt + c] += xs[xAt + c] * dys[dyAt + c];
              } else {
                for (let c = 0; c < channels; c++) {
                  const xv = xs[xAt + c];
                  for (let m = 0; m < multiplier; m++) {
                    sums[sumAt + c * multiplier + m] += xv * dys[dyAt + c * multiplier + m];
                  }
                }
              }
            }
          }
        }
      }
    }
    const out = wasm.backend.makeOutput(filterShape, 'float32');
    wasm.heapF32(out).set(sums);
    return out;
  },
};
