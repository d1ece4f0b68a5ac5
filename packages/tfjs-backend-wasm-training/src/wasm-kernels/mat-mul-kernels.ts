import type { Attrs, TensorInfo, WasmBackendHandle, WasmTrainingKernel } from './wasm-backend-handle';

type MatMulKernelName = 'BatchMatMul' | '_FusedMatMul';

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** Below this many multiply-adds per batch item, stock's plain loop beats a per-item XNNPACK call. */
const MIN_WORK_PER_ITEM = 32 * 32 * 32;

/**
 * Stock wasm multiplies on XNNPACK only when neither side is transposed nor batched; every
 * other case (the dense-layer gradients xᵀ·dy and dy·Wᵀ among them) runs a plain triple loop,
 * which also adds a fused bias wrongly past the first row. We transpose explicitly (cheap,
 * memory-bound), fold a batched left side into rows, and run a truly batched product one
 * XNNPACK call per item.
 */
function matMul(wasm: WasmBackendHandle, kernelName: MatMulKernelName, inputs: Record<string, TensorInfo>, attrs: Attrs): TensorInfo {
  const { a, b } = inputs;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
    return wasm.run(kernelName, inputs, attrs);
  }
  const batchA = product(a.shape.slice(0, -2));
  const batchB = product(b.shape.slice(0, -2));
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const m = transposeA ? a1 : a0;
  const k = transposeA ? a0 : a1;
  const n = transposeB ? b0 : b1;
  if (batchB === 1 && (batchA === 1 || !transposeA)) {
    if (batchA === 1 && !transposeA && !transposeB) return wasm.run(kernelName, inputs, attrs);
    const out = twoDimensional(wasm, kernelName, inputs, attrs, wasm.view(a, [batchA * a0, a1]), b);
    const batchShape = a.shape.length >= b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    return wasm.view(out, [...batchShape, m, n]);
  }
  const perItemBroadcast = [inputs.bias, inputs.preluActivationWeights].every((t) => t == null || product(t.shape) <= n);
  const worthIt = kernelName === '_FusedMatMul' || m * k * n >= MIN_WORK_PER_ITEM;
  if (!perItemBroadcast || !worthIt) return wasm.run(kernelName, inputs, attrs);
  return itemByItem(wasm, kernelName, inputs, attrs, { m, n });
}

/** a · b for 2-D a (already folded) and 2-D b, transposes resolved; returns [1, m, n]. */
function twoDimensional(
  wasm: WasmBackendHandle,
  kernelName: MatMulKernelName,
  inputs: Record<string, TensorInfo>,
  attrs: Attrs,
  a: TensorInfo,
  b: TensorInfo,
): TensorInfo {
  const [b0, b1] = b.shape.slice(-2);
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  if (kernelName === 'BatchMatMul' && swappingIsCheaper(a.shape, [b0, b1], transposeA, transposeB)) {
    return swapped(wasm, a, wasm.view(b, [b0, b1]), transposeA, transposeB);
  }
  const left = transposeA ? wasm.transpose(a, [1, 0]) : a;
  const right = transposeB ? wasm.transpose(wasm.view(b, [b0, b1]), [1, 0]) : b;
  try {
    const [rows, inner] = left.shape;
    const cols = right.shape[right.shape.length - 1];
    return wasm.run(
      kernelName,
      { ...inputs, a: wasm.view(left, [1, rows, inner]), b: wasm.view(right, [1, inner, cols]) },
      { ...attrs, transposeA: false, transposeB: false },
    );
  } finally {
    if (left !== a) wasm.free(left);
    if (right !== b) wasm.free(right);
  }
}

/**
 * XNNPACK packs the right operand on every call (a fresh tensor each training step), about as
 * costly per element as a transpose, so C = A·B may be cheaper as Cᵀ = Bᵀ·Aᵀ: for a dense
 * layer's dx = dy·Wᵀ that packs dyᵀ (batch × units) instead of all of W. Counted in elements
 * moved: transposes, packing, and the final transpose of Cᵀ.
 */
function swappingIsCheaper(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): boolean {
  const [m, k] = transposeA ? [aShape[1], aShape[0]] : aShape;
  const n = transposeB ? bShape[0] : bShape[1];
  const direct = (transposeA ? m * k : 0) + (transposeB ? k * n : 0) + k * n;
  const swappedCost = (transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + k * m + m * n;
  return swappedCost < direct;
}

/** A·B computed as (Bᵀ·Aᵀ)ᵀ; a and b are 2-D physical layouts. Returns [1, m, n]. */
function swapped(wasm: WasmBackendHandle, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
  const left = transposeB ? b : wasm.transpose(b, [1, 0]);
  const right = transposeA ? a : wasm.transpose(a, [1, 0]);
  let productT: TensorInfo;
  try {
    const [n, k] = left.shape;
    const m = right.shape[1];
    productT = wasm.run(
      'BatchMatMul',
      { a: wasm.view(left, [1, n, k]), b: wasm.view(right, [1, k, m]) },
      { transposeA: false, transposeB: false },
    );
  } finally {
    if (left !== b) wasm.free(left);
    if (right !== a) wasm.free(right);
  }
  const [, n, m] = productT.shape;
  const out = wasm.runAndFree('Transpose', { x: wasm.view(productT, [n, m]) }, { perm: [1, 0] }, [productT]);
  return wasm.view(out, [1, m, n]);
}

/** Broadcast batch dimensions, one 2-D XNNPACK product per output item. */
function itemByItem(
  wasm: WasmBackendHandle,
  kernelName: MatMulKernelName,
  inputs: Record<string, TensorInfo>,
  attrs: Attrs,
  { m, n }: { m: number; n: number },
): TensorInfo {
  const { a, b } = inputs;
  const batchShapeA = a.shape.slice(0, -2);
  const batchShapeB = b.shape.slice(0, -2);
  const rank = Math.max(batchShapeA.length, batchShapeB.length);
  const padA = [...new Array<number>(rank - batchShapeA.length).fill(1), ...batchShapeA];
  const padB = [...new Array<number>(rank - batchShapeB.length).fill(1), ...batchShapeB];
  const batchShape = padA.map((d, i) => Math.max(d, padB[i]));
  const itemA = product(a.shape.slice(-2));
  const itemB = product(b.shape.slice(-2));
  const out = wasm.backend.makeOutput([...batchShape, m, n], 'float32');
  const items = product(batchShape);
  for (let item = 0; item < items; item++) {
    // Row-major index of this item in each operand, size-1 dimensions broadcast.
    let rest = item;
    let indexA = 0;
    let indexB = 0;
    let strideA = 1;
    let strideB = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rest % batchShape[d];
      rest = Math.floor(rest / batchShape[d]);
      if (padA[d] > 1) indexA += i * strideA;
      if (padB[d] > 1) indexB += i * strideB;
      strideA *= padA[d];
      strideB *= padB[d];
    }
    const aItem = copyBlock(wasm, a, indexA * itemA, a.shape.slice(-2));
    const bItem = copyBlock(wasm, b, indexB * itemB, b.shape.slice(-2));
    const product2d = twoDimensional(wasm, kernelName, inputs, attrs, aItem, bItem);
    wasm.free(aItem, bItem);
    moveBlock(wasm, product2d, out, item * m * n);
    wasm.free(product2d);
  }
  return out;
}

function copyBlock(wasm: WasmBackendHandle, from: TensorInfo, offset: number, shape: number[]): TensorInfo {
  const block = wasm.backend.makeOutput(shape, from.dtype);
  const src = wasm.heapF32(from);
  wasm.heapF32(block).set(src.subarray(offset, offset + product(shape)));
  return block;
}

function moveBlock(wasm: WasmBackendHandle, from: TensorInfo, into: TensorInfo, offset: number): void {
  const src = wasm.heapF32(from);
  wasm.heapF32(into).set(src, offset);
}

export const batchMatMulKernel: WasmTrainingKernel = {
  kernelName: 'BatchMatMul',
  requires: ['BatchMatMul', 'Transpose'],
  run: (wasm, inputs, attrs) => matMul(wasm, 'BatchMatMul', inputs, attrs),
};

export const fusedMatMulKernel: WasmTrainingKernel = {
  kernelName: '_FusedMatMul',
  requires: ['_FusedMatMul', 'BatchMatMul', 'Transpose'],
  run: (wasm, inputs, attrs) => matMul(wasm, '_FusedMatMul', inputs, attrs),
};
