import { activeBackend, type KernelFunc, type Tensor, type TensorInfo, type Tf, type Variable } from '../../tfjs-internals';
import { BackendKernels, single } from './backend-kernels';

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
  private readonly kernels: BackendKernels<'Square' | 'Abs' | 'Sum'>;

  constructor(private readonly tf: Tf) {
    this.kernels = new BackendKernels(tf, ['Square', 'Abs', 'Sum']);
  }

  measure(squares: Variable[], absolutes: Variable[]): WeightSums {
    if (squares.length + absolutes.length === 0) return { sumSq: new Map(), sumAbs: new Map() };
    try {
      return this.viaKernels(squares, absolutes);
    } catch {
      return this.viaOps(squares, absolutes);
    }
  }

  private viaKernels(squares: Variable[], absolutes: Variable[]): WeightSums {
    const backend = activeBackend(this.tf);
    const k = this.kernels.of(this.tf.getBackend());
    const reduce = (v: Variable, unary: KernelFunc): number => {
      const x: TensorInfo = { dataId: v.dataId, shape: v.shape, dtype: v.dtype };
      const mapped = single(unary({ inputs: { x }, backend, attrs: {} }));
      try {
        const total = single(k.Sum({ inputs: { x: mapped }, backend, attrs: { axis: v.shape.map((_, i) => i), keepDims: false } }));
        try {
          return Number(backend.readSync(total.dataId)[0]);
        } finally {
          backend.disposeData(total.dataId);
        }
      } finally {
        backend.disposeData(mapped.dataId);
      }
    };
    return {
      sumSq: new Map(squares.map((v) => [v.id, reduce(v, k.Square)])),
      sumAbs: new Map(absolutes.map((v) => [v.id, reduce(v, k.Abs)])),
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
