import { formatCoefficient, formatNumber } from '../format';
import type { RunState } from '../model/run-state';
import type { NamedSite, SourcePosition } from '../protocol/run-data';
import { DATA_TERM_ID } from '../protocol/term-ids';
import { ADAPTIVE_OPTIMIZERS, describePieces, describeRegularizer } from './decay';
import { ruleUnevenEffectiveDecay } from './effective-decay';
import { makeFinding, sortFindings, type Finding } from './finding';
import { collectTerms, describeTerm, weightViews, type TermView, type WeightView } from './terms';

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

const where = (t: TermView) => ({ layer: t.layer, weight: t.weight, source: t.source, termId: t.id });

/** "`totalLoss` (line 21)", "the value at line 21", with the file when it is not the one the finding is in. */
function siteText(site: NamedSite | SourcePosition | null | undefined, inFile: string | null, fallback: string): string {
  if (!site) return fallback;
  const file = site.file !== inFile ? ` of ${site.file.split(/[\\/]/).pop()}` : '';
  const name = 'name' in site ? site.name : null;
  return name ? `\`${name}\` (line ${site.line}${file})` : `the value at line ${site.line}${file}`;
}

/** tfjs keeps an RNN's regularizers on its cell (and a Bidirectional's on its two RNNs' cells) and never adds them. */
function rnnCellOf(t: TermView): { path: string } | null {
  const held = t.weightInfo?.heldBy;
  if (!held || t.kind !== 'weight-penalty') return null;
  return /(^|\.)cells?(\[\d+\])?$/.test(held.path) || /Cell$/.test(held.className) ? { path: held.path } : null;
}

function layerRef(state: RunState, layerName: string | null): string {
  const binding = state.layers.find((l) => l.name === layerName)?.binding;
  return binding ?? `$model.getLayer('${layerName}')`;
}

const steps = (n: number) => `${n} step${n === 1 ? '' : 's'}`;
const modelWord = (expr: string) => expr.replace(/\$model/g, 'model');

function ruleRegularizerNotInLoss(state: RunState, terms: TermView[], skip: (t: TermView) => boolean): Finding[] {
  const out: Finding[] = [];
  const dropped: TermView[] = [];
  for (const t of terms) {
    if (t.collection !== 'regularization' || t.kind === 'activity-penalty' || t.objective === null || skip(t)) continue;
    if (t.stepsInLoss === 0) dropped.push(t);
    else if (t.stepsInLoss < t.stepsObserved) {
      out.push(
        makeFinding(
          'regularizer-intermittent',
          `${capitalize(describeTerm(t))} reaches the minimized loss in only ${t.stepsInLoss} of ${t.stepsObserved} steps.`,
          where(t),
        ),
      );
    }
  }

  // Penalties summed with the data loss into a value the step does not return: one finding per such sum.
  const bySum = new Map<string, TermView[]>();
  for (const t of dropped) {
    if (!t.summedAt) continue;
    const key = `${t.summedAt.file}:${t.summedAt.line}:${t.summedAt.column}`;
    bySum.set(key, [...(bySum.get(key) ?? []), t]);
  }
  for (const group of bySum.values()) {
    const at = group[0].summedAt!;
    const minimized = state.graphs[group[0].objective!]?.minimizedSource ?? null;
    const these = group.length === 1 ? 'this penalty' : `these ${group.length} penalties`;
    const what = group.map(describeTerm).slice(0, 3).join('; ') + (group.length > 3 ? '; …' : '');
    out.push(
      makeFinding(
        'regularizer-not-in-loss',
        `${siteText(at, at.file, 'A sum')} adds ${these} (${what}), but the step returns ` +
          `${siteText(minimized, at.file, 'another value')}: ${group.length === 1 ? 'it never reaches' : 'none of them reaches'} ` +
          `the minimized loss, so ${group.length === 1 ? 'it decays' : 'they decay'} nothing (${steps(group[0].stepsObserved)}). ` +
          `Return ${at.name ? `\`${at.name}\`` : 'that sum'} instead.`,
        {
          ...(group.length === 1 ? where(group[0]) : { layer: null, weight: null, termId: null }),
          source: { file: at.file, line: at.line, column: at.column },
          related: group.map((t) => ({ layer: t.layer, weight: t.weight, termId: t.id })),
        },
      ),
    );
  }

  // An RNN's penalties sit on its cell(s), which no loss includes: one finding per layer, with every cell to add.
  const rnn = new Map<string, Array<{ t: TermView; path: string }>>();
  for (const t of dropped) {
    const cell = t.summedAt ? null : rnnCellOf(t);
    if (cell) rnn.set(t.layer ?? '', [...(rnn.get(t.layer ?? '') ?? []), { t, path: cell.path }]);
  }
  for (const [layer, list] of rnn) {
    const paths = [...new Set(list.map((x) => x.path))];
    const ref = layerRef(state, layer);
    const exprs = paths.map((p) => `${ref}.${p}.calculateLosses()`);
    const expr = exprs.length === 1 ? exprs[0] : `[${exprs.map((e) => `...${e}`).join(', ')}]`;
    const t = list[0].t;
    const what = list.map((x) => `${describeRegularizer(x.t.regularizer!)} on ${x.t.weightInfo?.name ?? x.t.weight}`).join(', ');
    out.push(
      makeFinding(
        'regularizer-not-in-loss',
        `${what} of ${layer} never ${list.length === 1 ? 'reaches' : 'reach'} the minimized loss: ${list.length === 1 ? 'it decays' : 'they decay'} ` +
          `nothing (${steps(t.stepsObserved)}). tfjs keeps ${layer}'s regularizers on its ${paths.join(' and ')} and does not add an ` +
          `RNN cell's regularizers to the loss, even in model.fit. Add tf.addN(${modelWord(expr)}) to the loss, or write the penalty by hand.`,
        {
          ...where(t),
          ...(list.length > 1 ? { weight: null, termId: null } : {}),
          related: list.length > 1 ? list.map((x) => ({ layer: x.t.layer, weight: x.t.weight, termId: x.t.id })) : [],
          addToLoss: expr,
        },
      ),
    );
  }

  for (const t of dropped) {
    if (t.summedAt || rnnCellOf(t)) continue;
    const minimized = state.graphs[t.objective!]?.minimizedSource ?? null;
    const head = `${capitalize(describeTerm(t))} never reaches the minimized loss: it decays nothing (${steps(t.stepsObserved)}).`;
    if (t.kind === 'hand-written') {
      const named = t.sourceName ? ` (\`${t.sourceName}\`, line ${t.source?.line})` : '';
      out.push(
        makeFinding(
          'regularizer-not-in-loss',
          `${capitalize(describeTerm(t))}${named} is computed in the step but never added to the loss it returns ` +
            `(${siteText(minimized, t.source?.file ?? null, 'the minimized value')}): it decays nothing (${steps(t.stepsObserved)}).`,
          where(t),
        ),
      );
    } else if (t.evaluated) {
      out.push(
        makeFinding(
          'regularizer-not-in-loss',
          `${head} The step computes it but never adds it to the loss it returns (${siteText(minimized, t.source?.file ?? null, 'the minimized value')}).`,
          { ...where(t), addToLoss: '$model.calculateLosses()' },
        ),
      );
    } else {
      // model.fit evaluates and adds every layer's penalty (an RNN cell's aside), so an unevaluated one means a hand-written loop.
      out.push(
        makeFinding('regularizer-not-in-loss', `${head} Add model.calculateLosses() to the loss your optimizer.minimize() callback returns.`, {
          ...where(t),
          addToLoss: '$model.calculateLosses()',
        }),
      );
    }
  }
  return out;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

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

/** NaN, infinite or negative coefficients, as the user wrote them, on layer regularizers and hand-written penalties. */
function ruleInvalidRegularizer(terms: TermView[]): Finding[] {
  const out: Finding[] = [];
  const check = (coefficient: number, form: string, on: string, at: Pick<Finding, 'layer' | 'weight' | 'source' | 'termId'>) => {
    if (!Number.isFinite(coefficient)) {
      out.push(
        makeFinding(
          'invalid-regularizer',
          `${form} ${coefficient} on ${on} is not a usable coefficient: the penalty, and the loss with it, is ${Number.isNaN(coefficient) ? 'NaN' : 'infinite'}.`,
          at,
        ),
      );
    } else if (coefficient < 0) {
      out.push(
        makeFinding('invalid-regularizer', `${form} ${formatCoefficient(coefficient)} on ${on} is negative: a negative ${form} grows the weights instead of decaying them.`, {
          ...at,
          severity: 'warning',
        }),
      );
    }
  };
  for (const t of terms) {
    if (t.collection !== 'regularization') continue;
    if (t.kind === 'hand-written') {
      for (const p of t.pieces) {
        if (p.coefficient === null || p.form === 'unknown') continue;
        check(p.coefficient, p.form === 'l2' ? 'L2' : p.form === 'l1' ? 'L1' : 'the norm coefficient', `${p.weight} (hand-written)`, { ...where(t), weight: p.weight });
      }
      continue;
    }
    const r = t.regularizer;
    if (!r || r.className !== 'L1L2') continue;
    const on = t.weight ?? `${t.layer}'s activations`;
    check(r.l1, 'L1', on, where(t));
    check(r.l2, 'L2', on, where(t));
  }
  return out;
}

const DECAYABLE_CLASSES = /^(Conv\d?D|Conv2DTranspose|Conv3DTranspose|SeparableConv\dD|DepthwiseConv2D|Dense|Embedding)$/;

function ruleNoDecay(state: RunState, weights: WeightView[]): Finding[] {
  const classOf = new Map(state.layers.map((l) => [l.name, l.className]));
  const kernels = weights.filter(
    (w) => w.info.trainable && w.updated !== false && (w.info.role === 'kernel' || w.info.role === 'embedding') && (w.layer !== null || w.info.shape.length >= 2),
  );
  if (!kernels.some((w) => w.penalties.length > 0)) return [];
  return kernels
    .filter((w) => w.penalties.length === 0 && (w.layer === null || DECAYABLE_CLASSES.test(classOf.get(w.layer) ?? '')))
    .map((w) =>
      makeFinding('no-decay', `${w.info.id} has no decay, while the model's other kernels do.`, { layer: w.layer, weight: w.info.id, source: w.source }),
    );
}

function ruleDecayOnBiasOrNorm(weights: WeightView[]): Finding[] {
  const out: Finding[] = [];
  for (const w of weights) {
    if (w.updated === false || !['bias', 'gamma', 'beta'].includes(w.info.role)) continue;
    const what = w.info.role === 'bias' ? 'a bias' : `a normalization ${w.info.role}`;
    for (const t of w.penalties) {
      if (t.kind === 'activity-penalty') continue;
      const reg = t.kind === 'hand-written' ? `Hand-written ${describePieces(t.pieces.filter((p) => p.weight === w.info.id))}` : describeRegularizer(t.regularizer!);
      out.push(makeFinding('decay-on-bias-or-norm', `${reg} on ${w.info.id} decays ${what}.`, { ...where(t), weight: w.info.id }));
    }
  }
  return out;
}

/** The penalties of one weight, each as its own regularizer says: "L2 0.01 on kernel", "hand-written L1 0.5 on bias". */
function weightPenaltyText(w: WeightView, reaching: TermView[]): string {
  const short = w.layer ? w.info.name : w.info.id;
  return reaching
    .map((t) =>
      t.kind === 'hand-written'
        ? `hand-written ${describePieces(t.pieces.filter((p) => p.weight === w.info.id))} on ${short}`
        : `${describeRegularizer(t.regularizer!)} on ${short}`,
    )
    .join(', ');
}

function ruleAdaptiveOptimizer(weights: WeightView[]): Finding[] {
  // One finding per layer (per raw variable outside layers), for exactly the weights an adaptive optimizer updates.
  const groups = new Map<string, Array<{ w: WeightView; reaching: TermView[] }>>();
  for (const w of weights) {
    if (w.updated === false || !w.optimizer || !ADAPTIVE_OPTIMIZERS.has(w.optimizer.className)) continue;
    const reaching = w.penalties.filter((t) => t.kind !== 'activity-penalty' && t.stepsInLoss > 0);
    if (reaching.length === 0) continue;
    const key = `${w.layer ?? w.info.id}|${w.optimizer.className}`;
    groups.set(key, [...(groups.get(key) ?? []), { w, reaching }]);
  }
  return [...groups.values()].map((list) => {
    const { w, reaching } = list[0];
    const opt = w.optimizer!.className;
    const what = list.map((x) => weightPenaltyText(x.w, x.reaching)).join(', ');
    const one = list.length === 1 && reaching.length === 1;
    return makeFinding(
      'l2-with-adaptive-optimizer',
      `${capitalize(what)}${w.layer ? ` of ${w.layer}` : ''} with ${opt} is not weight decay: ${opt} rescales the penalty's gradient too.`,
      {
        layer: w.layer,
        weight: list.length === 1 ? w.info.id : null,
        // A layer's line, or the line that created the raw tf.variable.
        source: w.source ?? reaching[0].source,
        termId: one ? reaching[0].id : null,
        related: list.length > 1 || reaching.length > 1 ? list.flatMap((x) => x.reaching.map((t) => ({ layer: x.w.layer, weight: x.w.info.id, termId: t.id }))) : [],
      },
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

function ruleNonFinite(state: RunState, terms: TermView[]): Finding[] {
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
    const related = g.flatMap((x) => (x.related.length ? x.related : [{ layer: x.layer, weight: x.weight, termId: x.termId }]));
    const fixes = [...new Set(g.map((x) => x.addToLoss).filter((x): x is string => x !== null))];
    return {
      ...f,
      message: `${f.message} The same holds for ${g.length - 1} more created at this line (${shown}${others.length > 3 ? ', …' : ''}).`,
      weight: null,
      termId: null,
      related,
      addToLoss: fixes.length > 1 ? `[${fixes.map((x) => `...${x}`).join(', ')}]` : (fixes[0] ?? null),
    };
  });
}

/** All findings for a run, most severe first. Pure: the same state always gives the same findings. */
export function analyzeRun(state: RunState): Finding[] {
  const terms = collectTerms(state);
  const weights = weightViews(state, terms);
  // A penalty only on weights no optimizer updates (a frozen target network) decays nothing either way: no decay findings.
  const untrained = new Set(weights.filter((w) => w.updated === false).map((w) => w.info.id));
  const onUntrainedOnly = (t: TermView) => {
    const covered = new Set([...(t.weight ? [t.weight] : []), ...t.pieces.map((p) => p.weight)]);
    return covered.size > 0 && [...covered].every((w) => untrained.has(w));
  };
  return sortFindings(foldBySource([
    ...ruleScriptError(state),
    ...ruleNoTrainingStep(state),
    ...ruleInvalidRegularizer(terms),
    ...ruleRegularizerNotInLoss(state, terms, onUntrainedOnly),
    ...ruleActivityRegularizer(terms),
    ...ruleNonFinite(state, terms),
    ...ruleDecayOnBiasOrNorm(weights),
    ...ruleAdaptiveOptimizer(weights),
    ...ruleUnevenEffectiveDecay(state, weights),
    ...ruleRegularizationDominates(state, terms),
    ...ruleNoDecay(state, weights),
  ]));
}
