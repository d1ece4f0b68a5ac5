import { convGeometry } from '../wasm-kernels/conv-geometry';
import { depthwiseConv2dBackpropFilterKernel } from '../wasm-kernels/depthwise-conv2d-backprop-filter-kernel';
import type { WasmTrainingKernel } from '../wasm-kernels/wasm-backend-handle';
import { simdKernelsFor } from './simd-module';

/**
 * DepthwiseConv2dNativeBackpropFilter in our SIMD module when the channel multiplier is 1 and the
 * channels come in fours (MobileNet's blocks), float64 accumulation per output row like the JS
 * kernel; every other case runs the JS kernel.
 */
export const simdDepthwiseConv2dBackpropFilterKernel: WasmTrainingKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  requires: depthwiseConv2dBackpropFilterKernel.requires,
  run(wasm, inputs, attrs) {
    const { x, dy } = inputs;
    const filterShape = attrs.filterShape as number[];
    const [kh, kw, channels, multiplier] = filterShape;
    const simd = simdKernelsFor(wasm.backend.wasm);
    if (!simd || multiplier !== 1 || channels % 4 !== 0 || x.dtype !== 'float32' || dy.dtype !== 'float32' || x.shape[3] !== channels) {
      return depthwiseConv2dBackpropFilterKernel.run(wasm, inputs, attrs);
    }
    const g = convGeometry(wasm.tf, x.shape, filterShape, attrs, true);
    const out = wasm.backend.makeOutput(filterShape, 'float32');
    const module = wasm.backend.wasm;
    const acc = module._malloc(kh * kw * channels * 8);
    if (!acc) throw new Error('DepthwiseConv2dNativeBackpropFilter: out of wasm memory');
    try {
      simd.depthwiseFilterGrad(
        wasm.backend.getMemoryOffset(x.dataId), wasm.backend.getMemoryOffset(dy.dataId), wasm.backend.getMemoryOffset(out.dataId), acc,
        g.batchSize, g.inHeight, g.inWidth, channels, g.outHeight, g.outWidth,
        kh, kw, g.strideHeight, g.strideWidth, g.dilationHeight, g.dilationWidth, g.padInfo.top, g.padInfo.left,
      );
    } finally {
      module._free(acc);
    }
    return out;
  },
};
