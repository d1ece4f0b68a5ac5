import { formatFactor, formatInt } from '../format';
import { primaryObjective, type RunState } from '../model/run-state';
import { ADAPTIVE_OPTIMIZERS, decayPerStep } from './decay';
import type { Finding } from './finding';
import { collectTerms, type TermView } from './terms';

/**
 * The answer to "does weight decay work in this script?", in one or two sentences, with the findings
 * that back it. Pure: the panel shows it at the top; the CLI and the status bar can say the same words.
 *
 *   "3 of 3 penalties never reach the minimized loss: weight decay does nothing here."
 *   "All 5 penalties reach the loss. Under Adam, L2 is not weight decay."
 */
export type VerdictTone = 'pending' | 'error' | 'warning' | 'ok' | 'info';

export interface Verdict {
  tone: VerdictTone;
  /** One sentence, or two where the second one changes what the first means. */
  headline: string;
  /** True while the run is still going: a later step can change it. */
  provisional: boolean;
  /** The findings worth a line under the headline, most severe first. */
  top: Finding[];
  /** Findings left out of `top`. */
  more: number;
}

export interface VerdictOptions {
  /** Findings listed under the headline (default 3). */
  top?: number;
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** Penalties a training step saw, by how often they reached the minimized loss. */
export interface PenaltyCounts {
  total: number;
  never: number;
  sometimes: number;
  always: number;
}

export function penaltyCounts(terms: readonly TermView[]): PenaltyCounts {
  const penalties = terms.filter((t) => t.collection === 'regularization' && t.objective !== null && t.stepsObserved > 0);
  const never = penalties.filter((t) => t.stepsInLoss === 0).length;
  const always = penalties.filter((t) => t.stepsInLoss === t.stepsObserved).length;
  return { total: penalties.length, never, sometimes: penalties.length - never - always, always };
}

/** What the penalties that reach the loss do under this optimizer, when that changes the story. */
function optimizerClause(state: RunState, terms: readonly TermView[]): { text: string; tone: VerdictTone } | null {
  const primary = primaryObjective(state);
  const optimizer = primary === null ? undefined : state.optimizers[primary];
  if (!optimizer) return null;
  const reaching = terms.filter((t) => t.collection === 'regularization' && t.reachesMinimizedLoss);
  const l2 = reaching.filter((t) => t.regularizer?.className === 'L1L2' && t.regularizer.l2 > 0);
  if (l2.length === 0) return null;
  if (ADAPTIVE_OPTIMIZERS.has(optimizer.className)) return { text: `Under ${optimizer.className}, L2 is not weight decay.`, tone: 'warning' };
  const factors = l2.map((t) => decayPerStep(optimizer, t.regularizer, true)).filter((f): f is number => f !== undefined);
  if (factors.length === 0) return null;
  const lo = Math.min(...factors);
  const hi = Math.max(...factors);
  const range = lo === hi ? `×${formatFactor(lo)}` : `×${formatFactor(lo)} to ×${formatFactor(hi)}`;
  return { text: `Under ${optimizer.className}, L2 is weight decay: ${range} per step.`, tone: 'ok' };
}

function headlineOf(state: RunState, terms: readonly TermView[], findings: readonly Finding[]): { headline: string; tone: VerdictTone } {
  const steps = Object.values(state.series).reduce((n, s) => Math.max(n, s.step.length), 0);
  const running = state.status === 'running' && state.end === null;
  if (steps === 0) {
    const error = state.error ?? (state.buildErrors[0] ? { name: 'BuildError', message: state.buildErrors[0].message } : null);
    if (error) return { headline: `The script failed before its first optimizer step (${error.name}).`, tone: 'error' };
    if (running) return { headline: 'No verdict yet: it comes with the first optimizer step.', tone: 'pending' };
    return { headline: 'The script ran without a single optimizer step: there is no loss to check.', tone: 'error' };
  }
  // The finding already found the step (rules.ts); scanning a long run again on every update would not be cheap.
  const nonFinite = findings.find((f) => f.ruleId === 'non-finite-loss' && f.step !== null);
  const nonFiniteText = nonFinite ? `The loss is non-finite from step ${formatInt(nonFinite.step!)}: every step after it is meaningless.` : null;
  const c = penaltyCounts(terms);
  let first: string;
  let tone: VerdictTone;
  let second: { text: string; tone: VerdictTone } | null = null;
  if (c.total === 0) {
    first = 'No penalties: no layer asks for weight decay, so the minimized loss is the data loss alone.';
    tone = findings.some((f) => f.ruleId === 'activity-regularizer-unsupported') ? 'error' : 'info';
  } else if (c.never === c.total) {
    first =
      c.total === 1
        ? 'The one penalty never reaches the minimized loss: weight decay does nothing here.'
        : `${c.never} of ${c.total} penalties never reach the minimized loss: weight decay does nothing here.`;
    tone = 'error';
  } else if (c.never > 0) {
    first = `${c.never} of ${c.total} penalties never ${plural(c.never, 'reaches', 'reach')} the minimized loss: their decay does nothing.`;
    tone = 'error';
  } else if (c.sometimes > 0) {
    const them = plural(c.sometimes, 'its decay is', 'their decay is');
    first = `${c.sometimes} of ${c.total} penalties ${plural(c.sometimes, 'reaches', 'reach')} the loss in only some steps: ${them} weaker than configured.`;
    tone = 'warning';
  } else {
    first = c.total === 1 ? 'The one penalty reaches the loss.' : c.total === 2 ? 'Both penalties reach the loss.' : `All ${c.total} penalties reach the loss.`;
    tone = 'ok';
    second = optimizerClause(state, terms);
    if (second) tone = second.tone;
  }
  if (nonFiniteText) return { headline: `${nonFiniteText} ${first}`, tone: 'error' };
  return { headline: second ? `${first} ${second.text}` : first, tone };
}

export function verdictOf(
  state: RunState,
  findings: readonly Finding[],
  options: VerdictOptions = {},
  terms: readonly TermView[] = collectTerms(state),
): Verdict {
  const { headline, tone } = headlineOf(state, terms, findings);
  const n = options.top ?? 3;
  return {
    tone,
    headline,
    provisional: state.status === 'running' && state.end === null,
    top: findings.slice(0, n),
    more: Math.max(0, findings.length - n),
  };
}
