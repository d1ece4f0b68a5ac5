import { formatNumber } from '../format';
import type { RunState } from '../model/run-state';
import { ADAPTIVE_OPTIMIZERS, describePiece, learningRateOf } from './decay';
import { makeFinding, type Finding } from './finding';
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

/** Weights with the same coefficient under one adaptive optimizer whose effective decays are further apart than this trip the rule. */
export const UNEVEN_RATIO = 10;

/**
 * "L2 5e-4": the decay a weight is given, as one key (weights compared must share it): the penalties on it that reach
 * the loss, and a decoupled decay by who applies it (an AdamW gives each weight the same shrink, so never uneven).
 */
function coefficientKey(v: WeightView, d: EffectiveDecayView): string | null {
  const parts: string[] = [];
  for (const t of v.penalties) {
    if (t.kind === 'activity-penalty' || t.stepsInLoss === 0) continue;
    for (const p of t.pieces) if (p.weight === v.info.id) parts.push(describePiece(p));
  }
  if (d.decoupled) parts.push(`decoupled decay (${d.decoupled.applier?.className ?? d.decoupled.applier?.by ?? 'outside the update'})`);
  return parts.length ? [...new Set(parts)].sort().join(' + ') : null;
}

/** Steps with a measured value for both weights, at least this many, before a ratio of theirs may become a finding. */
export const MIN_PAIRED_STEPS = 3;

/**
 * The ratio of two weights' effective decays step by step, over the steps where both were measured: its lowest value
 * (the evidence that holds at every step), its highest, and the count. A per-step estimate under an adaptive
 * optimizer moves with each batch; a median ratio near the threshold flips from run to run, the lowest does not
 * cross it unless every step does.
 */
export function pairedRatio(state: RunState, weak: string, strong: string): { low: number; high: number; steps: number } | null {
  const a = effectiveDecaySeries(state, weak);
  const b = effectiveDecaySeries(state, strong);
  if (!a || !b) return null;
  const at = new Map(a.step.map((step, i) => [step, a.values[i]]));
  const ratios: number[] = [];
  b.step.forEach((step, i) => {
    const sw = at.get(step);
    const ss = b.values[i];
    if (sw == null || ss == null || !Number.isFinite(sw) || !Number.isFinite(ss)) return;
    ratios.push(ss <= 0 ? 0 : sw > 0 ? ss / sw : Number.POSITIVE_INFINITY);
  });
  if (ratios.length === 0) return null;
  return { low: Math.min(...ratios), high: Math.max(...ratios), steps: ratios.length };
}

/**
 * `uneven-effective-decay`: an adaptive optimizer gives weights with the same coefficient effective decays more than
 * 10× apart (it divides each weight's penalty gradient by that weight's own gradient scale). Names the weakest and
 * the strongest; one finding per optimizer and coefficient.
 */
export function ruleUnevenEffectiveDecay(state: RunState, weights: readonly WeightView[]): Finding[] {
  const groups = new Map<string, Array<{ v: WeightView; d: EffectiveDecayView & { median: number } }>>();
  for (const v of weights) {
    if (v.updated === false || !v.optimizer || !ADAPTIVE_OPTIMIZERS.has(v.optimizer.className)) continue;
    const d = effectiveDecayOf(state, v);
    const key = d ? coefficientKey(v, d) : null;
    if (key === null || !d || d.median === null) continue;
    const group = `${v.optimizerIndex ?? v.optimizer.className}|${key}`;
    groups.set(group, [...(groups.get(group) ?? []), { v, d: d as EffectiveDecayView & { median: number } }]);
  }
  const out: Finding[] = [];
  for (const list of groups.values()) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => a.d.median - b.d.median);
    const weakest = sorted[0];
    const strongest = sorted[sorted.length - 1];
    if (!(strongest.d.median > 0)) continue;
    const ratio = weakest.d.median > 0 ? strongest.d.median / weakest.d.median : Number.POSITIVE_INFINITY;
    if (!(ratio > UNEVEN_RATIO)) continue;
    // Only on clear evidence: apart by more than the threshold at every step both were measured.
    const paired = pairedRatio(state, weakest.v.info.id, strongest.v.info.id);
    if (!paired || paired.steps < MIN_PAIRED_STEPS || !(paired.low > UNEVEN_RATIO)) continue;
    const opt = weakest.v.optimizer!.className;
    const key = coefficientKey(weakest.v, weakest.d)!;
    const sgd = weakest.d.sgdEquivalent;
    const times = (x: number) => (Number.isFinite(x) ? `${formatNumber(x, 2)}×` : '∞');
    const range = `${times(paired.low)}–${times(paired.high)} at each of the ${paired.steps} steps measured`;
    const apart = Number.isFinite(ratio) ? `${formatNumber(ratio, 2)}× apart (${range})` : `one of them not at all (${range})`;
    out.push(
      makeFinding(
        'uneven-effective-decay',
        `Under ${opt}, the same ${key} shrinks ${weakest.v.info.id} by ${formatNumber(weakest.d.median, 2)} per step and ` +
          `${strongest.v.info.id} by ${formatNumber(strongest.d.median, 2)} per step: ${apart}` +
          `${sgd !== null ? ` (plain SGD would shrink each by ${formatNumber(sgd, 2)})` : ''}, measured over ${list.length} weights. ` +
          `${opt} divides each weight's penalty gradient by that weight's own gradient scale.`,
        {
          layer: weakest.v.layer,
          weight: weakest.v.info.id,
          source: weakest.v.source,
          related: [weakest, strongest].map((x) => ({ layer: x.v.layer, weight: x.v.info.id, termId: null })),
        },
      ),
    );
  }
  return out;
}
