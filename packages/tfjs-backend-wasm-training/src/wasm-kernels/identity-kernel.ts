import type { WasmTrainingKernel } from './wasm-backend-handle';

/**
 * Identity shares the buffer and counts a reference, as the cpu backend does; stock wasm
 * copies it, a few hundred times per training step (gradients clone dy). Safe because no
 * wasm kernel writes into an input.
 */
export const identityKernel: WasmTrainingKernel = {
  kernelName: 'Identity',
  requires: ['Identity'],
  run(wasm, { x }) {
    if (x.dtype === 'string') return wasm.run('Identity', { x });
    wasm.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};
