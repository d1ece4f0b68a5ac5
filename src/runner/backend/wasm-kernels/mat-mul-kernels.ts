import type { Attrs, TensorInfo, WasmBackendHandle, WasmTrainingKernel } from './wasm-backend-handle';

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Stock wasm multiplies on XNNPACK only when neither side is transposed and neither is batched;
 * every other case (dense-layer gradients: xᵀ·dy and dy·Wᵀ) runs a plain triple loop. We
 * transpose explicitly (cheap, memory-bound) and fold a batched left side into rows so the
 * stock kernel always takes its XNNPACK path; truly batched products stay as they were.
 */
function untransposedMatMul(
  wasm: WasmBackendHandle,
  kernelName: 'BatchMatMul' | '_FusedMatMul',
  inputs: Record<string, TensorInfo>,
  attrs: Attrs,
): TensorInfo {
  const { a, b } = inputs;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const batchA = product(a.shape.slice(0, -2));
  const batchB = product(b.shape.slice(0, -2));
  const foldA = batchA > 1 && batchB === 1 && !transposeA;
  const canUseXnn = a.dtype === 'float32' && b.dtype === 'float32' && (foldA || batchA === 1) && batchB === 1;
  if (!canUseXnn || (!transposeA && !transposeB && !foldA)) return wasm.run(kernelName, inputs, attrs);

  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const rows = transposeA ? a1 : foldA ? batchA * a0 : a0;
  const inner = transposeA ? a0 : a1;
  const cols = transposeB ? b0 : b1;
  const left = transposeA ? wasm.transpose(wasm.view(a, [a0, a1]), [1, 0]) : a;
  const right = transposeB ? wasm.transpose(wasm.view(b, [b0, b1]), [1, 0]) : b;
  try {
    const out = wasm.run(
      kernelName,
      { ...inputs, a: wasm.view(left, [1, rows, inner]), b: wasm.view(right, [1, inner, cols]) },
      { ...attrs, transposeA: false, transposeB: false },
    );
    const batchShape = a.shape.length >= b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    return wasm.view(out, [...batchShape, foldA ? a0 : rows, cols]);
  } finally {
    if (left !== a) wasm.free(left);
    if (right !== b) wasm.free(right);
  }
}

export const batchMatMulKernel: WasmTrainingKernel = {
  kernelName: 'BatchMatMul',
  run: (wasm, inputs, attrs) => untransposedMatMul(wasm, 'BatchMatMul', inputs, attrs),
};

export const fusedMatMulKernel: WasmTrainingKernel = {
  kernelName: '_FusedMatMul',
  run: (wasm, inputs, attrs) => untransposedMatMul(wasm, '_FusedMatMul', inputs, attrs),
};
