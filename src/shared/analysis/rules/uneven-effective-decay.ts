import { formatNumber } from '../../format';
import type { RunState } from '../../model/run-state';
import { ADAPTIVE_OPTIMIZERS, describePiece } from '../decay';
import { effectiveDecayOf, effectiveDecaySeries, type EffectiveDecayView } from '../effective-decay';
import type { WeightView } from '../terms';
import { defineRule, type Found } from './rule';

/** Weights with the same coefficient under one adaptive optimizer whose effective decays are further apart than this trip the rule. */
const UNEVEN_RATIO = 10;

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
const MIN_PAIRED_STEPS = 3;

/**
 * The ratio of two weights' effective decays step by step, over the steps where both were measured: its lowest value
 * (the evidence that holds at every step), its highest, and the count. A per-step estimate under an adaptive
 * optimizer moves with each batch; a median ratio near the threshold flips from run to run, the lowest does not
 * cross it unless every step does.
 */
function pairedRatio(state: RunState, weak: string, strong: string): { low: number; high: number; steps: number } | null {
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

type Measured = { v: WeightView; d: EffectiveDecayView & { median: number } };

/** Measured weights under an adaptive optimizer, by optimizer and coefficient: the ones that must decay alike. */
function sameCoefficientGroups(state: RunState, weights: readonly WeightView[]): Measured[][] {
  const groups = new Map<string, Measured[]>();
  for (const v of weights) {
    if (v.updated === false || !v.optimizer || !ADAPTIVE_OPTIMIZERS.has(v.optimizer.className)) continue;
    const d = effectiveDecayOf(state, v);
    const key = d ? coefficientKey(v, d) : null;
    if (key === null || !d || d.median === null) continue;
    const group = `${v.optimizerIndex ?? v.optimizer.className}|${key}`;
    groups.set(group, [...(groups.get(group) ?? []), { v, d: d as Measured['d'] }]);
  }
  return [...groups.values()];
}

/** The group's weakest and strongest decays, when they are apart by more than UNEVEN_RATIO at every step both were measured. */
function unevenFinding(state: RunState, list: Measured[]): Found | null {
  if (list.length < 2) return null;
  const sorted = [...list].sort((a, b) => a.d.median - b.d.median);
  const weakest = sorted[0];
  const strongest = sorted[sorted.length - 1];
  if (!(strongest.d.median > 0)) return null;
  const ratio = weakest.d.median > 0 ? strongest.d.median / weakest.d.median : Number.POSITIVE_INFINITY;
  if (!(ratio > UNEVEN_RATIO)) return null;
  // Only on clear evidence: apart by more than the threshold at every step both were measured.
  const paired = pairedRatio(state, weakest.v.info.id, strongest.v.info.id);
  if (!paired || paired.steps < MIN_PAIRED_STEPS || !(paired.low > UNEVEN_RATIO)) return null;
  const opt = weakest.v.optimizer!.className;
  const key = coefficientKey(weakest.v, weakest.d)!;
  const sgd = weakest.d.sgdEquivalent;
  const times = (x: number) => (Number.isFinite(x) ? `${formatNumber(x, 2)}×` : '∞');
  const range = `${times(paired.low)}–${times(paired.high)} at each of the ${paired.steps} steps measured`;
  const apart = Number.isFinite(ratio) ? `${formatNumber(ratio, 2)}× apart (${range})` : `one of them not at all (${range})`;
  return {
    message:
      `Under ${opt}, the same ${key} shrinks ${weakest.v.info.id} by ${formatNumber(weakest.d.median, 2)} per step and ` +
      `${strongest.v.info.id} by ${formatNumber(strongest.d.median, 2)} per step: ${apart}` +
      `${sgd !== null ? ` (plain SGD would shrink each by ${formatNumber(sgd, 2)})` : ''}, measured over ${list.length} weights. ` +
      `${opt} divides each weight's penalty gradient by that weight's own gradient scale.`,
    layer: weakest.v.layer,
    weight: weakest.v.info.id,
    source: weakest.v.source,
    related: [weakest, strongest].map((x) => ({ layer: x.v.layer, weight: x.v.info.id, termId: null })),
  };
}

/**
 * An adaptive optimizer gives weights with the same coefficient effective decays more than 10× apart (it divides
 * each weight's penalty gradient by that weight's own gradient scale). Names the weakest and the strongest; one
 * finding per optimizer and coefficient.
 */
export const unevenEffectiveDecay = defineRule({
  id: 'uneven-effective-decay',
  severity: 'warning',
  name: 'UnevenEffectiveDecay',
  summary: 'An adaptive optimizer gives weights with the same penalty coefficient effective decays more than 10× apart.',
  help:
    'Loss Lens measures how much each penalty really shrinks its weight per step under the optimizer that trains it. ' +
    'Adam, Adamax, RMSProp, Adagrad and Adadelta divide the penalty\'s gradient by each weight\'s own gradient scale, so ' +
    'one coefficient decays weights with large gradients barely and weights with tiny gradients far more than plain SGD ' +
    'would. Decoupled weight decay (w ← w·(1 − lr·λ) after each step, as AdamW does) decays every weight alike: try ' +
    'it with loss-lens analyze --weight-decay decoupled.',
  pythonHelp:
    'Loss Lens measures how much each penalty really shrinks its weight per step under the optimizer that trains it. ' +
    'Adam, Adamax, RMSprop, Adagrad and Adadelta divide the penalty\'s gradient by each weight\'s own gradient scale, so ' +
    'one coefficient decays weights with large gradients barely and weights with tiny gradients far more than plain SGD ' +
    'would. Decoupled weight decay (w ← w·(1 − lr·λ) after each step) decays every weight alike: in Keras, drop the L2 ' +
    'regularizers and use keras.optimizers.AdamW, or weight_decay= on any Keras 3 optimizer.',
  firesWhen:
    'under an adaptive optimizer, weights with the same coefficient get measured decays more than 10× apart **at every step both were measured** (at least 3), so a median near 10× does not flip from run to run; the message gives the median ratio and the per-step range',
  check: ({ state, weights }) =>
    sameCoefficientGroups(state, weights)
      .map((list) => unevenFinding(state, list))
      .filter((f): f is Found => f !== null),
});
