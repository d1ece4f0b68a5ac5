// The backend's own kernels, called directly: on a fast step the engine's bookkeeping (tidy scopes, tape checks,
// tensor records) costs more than the few reductions and gathers the weight statistics and the sampler need.
import { kernelFuncOf, type KernelFunc, type TensorInfo, type Tf } from '../../tfjs-internals';

/** Kernel functions by name for one backend at a time, looked up again only when the backend changes. */
export class BackendKernels<Name extends string> {
  private cached: { backend: string; kernels: Record<Name, KernelFunc> } | null = null;

  constructor(
    private readonly tf: Tf,
    private readonly names: readonly Name[],
  ) {}

  /** The kernels of backend `backend`; throws when one is missing (the callers then fall back to ordinary ops). */
  of(backend: string): Record<Name, KernelFunc> {
    if (this.cached?.backend !== backend) {
      const kernels = {} as Record<Name, KernelFunc>;
      for (const name of this.names) {
        const kernel = kernelFuncOf(this.tf, name, backend);
        if (!kernel) throw new Error(`no ${name} kernel on ${backend}`);
        kernels[name] = kernel;
      }
      this.cached = { backend, kernels };
    }
    return this.cached.kernels;
  }
}

/** A kernel's one output. */
export const single = (out: TensorInfo | TensorInfo[]): TensorInfo => (Array.isArray(out) ? out[0] : out);
