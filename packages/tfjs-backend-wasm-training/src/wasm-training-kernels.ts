import { kernelsOf, type Tf } from './tfjs-private';
import { installCpuFallbackKernels } from './cpu-fallback-kernels';
import { simdConv2dBackpropFilterKernel } from './simd/simd-conv2d-backprop-filter-kernel';
import { installBatchNormGradient } from './simd/batch-norm-gradient';
import { sameDtypeCastKernel } from './simd/same-dtype-cast-kernel';
import { simdComparisonKernels, simdFusedBatchNormKernel, simdLogicalAndKernel, simdSelectKernel } from './simd/simd-elementwise-kernels';
import { conv2dBackpropInputKernel } from './wasm-kernels/conv2d-backprop-input-kernel';
import { simdDepthwiseConv2dBackpropFilterKernel } from './simd/simd-depthwise-conv2d-backprop-filter-kernel';
import { depthwiseConv2dBackpropInputKernel } from './wasm-kernels/depthwise-conv2d-backprop-input-kernel';
import { gatherKernel } from './wasm-kernels/gather-kernel';
import { identityKernel } from './wasm-kernels/identity-kernel';
import { meanKernel, sumKernel } from './wasm-kernels/leading-axes-reduction-kernels';
import { batchMatMulKernel, fusedMatMulKernel } from './wasm-kernels/mat-mul-kernels';
import { simdMaxPoolGradKernel } from './simd/simd-max-pool-grad-kernel';
import { tileKernel } from './wasm-kernels/tile-kernel';
import { unsortedSegmentSumKernel } from './wasm-kernels/unsorted-segment-sum-kernel';
import {
  WasmBackendHandle,
  type BackendWasmLike,
  type KernelArgs,
  type KernelFunc,
  type WasmTrainingKernel,
} from './wasm-kernels/wasm-backend-handle';

/** Registered on wasm in this order; a kernel wasm already has is replaced by ours. */
export const WASM_TRAINING_KERNELS: readonly WasmTrainingKernel[] = [
  simdConv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  simdDepthwiseConv2dBackpropFilterKernel,
  depthwiseConv2dBackpropInputKernel,
  unsortedSegmentSumKernel,
  batchMatMulKernel,
  fusedMatMulKernel,
  simdMaxPoolGradKernel,
  tileKernel,
  sumKernel,
  meanKernel,
  identityKernel,
  gatherKernel,
  ...simdComparisonKernels,
  simdLogicalAndKernel,
  simdSelectKernel,
  simdFusedBatchNormKernel,
  sameDtypeCastKernel,
];

export interface WasmTrainingKernelsInstall {
  /** Kernels registered natively on wasm: the ones stock wasm lacks and the ones we replaced. */
  added: string[];
  /** Every other kernel cpu has and wasm lacks, bridged to the cpu implementation. */
  fallback: string[];
  /** The subset of `added` that stock wasm had, in a slower form. */
  replaced: string[];
}

const installed = new WeakMap<object, WasmTrainingKernelsInstall>();

/**
 * Makes the wasm backend able to train, fast: stock tfjs 4.22 wasm lacks, among others,
 * Conv2DBackpropFilter, the depthwise gradients and UnsortedSegmentSum, and runs conv2d's dx
 * and transposed matmuls in plain loops. Ours run on wasm's own XNNPACK kernels; every other
 * kernel the cpu backend has and wasm lacks is bridged to cpu (`onFallbackUsed` fires once per
 * kernel, on first use). Works before or after the wasm backend starts (`tf.setBackend('wasm')`), as it
 * only touches tfjs's kernel registry; later calls for the same tfjs return the first result.
 */
export function installWasmTrainingKernels(
  tf: Tf,
  onFallbackUsed: (kernelName: string) => void,
): WasmTrainingKernelsInstall {
  const previous = installed.get(tf);
  if (previous) return previous;
  // The stock kernels our kernels call, captured before any of them is replaced.
  const stockConfigs = kernelsOf(tf, 'wasm');
  const stock = new Map<string, KernelFunc>(stockConfigs.map((k) => [k.kernelName, k.kernelFunc]));
  const stockSetup = new Map(stockConfigs.map((k) => [k.kernelName, k.setupFunc]));
  const added: string[] = [];
  const replaced: string[] = [];
  for (const kernel of WASM_TRAINING_KERNELS) {
    // Another tfjs 4.x may lack a stock kernel ours builds on: keep its own (or the cpu bridge).
    if (!kernel.requires.every((name) => stock.has(name))) continue;
    if (stock.has(kernel.kernelName)) {
      tf.unregisterKernel(kernel.kernelName, 'wasm');
      replaced.push(kernel.kernelName);
    }
    tf.registerKernel({
      kernelName: kernel.kernelName,
      backendName: 'wasm',
      kernelFunc: ((args: KernelArgs) =>
        kernel.run(
          new WasmBackendHandle(tf, args.backend as BackendWasmLike, stock),
          args.inputs as Parameters<WasmTrainingKernel['run']>[1],
          args.attrs ?? {},
        )) as never,
      // A stock wasm kernel binds its C function in its setupFunc, which the engine runs for the kernels
      // registered when the backend starts. Ours may call the stock kernel it replaces (its other cases), so a
      // backend started after this install must still run that setup.
      setupFunc: stockSetup.get(kernel.kernelName) as never,
    });
    added.push(kernel.kernelName);
  }
  installBatchNormGradient(tf, stock);
  const fallback = installCpuFallbackKernels(tf, 'wasm', onFallbackUsed);
  const result = { added, fallback, replaced };
  installed.set(tf, result);
  return result;
}
