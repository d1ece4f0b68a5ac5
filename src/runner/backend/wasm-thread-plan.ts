import * as os from 'node:os';

/**
 * Threads for XNNPACK: LOSS_LENS_WASM_THREADS (2–8), else 1. On 2 cores a second thread made
 * the CIFAR-10 CNN 1.4× faster but the text model 1.2× slower, and a short Loss Lens run of a
 * small CNN slower too (start-up +0.1 s, small ops pay the pool's wake-ups): see bench/RESULTS.md.
 */
export function wasmThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env.LOSS_LENS_WASM_THREADS);
  return env.LOSS_LENS_WASM_THREADS && Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 8) : 1;
}

/**
 * How many XNNPACK threads, and how they are used (Loss Lens's policy; the threaded backend itself is in
 * tfjs-backend-wasm-training). `LOSS_LENS_WASM_THREADS` set: exactly that many for every operator (1: the
 * single-threaded build, as before). Unset: `adaptive` when this process may use two or more cores (`taskset`
 * or a cgroup can leave it one): the threaded build starts with a pool of one, its pool workers load in the
 * background, and each large kernel then runs on whichever pool it is measured faster on.
 */
export function wasmThreadPlan(env: NodeJS.ProcessEnv = process.env): { threads: number; adaptive: boolean } {
  if (env.LOSS_LENS_WASM_THREADS) return { threads: wasmThreadCount(env), adaptive: false };
  const cores = os.availableParallelism();
  return cores >= 2 ? { threads: Math.min(cores, 4), adaptive: true } : { threads: 1, adaptive: false };
}
