// Rules on decay that no penalty expresses (issue 20): an optimizer that says it decays and does not, and a decay
// whose timescale does not fit the training the script plans.
import { formatCoefficient, formatNumber, formatPercent } from '../format';
import type { RunState } from '../model/run-state';
import type { OptimizerInfo, TrainingPlan } from '../protocol/run-data';
import { decoupledDecayOf, describeHorizon, formatHorizon, planOf } from './decoupled-decay';
import { effectiveDecayOf } from './effective-decay';
import { makeFinding, type Finding } from './finding';
import type { WeightView } from './terms';

/** Class names that say weight decay: AdamW, SGDW, AdamaxW, a class with WeightDecay or Decoupled in its name. */
const DECAY_CLASS = /adamw|adamaxw|sgdw|weight_?decay|decoupled/i;

/** What in an optimizer says it applies weight decay: its class name, and settings that name a non-zero decay. */
function decayClaims(o: OptimizerInfo): { byName: string | null; settings: string[]; claims: boolean } {
  const name = o.jsClass ?? o.className;
  const byName = DECAY_CLASS.test(name) ? name : null;
  const entries = Object.entries(o.decaySettings ?? {});
  const settings = entries.map(([k, v]) => `${k}=${typeof v === 'number' ? formatCoefficient(v) : String(v)}`);
  const nonZero = entries.some(([, v]) => (typeof v === 'number' && v !== 0) || v === true);
  return { byName, settings, claims: byName !== null || nonZero };
}

/**
 * `optimizer-decay-inactive`: an optimizer whose class or settings say weight decay, when none of the weights it
 * trains is measured to shrink outside its update over at least two steps. Not said of an optimizer seen writing
 * weights with an update of its own (a decay folded into it cannot be told apart), nor before two steps (a step's
 * decay is known once the next one starts).
 */
export function ruleOptimizerDecayInactive(state: RunState, weights: readonly WeightView[]): Finding[] {
  // A step's decay is sent when the next step starts: from the second step on, the first one's is known.
  const steps = Math.max(0, ...Object.values(state.series).map((s) => s.step.length));
  if (steps < 2) return [];
  const out: Finding[] = [];
  for (const o of Object.values(state.optimizerWeights ?? {})) {
    const info = o.optimizer;
    const claim = decayClaims(info);
    if (!claim.claims || info.ownUpdate) continue;
    const trained = weights.filter((w) => o.weights.includes(w.info.id));
    if (trained.length === 0 || trained.some((w) => decoupledDecayOf(state, w) !== null)) continue;
    const name = info.jsClass ?? info.className;
    const what = info.jsClass ? `${info.jsClass} (a subclass of tfjs's ${info.className})` : info.className;
    const says = [claim.byName ? 'its class name' : null, claim.settings.length ? `its settings ${claim.settings.join(', ')}` : null].filter(Boolean).join(' and ');
    const first = trained[0];
    out.push(
      makeFinding(
        'optimizer-decay-inactive',
        `${what} says weight decay (${says}), but none of the ${trained.length} weight${trained.length === 1 ? '' : 's'} it trains ` +
          `shrinks beyond what its update explains: its decay is 0. Check the order of ${name}'s constructor arguments and the key it reads its rate from.`,
        {
          layer: first.layer,
          weight: trained.length === 1 ? first.info.id : null,
          source: state.graphs[Object.keys(state.graphs)[0]]?.source ?? first.source,
          related: trained.length > 1 ? trained.map((w) => ({ layer: w.layer, weight: w.info.id, termId: null })) : [],
        },
      ),
    );
  }
  return out;
}

/** "τ ≈ 1e4 steps (2500 epochs)", or a range "τ ≈ 5e3–1e4 steps (…)" over several weights. */
function horizonRange(taus: number[], stepsPerEpoch: number): string {
  const lo = Math.min(...taus);
  const hi = Math.max(...taus);
  if (Number(lo.toPrecision(2)) === Number(hi.toPrecision(2))) return describeHorizon(lo, stepsPerEpoch);
  const epochs = (t: number) => formatHorizon(t / stepsPerEpoch);
  return `τ ≈ ${formatHorizon(lo)}–${formatHorizon(hi)} steps (${epochs(lo)}–${epochs(hi)} epochs)`;
}

function percentRange(values: number[]): string {
  const lo = formatPercent(Math.min(...values), 1);
  const hi = formatPercent(Math.max(...values), 1);
  return lo === hi ? lo : `${lo}–${hi}`;
}

const names = (ws: WeightView[]) => (ws.length > 3 ? `${ws.slice(0, 3).map((w) => w.info.id).join(', ')} and ${ws.length - 3} more` : ws.map((w) => w.info.id).join(', '));

/**
 * `decay-too-weak-for-run` (info): the decay's timescale τ = 1/s exceeds the training the script plans (one fit call's
 * epochs × steps per epoch), so it removes only 1 − e^(−T/τ) of a weight over the whole run.
 * `decay-too-strong-for-epoch` (warning): τ is shorter than one epoch: the decay erases what each epoch learns.
 * Only on weights that are decayed and measured, under a fit / fitDataset whose steps per epoch are known; one
 * finding per fit call and rule, at the call's line, naming the weights.
 */
export function ruleDecayTimescale(state: RunState, weights: readonly WeightView[]): Finding[] {
  const groups = new Map<TrainingPlan, { weak: Array<{ w: WeightView; tau: number }>; strong: Array<{ w: WeightView; tau: number }> }>();
  for (const w of weights) {
    if (w.updated === false) continue;
    const tau = effectiveDecayOf(state, w)?.horizonSteps ?? null;
    if (tau === null) continue;
    const { stepsPerEpoch, plannedSteps, plan } = planOf(state, w.info.id);
    if (!plan || stepsPerEpoch === null) continue;
    const g = groups.get(plan) ?? { weak: [], strong: [] };
    groups.set(plan, g);
    if (plannedSteps !== null && tau > plannedSteps) g.weak.push({ w, tau });
    else if (tau < stepsPerEpoch) g.strong.push({ w, tau });
  }
  const out: Finding[] = [];
  for (const [plan, { weak, strong }] of groups) {
    const perEpoch = plan.stepsPerEpoch!;
    const call = `model.${plan.method}${plan.source ? ` (line ${plan.source.line})` : ''}`;
    const at = (list: Array<{ w: WeightView }>) => ({
      layer: list[0].w.layer,
      weight: list.length === 1 ? list[0].w.info.id : null,
      source: plan.source ?? list[0].w.source,
      related: list.length > 1 ? list.map((x) => ({ layer: x.w.layer, weight: x.w.info.id, termId: null })) : [],
    });
    const subject = (list: Array<{ w: WeightView }>) =>
      list.length === 1 ? `The decay of ${list[0].w.info.id} has` : `The decay of ${list.length} weights (${names(list.map((x) => x.w))}) has`;
    if (weak.length) {
      const planned = plan.epochs * perEpoch;
      const taus = weak.map((x) => x.tau);
      out.push(
        makeFinding(
          'decay-too-weak-for-run',
          `${subject(weak)} ${horizonRange(taus, perEpoch)}, longer than the ${planned} steps ${call} plans ` +
            `(${plan.epochs} epoch${plan.epochs === 1 ? '' : 's'} × ${perEpoch}): over them it removes ${percentRange(taus.map((t) => 1 - Math.exp(-planned / t)))} of ${weak.length === 1 ? 'the weight' : 'each'} (1 − e^(−T/τ)).`,
          at(weak),
        ),
      );
    }
    if (strong.length) {
      const taus = strong.map((x) => x.tau);
      out.push(
        makeFinding(
          'decay-too-strong-for-epoch',
          `${subject(strong)} ${horizonRange(taus, perEpoch)}, shorter than one epoch of ${call} (${perEpoch} steps): each epoch it removes ` +
            `${percentRange(taus.map((t) => 1 - Math.exp(-perEpoch / t)))} of ${strong.length === 1 ? 'the weight' : 'each'}, so it forgets what earlier epochs learned.`,
          at(strong),
        ),
      );
    }
  }
  return out;
}
