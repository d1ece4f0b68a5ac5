import type { Tf } from '../tfjs-internals';
import { installCpuFallbackKernels } from './cpu-fallback-kernels';

/**
 * Makes the wasm backend able to train: stock tfjs 4.22 wasm lacks, among others,
 * Conv2DBackpropFilter, the depthwise gradients and UnsortedSegmentSum. Every kernel the
 * cpu backend has and wasm lacks is bridged to the cpu implementation.
 */
export function installWasmTrainingKernels(
  tf: Tf,
  onFallbackUsed: (kernelName: string) => void,
): { added: string[]; fallback: string[] } {
  const fallback = installCpuFallbackKernels(tf, 'wasm', onFallbackUsed);
  return { added: [], fallback };
}
