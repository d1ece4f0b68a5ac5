import type { RunState } from '../model/run-state';
import { learningRateOf } from './decay';
import { decoupledDecayOf, horizonOf, planOf, type DecoupledDecayView } from './decoupled-decay';
import { median } from './median';
import type { WeightView } from './terms';

/**
 * Optimizers the runners shadow (tfjs 4.22's update formulas; Keras 3's for the Python runner, which adds RMSprop and
 * AdamW by Keras's names); any other class has no measured effective decay.
 */
export const SHADOWED_OPTIMIZERS = new Set(['SGD', 'Momentum', 'Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta', 'RMSprop', 'AdamW']);

/**
 * What a weight's decay really does per step, as measured (issue 11). `median` is the median over the measured steps
 * of s, the fraction of the weight its decay removed that step (s = −⟨Δ_applied − Δ_data, w⟩/⟨w, w⟩, plus a decay
 * the script applies itself between steps); `perStep` = 1 − median is the factor it multiplies the weight by.
 */
export interface EffectiveDecayView {
  weight: string;
  median: number | null;
  perStep: number | null;
  /** Steps with a measured value. */
  steps: number;
  /** What plain SGD with the same L2 (the coefficients as configured) would remove per step: 2·lr·Σl2. Null without L2. */
  sgdEquivalent: number | null;
  /** The optimizer that trains the weight (its class name), when known. */
  optimizer: string | null;
  /** Why there is no number, when there is none and the run says why (or it can tell). */
  unavailable: string | null;
  /** The part of the decay applied outside the optimizer's update formula (a user's AdamW, the script, the what-if). */
  decoupled: DecoupledDecayView | null;
  /** τ = 1/s, over the measured decay (the decoupled part alone when the rest is not measured); null without decay. */
  horizonSteps: number | null;
  /** τ in epochs, where the fit / fitDataset call that trains the weight says how many steps an epoch has. */
  horizonEpochs: number | null;
}

/** Every measured value of a weight's effective decay, over all objectives, in step order. */
export function effectiveDecaySeries(state: RunState, weight: string): { step: number[]; values: Array<number | null> } | null {
  for (const s of Object.values(state.series)) {
    const column = s.decay?.values[weight];
    if (column) return { step: s.decay.step, values: column };
  }
  return null;
}

export { median };

/** The L2 coefficients on a weight, summed over its penalties (as configured, whether or not they reach the loss). */
function l2Of(v: WeightView): number {
  let c = 0;
  for (const t of v.penalties) for (const p of t.pieces) if (p.weight === v.info.id && p.form === 'l2' && p.coefficient !== null) c += p.coefficient;
  return c;
}

/**
 * The effective decay of one weight, for the weights it applies to: those with a penalty (activity penalties aside),
 * and those the script decays itself between steps. Undefined for any other weight.
 */
export function effectiveDecayOf(state: RunState, v: WeightView): EffectiveDecayView | undefined {
  const penalized = v.penalties.some((t) => t.kind !== 'activity-penalty');
  const series = effectiveDecaySeries(state, v.info.id);
  if (!penalized && !series) return undefined;
  const decoupled = decoupledDecayOf(state, v);
  const measured = (series?.values ?? []).filter((x): x is number => x !== null && Number.isFinite(x));
  const mid = median(measured);
  const lr = learningRateOf(v.optimizer);
  const l2 = l2Of(v);
  const className = v.optimizer?.className ?? null;
  let unavailable = state.decayUnavailable?.[v.info.id] ?? null;
  if (unavailable === null && mid === null && v.updated !== false && className !== null && !SHADOWED_OPTIMIZERS.has(className)) {
    unavailable = `Loss Lens has no model of ${className}'s update`;
  }
  const total = unavailable ? null : mid;
  const horizonSteps = horizonOf(total ?? decoupled?.shrinkPerStep ?? null);
  const perEpoch = planOf(state, v.info.id).stepsPerEpoch;
  return {
    weight: v.info.id,
    median: total,
    perStep: total === null ? null : 1 - total,
    steps: unavailable ? 0 : measured.length,
    sgdEquivalent: lr !== null && l2 !== 0 && Number.isFinite(l2) ? 2 * lr * l2 : null,
    optimizer: className,
    unavailable,
    decoupled,
    horizonSteps,
    horizonEpochs: horizonSteps !== null && perEpoch ? horizonSteps / perEpoch : null,
  };
}
