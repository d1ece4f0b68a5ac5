// A penalized weight as the effective-decay probe tracks it, and the analytic gradient of its penalties.
import type { PenaltyForm } from '../../../shared/protocol/run-data';
import type { Variable } from '../../tfjs-internals';
import type { WeightStats } from './weight-stats';

/** One penalty on a weight that reached the minimized loss this step, in tfjs's convention (L2 c·Σw², L1 c·Σ|w|, norm c·‖w‖). */
export interface PenaltyGradientSpec {
  form: PenaltyForm;
  coefficient: number | null;
}

export interface WeightTrack {
  variable: Variable;
  reaching: PenaltyGradientSpec[];
  decoupledL2: number;
  objective: number;
  step: number;
  /** Steps that differentiated this weight since its last update (more than one: gradient accumulation). */
  pending: number;
  /** Some penalty on it reached the minimized loss in some step so far (until then both shadows are the same). */
  everReached: boolean;
  unavailable: string | null;
  /** Sample buffers reused from step to step: the weight before its update, its gradient, the data gradient, after. */
  buffers: { w: Float64Array; g: Float64Array; data: Float64Array; after: Float64Array } | null;
}

/**
 * Subtracts from `g` the analytic gradient of the penalties that reached the loss, on the sampled elements; false
 * for a form whose gradient is not known.
 */
export function subtractPenaltyGradient(t: WeightTrack, stats: WeightStats, w: Float64Array, g: Float64Array): boolean {
  for (const spec of t.reaching) {
    const c = spec.coefficient;
    if (c === null || spec.form === 'unknown') return false;
    if (spec.form === 'l2') for (let i = 0; i < w.length; i++) g[i] -= 2 * c * w[i];
    // tfjs differentiates |w| as step(w, −1): −1 at 0.
    else if (spec.form === 'l1') for (let i = 0; i < w.length; i++) g[i] -= w[i] > 0 ? c : -c;
    else if (spec.form === 'norm') {
      const sumSq = stats.measure([t.variable], []).sumSq.get(t.variable.id);
      const norm = sumSq === undefined ? Number.NaN : Math.sqrt(sumSq);
      if (!(norm > 0)) return false;
      for (let i = 0; i < w.length; i++) g[i] -= (c * w[i]) / norm;
    }
  }
  return true;
}
