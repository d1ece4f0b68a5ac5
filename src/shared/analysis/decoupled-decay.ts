// Decay applied outside the optimizer's update formula (issue 20): a user's AdamW, a decay step in the script, the
// what-if. Its measured size, who applies it, whether it follows the learning rate, and its timescale.
import { formatCoefficient } from '../format';
import type { RunState } from '../model/run-state';
import type { DecayApplier, TrainingPlan } from '../protocol/run-data';
import { median } from './median';
import { collectTerms, weightViews, type WeightView } from './terms';

export interface DecoupledDecayView {
  /** Median over the measured steps of the shrink applied outside the update (s: the weight loses s of itself per step). */
  shrinkPerStep: number;
  steps: number;
  applier: DecayApplier | null;
  /** True: s is lr·λ (a learning-rate schedule scales it too); false: s is λ whatever lr is; null: the run cannot tell. */
  followsLearningRate: boolean | null;
}

/** The per-step series of a weight's decoupled shrink, with the learning rate of each of those steps (null if unknown). */
export function decoupledSeries(state: RunState, weight: string): Array<{ step: number; s: number; lr: number | null }> {
  for (const series of Object.values(state.series)) {
    const column = series.decay?.decoupled?.[weight];
    if (!column) continue;
    const lrAt = new Map(series.step.map((step, i) => [step, series.learningRate[i]]));
    const out: Array<{ step: number; s: number; lr: number | null }> = [];
    series.decay.step.forEach((step, i) => {
      const s = column[i];
      if (s !== null && Number.isFinite(s)) out.push({ step, s, lr: lrAt.get(step) ?? null });
    });
    return out;
  }
  return [];
}

const close = (a: number, b: number, tolerance: number) => Math.abs(a - b) <= tolerance * Math.abs(b);
const spread = (xs: number[]) => Math.max(...xs) / Math.min(...xs) - 1;

/** Numeric, non-zero decay settings of an optimizer (its λ, as it holds it). */
export function decayRates(settings: Record<string, unknown> | undefined): number[] {
  return Object.values(settings ?? {}).filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
}

/**
 * Whether a decoupled decay scales with the learning rate. A schedule decides it when the learning rate moved
 * during the measured steps (s/lr constant, or s constant); with a constant learning rate, the optimizer's own decay
 * rate λ does (s = lr·λ, or s = λ); the what-if applies lr·2·l2 by construction.
 */
function followsLearningRate(points: Array<{ s: number; lr: number | null }>, applier: DecayApplier | null, v: WeightView): boolean | null {
  if (applier?.by === 'what-if') return true;
  const withLr = points.filter((p): p is { s: number; lr: number } => p.lr !== null && p.lr > 0 && p.s > 0);
  if (withLr.length >= 2 && spread(withLr.map((p) => p.lr)) > 0.05) {
    if (spread(withLr.map((p) => p.s / p.lr)) < 0.05) return true;
    if (spread(withLr.map((p) => p.s)) < 0.05) return false;
    return null;
  }
  const s = median(points.map((p) => p.s));
  const lr = withLr[0]?.lr ?? (typeof v.optimizer?.config.learningRate === 'number' ? v.optimizer.config.learningRate : null);
  if (s === null || applier?.by !== 'optimizer') return null;
  for (const rate of decayRates(v.optimizer?.decaySettings)) {
    if (lr !== null && close(s, lr * rate, 0.02)) return true;
    if (close(s, rate, 0.02)) return false;
  }
  return null;
}

/** The decoupled decay of one weight; null when nothing shrinks it outside its optimizer's update. */
export function decoupledDecayOf(state: RunState, v: WeightView): DecoupledDecayView | null {
  const points = decoupledSeries(state, v.info.id);
  const s = median(points.map((p) => p.s));
  if (s === null || !(s > 0)) return null;
  const applier = state.decayAppliers?.[v.info.id] ?? null;
  return { shrinkPerStep: s, steps: points.length, applier, followsLearningRate: followsLearningRate(points, applier, v) };
}

/** "AdamW", "the script (train.ts:15)", "what-if": who applies it, for the short texts. */
export function applierName(a: DecayApplier | null, where: (s: NonNullable<DecayApplier['source']>) => string = (s) => `line ${s.line}`): string {
  if (!a) return 'outside the update';
  if (a.by === 'what-if') return 'what-if';
  if (a.by === 'optimizer') return a.className ?? 'its optimizer';
  return a.source ? `script, ${where(a.source)}` : 'script';
}

/** "decoupled 1e-4/step (AdamW)". */
export function describeDecoupled(d: DecoupledDecayView, where?: (s: NonNullable<DecayApplier['source']>) => string): string {
  return `decoupled ${formatCoefficient(d.shrinkPerStep)}/step (${applierName(d.applier, where)})`;
}

/** The training the script plans for a weight, as far as its fit / fitDataset calls say. */
export interface WeightPlan {
  /** Optimizer steps per epoch, when every call that trains it agrees on one. */
  stepsPerEpoch: number | null;
  /** epochs × steps per epoch of the one call that trains it; null when unknown or when several calls do (a loop). */
  plannedSteps: number | null;
  plan: TrainingPlan | null;
}

export function planOf(state: RunState, weight: string): WeightPlan {
  const plans = (state.trainingPlans ?? []).filter((p) => p.weights.includes(weight));
  if (plans.length === 0) return { stepsPerEpoch: null, plannedSteps: null, plan: null };
  const perEpoch = new Set(plans.map((p) => p.stepsPerEpoch));
  const stepsPerEpoch = perEpoch.size === 1 ? plans[0].stepsPerEpoch : null;
  const one = plans.length === 1 && plans[0].stepsPerEpoch !== null ? plans[0] : null;
  return { stepsPerEpoch, plannedSteps: one ? one.epochs * one.stepsPerEpoch! : null, plan: plans[0] };
}

/** τ = 1/s: the steps over which a decay of s per step forgets a weight's past (it shrinks it by 1/e). */
export function horizonOf(s: number | null): number | null {
  return s !== null && s > 0 && Number.isFinite(s) ? 1 / s : null;
}

/** A timescale to two digits, as coefficients are written: 20, 2500, 2.4e4, 0.31. */
export const formatHorizon = (x: number) => formatCoefficient(Number(x.toPrecision(2)));

/** "τ ≈ 1e4 steps (2.6 epochs)". */
export function describeHorizon(tau: number, stepsPerEpoch: number | null): string {
  const epochs = stepsPerEpoch ? ` (${formatHorizon(tau / stepsPerEpoch)} epoch${tau === stepsPerEpoch ? '' : 's'})` : '';
  return `τ ≈ ${formatHorizon(tau)} steps${epochs}`;
}

/**
 * The panel's Decay per step section, in words: each decoupled decay with the weights it covers and its timescale,
 * "decoupled 1e-4/step (AdamW) on 6 weights · τ ≈ 1e4 steps (2500 epochs)".
 */
export function decoupledDecayNotes(state: RunState): string[] {
  const groups = new Map<string, { count: number; taus: number[]; perEpoch: number | null }>();
  for (const v of weightViews(state, collectTerms(state))) {
    if (v.updated === false) continue;
    const d = decoupledDecayOf(state, v);
    if (!d) continue;
    const key = describeDecoupled(d);
    const g = groups.get(key) ?? { count: 0, taus: [], perEpoch: planOf(state, v.info.id).stepsPerEpoch };
    g.count++;
    g.taus.push(1 / d.shrinkPerStep);
    groups.set(key, g);
  }
  return [...groups].map(([text, g]) => {
    const tau = median(g.taus)!;
    return `${text} on ${g.count} weight${g.count === 1 ? '' : 's'} · ${describeHorizon(tau, g.perEpoch)}`;
  });
}
