import { convGeometry } from './conv-geometry';
import type { WasmTrainingKernel } from './wasm-backend-handle';

/**
 * dW of a depthwise conv2d: per tap and channel, a dot product of shifted x with dy. No wasm
 * kernel has this shape (XNNPACK's depthwise conv with dy as a huge filter measured 2× slower),
 * so it is a loop over the heap: tap by tap, channels innermost, four output pixels per pass to
 * cut accumulator traffic, accumulating in float64 like the cpu kernel.
 */
export const depthwiseConv2dBackpropFilterKernel: WasmTrainingKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  requires: [],
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
    const xStep = strideWidth * channels;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const at = (i * kw + j) * outChannels;
        const shift = j * dilationWidth - left;
        // Output columns whose input column ow·sw + shift lies inside the image.
        const owFrom = Math.max(0, Math.ceil(-shift / strideWidth));
        const owTo = Math.min(outWidth, Math.floor((inWidth - 1 - shift) / strideWidth) + 1);
        for (let b = 0; b < batchSize; b++) {
          for (let oh = 0; oh < outHeight; oh++) {
            const ih = oh * strideHeight + i * dilationHeight - top;
            if (ih < 0 || ih >= inHeight) continue;
            const xRow = (b * inHeight + ih) * inWidth + shift;
            const dyRow = (b * outHeight + oh) * outWidth;
            let ow = owFrom;
            if (multiplier === 1) {
              for (; ow + 4 <= owTo; ow += 4) {
                const x0 = (xRow + ow * strideWidth) * channels;
                const d0 = (dyRow + ow) * channels;
                for (let c = 0; c < channels; c++) {
                  sums[at + c] +=
                    xs[x0 + c] * dys[d0 + c] +
                    xs[x0 + xStep + c] * dys[d0 + channels + c] +
                    (xs[x0 + 2 * xStep + c] * dys[d0 + 2 * channels + c] + xs[x0 + 3 * xStep + c] * dys[d0 + 3 * channels + c]);
                }
              }
            }
            for (; ow < owTo; ow++) {
              const x0 = (xRow + ow * strideWidth) * channels;
              const d0 = (dyRow + ow) * outChannels;
              for (let c = 0; c < channels; c++) {
                const xv = xs[x0 + c];
                for (let m = 0; m < multiplier; m++) sums[at + c * multiplier + m] += xv * dys[d0 + c * multiplier + m];
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
