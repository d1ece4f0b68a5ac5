import { formatNumber } from '../format';
import type { RunState } from '../model/run-state';
import type { OptimizerInfo } from '../protocol/run-data';
import { DATA_TERM_ID } from '../protocol/term-ids';
import { ADAPTIVE_OPTIMIZERS, describeRegularizer } from './decay';
import { makeFinding, sortFindings, type Finding } from './finding';
import { collectTerms, type TermView } from './terms';

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

function optimizerFor(state: RunState, objective: number | null): OptimizerInfo | undefined {
  return objective === null ? undefined : state.optimizers[objective];
}

const where = (t: TermView) => ({ layer: t.layer, weight: t.weight, source: t.source, termId: t.id });

function penaltyAdvice(t: TermView): string {
  // model.fit always evaluates and adds every penalty, so an unevaluated one means a hand-written loop.
  return t.evaluated
    ? ' The step computes it but never adds it to the loss it returns.'
    : ' Add model.calculateLosses() to the loss your optimizer.minimize() callback returns.';
}

function ruleRegularizerNotInLoss(terms: TermView[]): Finding[] {
  const out: Finding[] = [];
  for (const t of terms) {
    if (t.collection !== 'regularization' || t.kind !== 'weight-penalty' || t.objective === null) continue;
    if (t.stepsInLoss === 0) {
      out.push(
        makeFinding(
          'regularizer-not-in-loss',
          `${describeRegularizer(t.regularizer!)} on ${t.weight} never reaches the minimized loss: it decays nothing ` +
            `(${t.stepsObserved} step${t.stepsObserved === 1 ? '' : 's'}).` +
            penaltyAdvice(t),
          where(t),
        ),
      );
    } else if (t.stepsInLoss < t.stepsObserved) {
      out.push(
        makeFinding(
          'regularizer-intermittent',
          `${describeRegularizer(t.regularizer!)} on ${t.weight} reaches the minimized loss in only ` +
            `${t.stepsInLoss} of ${t.stepsObserved} steps.`,
          where(t),
        ),
      );
    }
  }
  return out;
}

function ruleActivityRegularizer(terms: TermView[]): Finding[] {
  return terms
    .filter((t) => t.kind === 'activity-penalty')
    .map((t) =>
      makeFinding(
        'activity-regularizer-unsupported',
        `${t.layer} has an activity regularizer (${describeRegularizer(t.regularizer!)}), which tfjs cannot apply: ` +
          'it can never reach the loss.',
        where(t),
      ),
    );
}

const DECAYABLE_CLASSES = /^(Conv\d?D|Conv2DTranspose|Conv3DTranspose|SeparableConv\dD|DepthwiseConv2D|Dense|Embedding)$/;

function ruleNoDecay(state: RunState): Finding[] {
  const kernels = state.layers.flatMap((l) =>
    l.weights.filter((w) => w.trainable && (w.role === 'kernel' || w.role === 'embedding')).map((w) => ({ l, w })),
  );
  if (!kernels.some(({ w }) => w.regularizer)) return [];
  return kernels
    .filter(({ l, w }) => !w.regularizer && DECAYABLE_CLASSES.test(l.className))
    .map(({ l, w }) =>
      makeFinding(
        'no-decay',
        `${w.id} has no decay, while the model's other kernels do.`,
        { layer: l.name, weight: w.id, source: l.source },
      ),
    );
}

function ruleDecayOnBiasOrNorm(terms: TermView[]): Finding[] {
  return terms
    .filter((t) => t.kind === 'weight-penalty' && t.weightInfo && ['bias', 'gamma', 'beta'].includes(t.weightInfo.role))
    .map((t) => {
      const role = t.weightInfo!.role;
      const what = role === 'bias' ? 'a bias' : `a normalization ${role}`;
      return makeFinding(
        'decay-on-bias-or-norm',
        `${describeRegularizer(t.regularizer!)} on ${t.weight} decays ${what}.`,
        where(t),
      );
    });
}

function ruleAdaptiveOptimizer(state: RunState, terms: TermView[]): Finding[] {
  const byLayer = new Map<string, TermView[]>();
  for (const t of terms) {
    if (t.kind !== 'weight-penalty' || t.stepsInLoss === 0) continue;
    const opt = optimizerFor(state, t.objective);
    if (!opt || !ADAPTIVE_OPTIMIZERS.has(opt.className)) continue;
    const list = byLayer.get(t.layer!) ?? [];
    list.push(t);
    byLayer.set(t.layer!, list);
  }
  return [...byLayer.values()].map((list) => {
    const t = list[0];
    const opt = optimizerFor(state, t.objective)!;
    const weights = list.map((x) => x.weightInfo?.name ?? x.weight).join(', ');
    return makeFinding(
      'l2-with-adaptive-optimizer',
      `${describeRegularizer(t.regularizer!)} on ${t.layer} (${weights}) with ${opt.className} is not weight decay: ` +
        `${opt.className} rescales the penalty's gradient too.`,
      { ...where(t), weight: list.length === 1 ? t.weight : null, termId: list.length === 1 ? t.id : null },
    );
  });
}

function ruleRegularizationDominates(state: RunState, terms: TermView[]): Finding[] {
  const out: Finding[] = [];
  for (const [key, s] of Object.entries(state.series)) {
    if (s.step.length === 0) continue;
    const reg = s.regularizationLoss[0];
    const data = s.dataLoss[0];
    if (!(Number.isFinite(reg) && Number.isFinite(data) && reg > data)) continue;
    const objective = Number(key);
    const largest = terms
      .filter((t) => t.objective === objective && t.kind === 'weight-penalty' && t.firstValue !== null)
      .sort((a, b) => (b.firstValue ?? 0) - (a.firstValue ?? 0))[0];
    out.push(
      makeFinding(
        'regularization-dominates-loss',
        `At the first step the regularization loss (${formatNumber(reg)}) exceeds the data loss (${formatNumber(data)}).` +
          (largest ? ` The largest penalty is on ${largest.weight} (${formatNumber(largest.firstValue!)}).` : ''),
        largest ? { ...where(largest), step: s.step[0] } : { step: s.step[0] },
      ),
    );
  }
  return out;
}

function ruleNonFinite(state: RunState, terms: TermView[]): Finding[] {
  const nf = firstNonFinite(state);
  if (!nf) return [];
  const byId = new Map(terms.map((t) => [t.id, t]));
  const first = nf.terms[0] === DATA_TERM_ID ? null : byId.get(nf.terms[0]);
  const culprit =
    nf.terms[0] === DATA_TERM_ID
      ? 'The data loss went non-finite first; every penalty was still finite.'
      : `The penalty on ${nf.terms.map((id) => byId.get(id)?.weight ?? id).join(', ')} went non-finite first.`;
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

function ruleNoTrainingStep(state: RunState): Finding[] {
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

function ruleScriptError(state: RunState): Finding[] {
  const build = state.buildErrors.map((b) => makeFinding('script-error', `Build error: ${b.message}`, { source: b.source }));
  const e = state.error;
  if (!e) return build;
  return [...build, makeFinding('script-error', `${e.name}: ${e.message}`, { source: e.source })];
}

const sourceKey = (f: Finding) => (f.source ? `${f.source.file}:${f.source.line}:${f.source.column}` : null);

/**
 * One finding per rule and source line: a helper called in a loop creates many layers at one line,
 * and a thousand identical findings there say less than one that counts them.
 */
export function foldBySource(findings: Finding[]): Finding[] {
  const out: Finding[] = [];
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = sourceKey(f);
    if (key === null || f.ruleId === 'script-error' || f.ruleId === 'non-finite-loss') {
      out.push(f);
      continue;
    }
    const k = `${f.ruleId}@${key}`;
    const g = groups.get(k);
    if (g) g.push(f);
    else {
      groups.set(k, [f]);
      out.push(f);
    }
  }
  return out.map((f) => {
    const key = sourceKey(f);
    const g = key === null ? undefined : groups.get(`${f.ruleId}@${key}`);
    if (!g || g.length === 1 || g[0] !== f) return f;
    const others = g.slice(1).map((x) => x.weight ?? x.layer).filter((x): x is string => x !== null);
    const shown = others.slice(0, 3).join(', ');
    return {
      ...f,
      message: `${f.message} The same holds for ${g.length - 1} more created at this line (${shown}${others.length > 3 ? ', …' : ''}).`,
      weight: null,
      termId: null,
    };
  });
}

/** All findings for a run, most severe first. Pure: the same state always gives the same findings. */
export function analyzeRun(state: RunState): Finding[] {
  const terms = collectTerms(state);
  return sortFindings(foldBySource([
    ...ruleScriptError(state),
    ...ruleNoTrainingStep(state),
    ...ruleRegularizerNotInLoss(terms),
    ...ruleActivityRegularizer(terms),
    ...ruleNonFinite(state, terms),
    ...ruleDecayOnBiasOrNorm(terms),
    ...ruleAdaptiveOptimizer(state, terms),
    ...ruleRegularizationDominates(state, terms),
    ...ruleNoDecay(state),
  ]));
}
