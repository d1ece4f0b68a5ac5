import { computePoolGeometry } from '../tfjs-private';
import type { WasmTrainingKernel } from './wasm-backend-handle';

/**
 * dx of max-pooling: each window's dy goes to the first maximum of its input (row-major, as on
 * cpu). One pass, channels innermost so the loops stream memory; stock wasm's took 15% of a
 * CIFAR-10 CNN step.
 */
export const maxPoolGradKernel: WasmTrainingKernel = {
  kernelName: 'MaxPoolGrad',
  requires: ['MaxPoolGrad'],
  run(wasm, { dy, input }, attrs) {
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') return wasm.run('MaxPoolGrad', { dy, input }, attrs);
    const g = computePoolGeometry(
      wasm.tf,
      input.shape,
      attrs.filterSize as [number, number] | number,
      attrs.strides as [number, number] | number,
      attrs.pad as 'same' | 'valid' | number,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = g;
    const dx = wasm.zeros(input.shape);
    const xs = wasm.heapF32(input);
    const dys = wasm.heapF32(dy);
    const dxs = wasm.heapF32(dx);
    const best = new Float32Array(channels);
    const at = new Int32Array(channels);
    for (let b = 0; b < batchSize; b++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const top = oh * strideHeight - g.padInfo.top;
        const rowFrom = Math.max(0, top);
        const rowTo = Math.min(inHeight, top + g.effectiveFilterHeight);
        for (let ow = 0; ow < outWidth; ow++) {
          const left = ow * strideWidth - g.padInfo.left;
          const colFrom = Math.max(0, left);
          const colTo = Math.min(inWidth, left + g.effectiveFilterWidth);
          let first = true;
          for (let r = rowFrom; r < rowTo; r++) {
            for (let c = colFrom; c < colTo; c++) {
              const pixel = ((b * inHeight + r) * inWidth + c) * channels;
              if (first) {
                // The window's first pixel seeds the maxima (NaN and -∞ never win, as on cpu).
                for (let ch = 0; ch < channels; ch++) {
                  const v = xs[pixel + ch];
                  best[ch] = v;
                  at[ch] = v > Number.NEGATIVE_INFINITY ? pixel + ch : -1;
                }
                first = false;
                continue;
              }
              for (let ch = 0; ch < channels; ch++) {
                const v = xs[pixel + ch];
                if (v > best[ch] || (at[ch] < 0 && v > Number.NEGATIVE_INFINITY)) {
                  best[ch] = v;
                  at[ch] = pixel + ch;
                }
              }
            }
          }
          if (first) continue;
          const dyAt = ((b * outHeight + oh) * outWidth + ow) * channels;
          for (let ch = 0; ch < channels; ch++) if (at[ch] >= 0) dxs[at[ch]] += dys[dyAt + ch];
        }
      }
    }
    return dx;
  },
};
