import type { WasmTrainingKernel } from '../wasm-kernels/wasm-backend-handle';

/** A cast to the dtype a tensor already has shares its buffer (counted), as the cpu backend does; stock wasm copies it. */
export const sameDtypeCastKernel: WasmTrainingKernel = {
  kernelName: 'Cast',
  requires: ['Cast'],
  run(wasm, { x }, attrs) {
    if (x.dtype !== attrs.dtype || x.dtype === 'string' || x.dtype === 'complex64') return wasm.run('Cast', { x }, attrs);
    wasm.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};
