import type { OptimizerInfo } from '../../../shared/protocol/run-data';

/**
 * A shadow of one tfjs 4.22 optimizer: the same update formula, in float64, on the elements of the weights we
 * sample, with its own state (momentum, Adam's moments, RMSProp's averages…). The effective-decay probe runs two
 * of these side by side, one fed the gradient the optimizer really got and one fed the data gradient alone, so the
 * difference of their updates is the penalty's share of the step, free of float32 cancellation.
 *
 * Each formula follows tfjs-core 4.22's `applyGradients`, quirks included: Adadelta divides by the running average
 * of g² from before this step; centered RMSProp takes sqrt(ms − (mg² + ε)); Adamax's learning rate decays with the
 * iteration count; Adam and Adamax correct their bias with the running products of β1 (and β2).
 */
export type ShadowKind = 'SGD' | 'Momentum' | 'Adam' | 'Adamax' | 'RMSProp' | 'Adagrad' | 'Adadelta';

export interface ShadowConfig {
  kind: ShadowKind;
  learningRate: number;
  /** Momentum, and RMSProp's momentum. */
  momentum: number;
  useNesterov: boolean;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** RMSProp's decay of the running averages. */
  rmsDecay: number;
  /** Adamax's learning-rate decay per iteration. */
  lrDecay: number;
  rho: number;
  centered: boolean;
  initialAccumulatorValue: number;
}

const KINDS: ReadonlySet<string> = new Set<ShadowKind>(['SGD', 'Momentum', 'Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta']);

/** tfjs's float32 epsilon (`backend.epsilon()` on cpu, wasm and tensorflow), used where the config has none. */
export const FLOAT32_EPSILON = 1e-7;

/** The shadow's configuration from the optimizer's own getConfig(), or null for an optimizer we do not model. */
export function shadowConfig(info: OptimizerInfo, backendEpsilon = FLOAT32_EPSILON): ShadowConfig | null {
  if (!KINDS.has(info.className)) return null;
  const c = info.config;
  const num = (key: string, fallback: number) => (typeof c[key] === 'number' ? (c[key] as number) : fallback);
  const learningRate = num('learningRate', Number.NaN);
  if (!Number.isFinite(learningRate)) return null;
  const kind = info.className as ShadowKind;
  return {
    kind,
    learningRate,
    momentum: num('momentum', 0),
    useNesterov: c.useNesterov === true,
    beta1: num('beta1', 0.9),
    beta2: num('beta2', 0.999),
    epsilon: num('epsilon', backendEpsilon),
    rmsDecay: kind === 'RMSProp' ? num('decay', 0.9) : 0,
    lrDecay: kind === 'Adamax' ? num('decay', 0) : 0,
    rho: num('rho', 0.95),
    centered: c.centered === true,
    initialAccumulatorValue: num('initialAccumulatorValue', 0.1),
  };
}

interface SlotState {
  /** Momentum's accumulation, Adam's and Adamax's first moment, RMSProp's moments, Adadelta's running g². */
  a: Float64Array;
  /** Adam's second moment, Adamax's weighted ∞-norm, RMSProp's mean square, Adagrad's sum, Adadelta's running Δ². */
  b: Float64Array;
  /** Centered RMSProp's mean gradient. */
  c: Float64Array;
  /** This step's update, reused from step to step. */
  d: Float64Array;
}

/**
 * One optimizer's shadow over named weights (each a fixed sample of its elements). `step` takes this step's
 * gradient for every weight the optimizer updates now and returns each one's update Δ (new value − old value),
 * advancing the per-optimizer counters once, as tfjs does per applyGradients call.
 */
export class ShadowOptimizer {
  private readonly slots = new Map<string, SlotState>();
  /** Adam: β1ᵗ and β2ᵗ; Adamax: β1ᵗ. They start at β (tfjs creates them as scalar(β)). */
  private accBeta1: number;
  private accBeta2: number;
  private iteration = 0;

  constructor(readonly config: ShadowConfig) {
    this.accBeta1 = config.beta1;
    this.accBeta2 = config.beta2;
  }

  private slot(name: string, size: number): SlotState {
    let s = this.slots.get(name);
    if (!s || s.a.length !== size) {
      const init = this.config.kind === 'Adagrad' ? this.config.initialAccumulatorValue : 0;
      s = { a: new Float64Array(size), b: new Float64Array(size).fill(init), c: new Float64Array(size), d: new Float64Array(size) };
      this.slots.set(name, s);
    }
    return s;
  }

  step(gradients: ReadonlyMap<string, Float64Array>): Map<string, Float64Array> {
    const out = new Map<string, Float64Array>();
    for (const [name, g] of gradients) out.set(name, this.update(this.slot(name, g.length), g));
    if (this.config.kind === 'Adam') {
      this.accBeta1 *= this.config.beta1;
      this.accBeta2 *= this.config.beta2;
    } else if (this.config.kind === 'Adamax') {
      this.iteration++;
      this.accBeta1 *= this.config.beta1;
    }
    return out;
  }

  // Every constant in a local and one pass per element: this runs on every penalized weight of every step. One
  // function on purpose: split into a function per optimizer (tried for issue 22), the same loops ran 1.1–1.6×
  // slower in interleaved in-process timing on Node 20 (SGD, Momentum, Adam), most likely from how V8 inlined them.
  private update(s: SlotState, g: Float64Array): Float64Array {
    const k = this.config;
    const lr = k.learningRate;
    const { a, b, c, d } = s;
    const n = g.length;
    switch (k.kind) {
      case 'SGD':
        for (let i = 0; i < n; i++) d[i] = -lr * g[i];
        break;
      case 'Momentum': {
        const m = k.momentum;
        if (k.useNesterov) {
          for (let i = 0; i < n; i++) {
            const acc = m * a[i] + g[i];
            a[i] = acc;
            d[i] = -lr * (g[i] + acc * m);
          }
        } else {
          for (let i = 0; i < n; i++) {
            const acc = m * a[i] + g[i];
            a[i] = acc;
            d[i] = -lr * acc;
          }
        }
        break;
      }
      case 'Adam': {
        const b1 = k.beta1;
        const b2 = k.beta2;
        const eps = k.epsilon;
        // −lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε), with the two corrections folded into constants.
        const rate = -lr / (1 - this.accBeta1);
        const inv2 = 1 / (1 - this.accBeta2);
        for (let i = 0; i < n; i++) {
          const gi = g[i];
          const m = b1 * a[i] + (1 - b1) * gi;
          const v = b2 * b[i] + (1 - b2) * gi * gi;
          a[i] = m;
          b[i] = v;
          d[i] = (rate * m) / (Math.sqrt(v * inv2) + eps);
        }
        break;
      }
      case 'Adamax': {
        const b1 = k.beta1;
        const b2 = k.beta2;
        const eps = k.epsilon;
        const rate = -lr / (this.iteration * k.lrDecay + 1) / (1 - this.accBeta1);
        for (let i = 0; i < n; i++) {
          const gi = g[i];
          const m = b1 * a[i] + (1 - b1) * gi;
          const u = Math.max(b2 * b[i], Math.abs(gi));
          a[i] = m;
          b[i] = u;
          d[i] = rate * (m / (u + eps));
        }
        break;
      }
      case 'RMSProp': {
        const rho = k.rmsDecay;
        const mom = k.momentum;
        const eps = k.epsilon;
        for (let i = 0; i < n; i++) {
          const gi = g[i];
          const ms = rho * b[i] + (1 - rho) * gi * gi;
          b[i] = ms;
          let denom: number;
          if (k.centered) {
            const mg = rho * c[i] + (1 - rho) * gi;
            c[i] = mg;
            denom = Math.sqrt(ms - (mg * mg + eps));
          } else {
            denom = Math.sqrt(ms + eps);
          }
          const step = mom * a[i] + (gi * lr) / denom;
          a[i] = step;
          d[i] = -step;
        }
        break;
      }
      case 'Adagrad':
        for (let i = 0; i < n; i++) {
          const gi = g[i];
          const acc = b[i] + gi * gi;
          b[i] = acc;
          d[i] = -lr * (gi / Math.sqrt(acc + FLOAT32_EPSILON));
        }
        break;
      case 'Adadelta': {
        const rho = k.rho;
        const eps = k.epsilon;
        for (let i = 0; i < n; i++) {
          const gi = g[i];
          const oldG2 = a[i];
          a[i] = rho * oldG2 + (1 - rho) * gi * gi;
          const upd = (Math.sqrt(b[i] + eps) / Math.sqrt(oldG2 + eps)) * gi;
          b[i] = rho * b[i] + (1 - rho) * upd * upd;
          d[i] = -lr * upd;
        }
        break;
      }
    }
    return d;
  }
}

/**
 * The fraction of a weight the penalty removes in one step: s = −⟨Δ_applied − Δ_data, w⟩ / ⟨w, w⟩, where w is the
 * weight before the step. Under plain SGD with L2 `l2` this is exactly 2·lr·l2, so 1 − s is the decay factor.
 */
export function decayFraction(applied: Float64Array, dataOnly: Float64Array, w: Float64Array, weights: Float64Array | null = null): number {
  let dot = 0;
  let norm = 0;
  // A stratified sample: each element stands for `weights[i]` of the weight's (both sums, so the ratio is unbiased).
  if (weights) {
    for (let i = 0; i < w.length; i++) {
      dot += weights[i] * (applied[i] - dataOnly[i]) * w[i];
      norm += weights[i] * w[i] * w[i];
    }
    return norm > 0 ? -dot / norm : Number.NaN;
  }
  for (let i = 0; i < w.length; i++) {
    dot += (applied[i] - dataOnly[i]) * w[i];
    norm += w[i] * w[i];
  }
  return norm > 0 ? -dot / norm : Number.NaN;
}
