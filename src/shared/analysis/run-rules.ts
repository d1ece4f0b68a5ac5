// The rules on the run as a whole: script errors, no training step, a non-finite loss, regularization dominating the loss.
import { formatNumber } from '../format';
import { incompleteReportNotice, type RunState } from '../model/run-state';
import { DATA_TERM_ID } from '../protocol/term-ids';
import { makeFinding, type Finding } from './finding';
import { where } from './rule-text';
import { describeTerm, type TermView } from './terms';

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

export function ruleRegularizationDominates(state: RunState, terms: TermView[]): Finding[] {
  const out: Finding[] = [];
  for (const [key, s] of Object.entries(state.series)) {
    if (s.step.length === 0) continue;
    const reg = s.regularizationLoss[0];
    const data = s.dataLoss[0];
    if (!(Number.isFinite(reg) && Number.isFinite(data) && reg > data)) continue;
    const objective = Number(key);
    const largest = terms
      .filter((t) => t.objective === objective && (t.kind === 'weight-penalty' || t.kind === 'hand-written') && t.reachesMinimizedLoss && t.firstValue !== null)
      .sort((a, b) => (b.firstValue ?? 0) - (a.firstValue ?? 0))[0];
    out.push(
      makeFinding(
        'regularization-dominates-loss',
        `At the first step the regularization loss (${formatNumber(reg)}) exceeds the data loss (${formatNumber(data)}).` +
          (largest ? ` The largest penalty is ${describeTerm(largest)} (${formatNumber(largest.firstValue!)}).` : ''),
        largest ? { ...where(largest), step: s.step[0] } : { step: s.step[0] },
      ),
    );
  }
  return out;
}

export function ruleNonFinite(state: RunState, terms: TermView[]): Finding[] {
  const nf = firstNonFinite(state);
  if (!nf) return [];
  const byId = new Map(terms.map((t) => [t.id, t]));
  const first = nf.terms[0] === DATA_TERM_ID ? null : byId.get(nf.terms[0]);
  const culprit =
    nf.terms[0] === DATA_TERM_ID
      ? 'The data loss went non-finite first; every penalty was still finite.'
      : `The penalty ${nf.terms.map((id) => (byId.get(id) ? describeTerm(byId.get(id)!) : id)).join(', ')} went non-finite first.`;
  const weights = nf.weights.length ? ` Weight norms no longer finite (exploded or NaN): ${nf.weights.slice(0, 5).join(', ')}${nf.weights.length > 5 ? ', …' : ''}.` : '';
  const before = nf.previousTotal !== null ? ` The step before, the loss was ${formatNumber(nf.previousTotal)}.` : '';
  return [
    makeFinding('non-finite-loss', `The loss is non-finite from step ${nf.step}. ${culprit}${weights}${before}`, {
      step: nf.step,
      layer: first?.layer ?? null,
      weight: first?.weight ?? null,
      source: first?.source ?? state.graphs[nf.objective]?.source ?? null,
      termId: nf.terms[0],
    }),
  ];
}

export function ruleNoTrainingStep(state: RunState): Finding[] {
  const steps = Object.values(state.series).reduce((n, s) => n + s.step.length, 0);
  if (steps > 0 || state.error || state.buildErrors.length > 0) return [];
  const why = state.end?.reason === 'timeout' ? 'before the timeout' : 'before it ended';
  return [
    makeFinding(
      'no-training-step',
      `The script took no optimizer step ${why}: there is no minimized loss to analyze.`,
      { source: null },
    ),
  ];
}

export function ruleScriptError(state: RunState): Finding[] {
  const build = state.buildErrors.map((b) => makeFinding('script-error', `Build error: ${b.message}`, { source: b.source }));
  const e = state.error;
  if (!e) return build;
  return [...build, makeFinding('script-error', `${e.name}: ${e.message}`, { source: e.source })];
}

/** Runner messages that failed validation were left out: say so, or a report missing them would read as clean. */
export function ruleIncompleteReport(state: RunState): Finding[] {
  if (state.protocolErrors === 0) return [];
  const n = state.protocolErrors;
  const what = `${incompleteReportNotice(n, state.firstProtocolError)} What ${n === 1 ? 'it' : 'they'} carried is missing from this report, so it may look cleaner than the run was.`;
  return [makeFinding('incomplete-report', what, { source: null })];
}
