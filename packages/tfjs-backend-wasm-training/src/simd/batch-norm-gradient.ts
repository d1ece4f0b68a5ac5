import { gradientOf, runKernelOutputs, wasmModuleOf, type Tensor, type Tf } from '../tfjs-private';
import { WasmBackendHandle, type BackendWasmLike, type KernelArgs, type TensorInfo } from '../wasm-kernels/wasm-backend-handle';
import { simdKernelsFor } from './simd-module';

/** Our kernel: every gradient of a per-channel FusedBatchNorm at once (wasm only). */
export const BATCH_NORM_GRAD_KERNEL = 'LossLensFusedBatchNormGrad';


const installed = new WeakSet<object>();

/**
 * tfjs's gradient of FusedBatchNorm (what every tf.layers.batchNormalization trains through) is a
 * composite of ~14 full-size passes over the activation: a subtraction, a Tile, seven products and
 * four reductions. On wasm, with per-channel statistics and channels in fours, ours computes dx and
 * the four per-channel gradients in one SIMD pass; any other case (another backend, other shapes)
 * runs tfjs's own gradient, unchanged. Gradients are registered per tfjs instance, not per backend,
 * hence the check on every call.
 */
export function installBatchNormGradient(tf: Tf, stock: ReadonlyMap<string, unknown>): boolean {
  const original = gradientOf(tf, 'FusedBatchNorm');
  if (!original || installed.has(tf) || !stock.has('FusedBatchNorm')) return false;
  installed.add(tf);
  tf.registerKernel({
    kernelName: BATCH_NORM_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: ((args: KernelArgs) => batchNormGrad(new WasmBackendHandle(tf, args.backend as BackendWasmLike, new Map()), args)) as never,
  });
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: original.inputsToSave,
    gradFunc: ((dy: Tensor, saved: Tensor[], attrs: Record<string, unknown>) => {
      const [x, mean, variance, scale] = saved;
      if (!fastCase(tf, x, dy, mean, variance, scale)) return original.gradFunc(dy, saved, attrs);
      const inputs: Record<string, Tensor> = { x, dy, mean, variance };
      if (scale) inputs.scale = scale;
      const [dx, dMean, dVariance, dScale, dOffset] = runKernelOutputs(tf, BATCH_NORM_GRAD_KERNEL, inputs, attrs);
      return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
    }) as never,
  });
  return true;
}

function fastCase(tf: Tf, x: Tensor, dy: Tensor, mean: Tensor, variance: Tensor, scale: Tensor | undefined | null): boolean {
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32' || dy.dtype !== 'float32' || x.rank < 2) return false;
  const channels = x.shape[x.rank - 1];
  const perChannel = (t: Tensor | undefined | null) => t != null && t.dtype === 'float32' && t.rank === 1 && t.shape[0] === channels;
  if (channels % 4 !== 0 || !perChannel(mean) || !perChannel(variance) || (scale != null && !perChannel(scale))) return false;
  if (dy.rank !== x.rank || !dy.shape.every((d, i) => d === x.shape[i])) return false;
  const module = wasmModuleOf(tf.backend());
  return module !== undefined && simdKernelsFor(module) !== null;
}

function batchNormGrad(wasm: WasmBackendHandle, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const { x, dy, mean, variance, scale } = inputs as Record<string, TensorInfo>;
  const simd = simdKernelsFor(wasm.backend.wasm);
  if (!simd) throw new Error(`${BATCH_NORM_GRAD_KERNEL}: no SIMD kernels on this backend`);
  const channels = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  const epsilon = typeof attrs?.varianceEpsilon === 'number' ? attrs.varianceEpsilon : 0.001;
  const stats = wasm.backend.makeOutput([3, channels], 'float32');
  const grads = wasm.backend.makeOutput([4, channels], 'float32');
  const dx = wasm.backend.makeOutput(x.shape, 'float32');
  const module = wasm.backend.wasm;
  const acc = module._malloc(32 * channels);
  try {
    const st = wasm.heapF32(stats);
    st.set(wasm.heapF32(mean), 0);
    const v = wasm.heapF32(variance);
    for (let c = 0; c < channels; c++) st[channels + c] = 1 / Math.sqrt(Math.fround(v[c] + epsilon));
    if (scale) st.set(wasm.heapF32(scale), 2 * channels);
    else st.fill(1, 2 * channels);
    const at = (t: TensorInfo) => wasm.backend.getMemoryOffset(t.dataId);
    simd.batchNormGrad(at(x), at(dy), at(stats), at(dx), acc, at(grads), rows, channels);
    // Four [C] tensors from the [4, C] result: one copy each (they are small).
    const g = wasm.heapF32(grads).slice();
    const outs = [0, 1, 2, 3].map((k) => {
      const t = wasm.backend.makeOutput([channels], 'float32');
      wasm.heapF32(t).set(g.subarray(k * channels, (k + 1) * channels));
      return t;
    });
    return [dx, ...outs];
  } finally {
    module._free(acc);
    wasm.free(stats, grads);
  }
}
