import { maxPoolGradKernel } from '../wasm-kernels/max-pool-grad-kernel';
import type { WasmTrainingKernel } from '../wasm-kernels/wasm-backend-handle';
import { simdKernelsFor } from './simd-module';

/** MaxPoolGrad in our SIMD module when the channels come in fours; the JS kernel otherwise. Same first-maximum rule. */
export const simdMaxPoolGradKernel: WasmTrainingKernel = {
  kernelName: 'MaxPoolGrad',
  requires: maxPoolGradKernel.requires,
  run(wasm, inputs, attrs) {
    const { dy, input } = inputs;
    const simd = simdKernelsFor(wasm.backend.wasm);
    if (!simd || input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape[3] % 4 !== 0) {
      return maxPoolGradKernel.run(wasm, inputs, attrs);
    }
    const g = wasm.tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize as [number, number] | number,
      attrs.strides as [number, number] | number,
      1,
      attrs.pad as 'same' | 'valid' | number,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
    const dx = wasm.zeros(input.shape);
    const at = (t: typeof dx) => wasm.backend.getMemoryOffset(t.dataId);
    simd.maxPoolGrad(
      at(input), at(dy), at(dx), g.batchSize, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth,
      g.strideHeight, g.strideWidth, g.effectiveFilterHeight, g.effectiveFilterWidth, g.padInfo.top, g.padInfo.left,
    );
    return dx;
  },
};
