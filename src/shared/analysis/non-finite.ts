// The first step where a run's loss stops being finite: the non-finite-loss rule reports it, and the report
// gives it as `nonFinite`.
import type { RunState } from '../model/run-state';
import { DATA_TERM_ID } from '../protocol/term-ids';

export interface NonFinite {
  objective: number;
  step: number;
  /** Which terms were non-finite at that step: penalty ids, or "data" when the data loss went first. */
  terms: string[];
  /** Weights whose norm was already non-finite at that step. */
  weights: string[];
  /** The total loss of the step before, when there was one: a hint of an explosion. */
  previousTotal: number | null;
}

/** The first step, in any objective, where the loss or one of its terms stops being finite. */
export function firstNonFinite(state: RunState): NonFinite | null {
  let best: NonFinite | null = null;
  for (const [key, s] of Object.entries(state.series)) {
    const objective = Number(key);
    for (let i = 0; i < s.step.length; i++) {
      if (best && s.step[i] >= best.step) break;
      const badTerms = Object.entries(s.terms)
        .filter(([, col]) => col[i] !== null && !Number.isFinite(col[i]))
        .map(([id]) => id);
      const totalBad = !Number.isFinite(s.totalLoss[i]) || !Number.isFinite(s.dataLoss[i]);
      if (!totalBad && badTerms.length === 0) continue;
      const weights = Object.entries(s.weightNorms)
        .filter(([, col]) => col[i] !== null && !Number.isFinite(col[i]))
        .map(([id]) => id);
      best = {
        objective,
        step: s.step[i],
        // A penalty that went non-finite makes the subtraction for the data loss meaningless too.
        terms: badTerms.length > 0 ? badTerms : [DATA_TERM_ID],
        weights,
        previousTotal: i > 0 ? s.totalLoss[i - 1] : null,
      };
      break;
    }
  }
  return best;
}
