import { formatNumber } from '../format';
import { primaryObjective, type RunState } from '../model/run-state';
import { effectiveDecayOf } from './effective-decay';
import { collectTerms, weightViews } from './terms';

/**
 * What plain SGD with each decayed weight's L2 would remove per step (2·lr·l2), grouped by value: the reference
 * lines of the Decay per step chart. Weights with the same coefficient and learning rate share one line.
 */
export function decayReferenceLines(state: RunState): Array<{ value: number; weights: string[] }> {
  const views = weightViews(state, collectTerms(state));
  const byValue = new Map<number, string[]>();
  for (const v of views) {
    const d = effectiveDecayOf(state, v);
    if (!d || d.sgdEquivalent === null || !(d.sgdEquivalent > 0)) continue;
    byValue.set(d.sgdEquivalent, [...(byValue.get(d.sgdEquivalent) ?? []), v.info.id]);
  }
  return [...byValue].sort((a, b) => a[0] - b[0]).map(([value, weights]) => ({ value, weights }));
}

/** Two first data losses this close are the same computation (float32 noise aside). */
const SAME_START = 1e-6;

/**
 * What a reader of a comparison must know before trusting it. A seeded script starts both variants from the same
 * weights and data, so their first step's data loss is the same (the decoupled run only changes what happens after
 * that step's gradient); when it differs, each run started elsewhere and every difference after it is partly noise.
 */
export function comparisonNotices(asWritten: RunState, decoupled: RunState): string[] {
  const out: string[] = [];
  const a = firstDataLoss(asWritten);
  const b = firstDataLoss(decoupled);
  if (a !== null && b !== null && Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) > SAME_START * Math.max(Math.abs(a), Math.abs(b), 1e-12)) {
    out.push(
      `The two runs start from different data losses (${formatNumber(a, 6)} as written, ${formatNumber(b, 6)} decoupled): the script is not ` +
        'seeded, so each run draws its own initial weights or data and the comparison is noisy. Seed the initializers ' +
        '(kernelInitializer: tf.initializers.glorotUniform({ seed: 1 })) and the data (tf.randomNormal(shape, 0, 1, "float32", seed)).',
    );
  }
  const decays = Object.values(decoupled.series).some((s) => Object.keys(s.decay?.values ?? {}).length > 0);
  if (decoupled.status !== 'running' && stepsOf(decoupled) > 0 && !decays) {
    out.push('No L2 penalty reached the minimized loss as written, so the decoupled run had nothing to decouple: the two runs train alike.');
  }
  return out;
}

function firstDataLoss(state: RunState): number | null {
  const o = primaryObjective(state);
  const s = o === null ? undefined : state.series[o];
  return s && s.dataLoss.length > 0 ? s.dataLoss[0] : null;
}

function stepsOf(state: RunState): number {
  return Object.values(state.series).reduce((n, s) => Math.max(n, s.step.length), 0);
}
