import type { Tensor, Tf, Variable } from '../tfjs-internals';

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}
type KernelFunc = (args: { inputs: Record<string, TensorInfoLike>; backend: unknown; attrs: Record<string, unknown> }) => TensorInfoLike;
interface BackendLike {
  readSync(dataId: object): ArrayLike<number>;
  disposeData(dataId: object, force?: boolean): unknown;
}

export interface WeightSums {
  /** Σw² by variable tensor id. */
  sumSq: Map<number, number>;
  /** Σ|w| by variable tensor id (only where asked). */
  sumAbs: Map<number, number>;
}

/**
 * Σw² (and Σ|w| for L1-penalized weights) of the trained variables, read once per measured step. It runs
 * the backend's own kernels directly: the engine's bookkeeping (tidy scopes, tape checks, tensor records)
 * costs more than the sums on a fast step. Any surprise (a variable on another backend, a missing kernel)
 * falls back to ordinary ops.
 */
export class WeightStats {
  private kernels: { backend: string; square: KernelFunc; abs: KernelFunc; sum: KernelFunc } | null = null;

  constructor(private readonly tf: Tf) {}

  measure(squares: Variable[], absolutes: Variable[]): WeightSums {
    if (squares.length + absolutes.length === 0) return { sumSq: new Map(), sumAbs: new Map() };
    try {
      return this.viaKernels(squares, absolutes);
    } catch {
      return this.viaOps(squares, absolutes);
    }
  }

  private kernelsFor(name: string): NonNullable<WeightStats['kernels']> {
    if (this.kernels?.backend !== name) {
      const get = (k: string) => {
        const config = this.tf.getKernel(k, name);
        if (!config) throw new Error(`no ${k} kernel on ${name}`);
        return config.kernelFunc as unknown as KernelFunc;
      };
      this.kernels = { backend: name, square: get('Square'), abs: get('Abs'), sum: get('Sum') };
    }
    return this.kernels;
  }

  private viaKernels(squares: Variable[], absolutes: Variable[]): WeightSums {
    const backend = this.tf.backend() as unknown as BackendLike;
    const k = this.kernelsFor(this.tf.getBackend());
    const reduce = (v: Variable, unary: KernelFunc): number => {
      const x: TensorInfoLike = { dataId: v.dataId, shape: v.shape, dtype: v.dtype };
      const mapped = unary({ inputs: { x }, backend, attrs: {} });
      try {
        const total = k.sum({ inputs: { x: mapped }, backend, attrs: { axis: v.shape.map((_, i) => i), keepDims: false } });
        try {
          return backend.readSync(total.dataId)[0];
        } finally {
          backend.disposeData(total.dataId);
        }
      } finally {
        backend.disposeData(mapped.dataId);
      }
    };
    return {
      sumSq: new Map(squares.map((v) => [v.id, reduce(v, k.square)])),
      sumAbs: new Map(absolutes.map((v) => [v.id, reduce(v, k.abs)])),
    };
  }

  private viaOps(squares: Variable[], absolutes: Variable[]): WeightSums {
    const tf = this.tf;
    const values: Tensor = tf.tidy(() =>
      tf.stack([...squares.map((v) => tf.sum(tf.square(v))), ...absolutes.map((v) => tf.sum(tf.abs(v)))]),
    );
    const data = values.dataSync();
    values.dispose();
    return {
      sumSq: new Map(squares.map((v, i) => [v.id, data[i]])),
      sumAbs: new Map(absolutes.map((v, i) => [v.id, data[squares.length + i]])),
    };
  }
}

/**
 * When to measure weight norms: every step while that costs under `budget` of a step, else every k-th
 * step with k chosen to stay in budget. The first steps, the last one and any non-finite step are
 * always measured. Costs are running averages, so a slow first measurement does not stick.
 */
export class NormSchedule {
  private costMs = 0;
  private stepMs = 0;
  private lastMeasured = 0;

  constructor(
    private readonly budget = 0.01,
    private readonly alwaysFirst = 3,
  ) {}

  /** Steps between measurements right now (1 = every step). */
  stride(): number {
    if (this.stepMs <= 0 || this.costMs <= 0) return 1;
    return Math.min(1000, Math.max(1, Math.ceil(this.costMs / (this.budget * this.stepMs))));
  }

  shouldMeasure(step: number, isLast: boolean, finite: boolean): boolean {
    return step <= this.alwaysFirst || isLast || !finite || step - this.lastMeasured >= this.stride();
  }

  measured(step: number, costMs: number): void {
    this.lastMeasured = step;
    this.costMs = this.costMs === 0 ? costMs : 0.8 * this.costMs + 0.2 * costMs;
  }

  /** Wall time of a whole step, probes included. */
  stepTook(ms: number): void {
    this.stepMs = this.stepMs === 0 ? ms : 0.8 * this.stepMs + 0.2 * ms;
  }
}
