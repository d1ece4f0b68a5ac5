// What decay-too-weak-for-run and decay-too-strong-for-epoch share: each decayed weight's timescale τ = 1/s set
// against the fit call that trains it, and how their findings name the weights and the call.
import { formatPercent } from '../../format';
import type { TrainingPlan } from '../../protocol/run-data';
import { describeHorizon, formatHorizon, planOf } from '../decoupled-decay';
import { effectiveDecayOf } from '../effective-decay';
import type { WeightView } from '../terms';
import type { Found, RuleContext } from './rule';

export type Timed = { w: WeightView; tau: number };

/** Per fit call, the weights whose decay outlasts the planned run (weak) and those it outpaces within an epoch (strong). */
export type PlanGroups = Map<TrainingPlan, { weak: Timed[]; strong: Timed[] }>;

/** Both rules read the same groups: measured once per analysis, not once per rule. */
const cache = new WeakMap<RuleContext, PlanGroups>();

/**
 * Only weights that are decayed and measured, under a fit / fitDataset whose steps per epoch are known. A weight
 * is weak when τ exceeds the steps its call plans, else strong when τ is shorter than one epoch.
 */
export function timescalesByPlan(ctx: RuleContext): PlanGroups {
  const hit = cache.get(ctx);
  if (hit) return hit;
  const groups: PlanGroups = new Map();
  for (const w of ctx.weights) {
    if (w.updated === false) continue;
    const tau = effectiveDecayOf(ctx.state, w)?.horizonSteps ?? null;
    if (tau === null) continue;
    const { stepsPerEpoch, plannedSteps, plan } = planOf(ctx.state, w.info.id);
    if (!plan || stepsPerEpoch === null) continue;
    const g = groups.get(plan) ?? { weak: [], strong: [] };
    groups.set(plan, g);
    if (plannedSteps !== null && tau > plannedSteps) g.weak.push({ w, tau });
    else if (tau < stepsPerEpoch) g.strong.push({ w, tau });
  }
  cache.set(ctx, groups);
  return groups;
}

/** "τ ≈ 1e4 steps (2500 epochs)", or a range "τ ≈ 5e3–1e4 steps (…)" over several weights. */
export function horizonRange(taus: number[], stepsPerEpoch: number): string {
  const lo = Math.min(...taus);
  const hi = Math.max(...taus);
  if (Number(lo.toPrecision(2)) === Number(hi.toPrecision(2))) return describeHorizon(lo, stepsPerEpoch);
  const epochs = (t: number) => formatHorizon(t / stepsPerEpoch);
  return `τ ≈ ${formatHorizon(lo)}–${formatHorizon(hi)} steps (${epochs(lo)}–${epochs(hi)} epochs)`;
}

export function percentRange(values: number[]): string {
  const lo = formatPercent(Math.min(...values), 1);
  const hi = formatPercent(Math.max(...values), 1);
  return lo === hi ? lo : `${lo}–${hi}`;
}

const names = (ws: WeightView[]) => (ws.length > 3 ? `${ws.slice(0, 3).map((w) => w.info.id).join(', ')} and ${ws.length - 3} more` : ws.map((w) => w.info.id).join(', '));

/** "model.fit (line 12)": the call a finding is about. */
export const callText = (plan: TrainingPlan) => `model.${plan.method}${plan.source ? ` (line ${plan.source.line})` : ''}`;

/** "The decay of k has", "The decay of 3 weights (a, b, c) has". */
export const subject = (list: Timed[]) =>
  list.length === 1 ? `The decay of ${list[0].w.info.id} has` : `The decay of ${list.length} weights (${names(list.map((x) => x.w))}) has`;

/** One finding per call and rule, at the call's line, naming the weights. */
export function atPlan(plan: TrainingPlan, list: Timed[]): Omit<Found, 'message'> {
  return {
    layer: list[0].w.layer,
    weight: list.length === 1 ? list[0].w.info.id : null,
    source: plan.source ?? list[0].w.source,
    related: list.length > 1 ? list.map((x) => ({ layer: x.w.layer, weight: x.w.info.id, termId: null })) : [],
  };
}
