// The analysis entry point: runs every rule family over a run, folds repeats by source line, sorts by severity.
import type { RunState } from '../model/run-state';
import { ruleDecayTimescale, ruleOptimizerDecayInactive } from './decay-plan-rules';
import { ruleUnevenEffectiveDecay } from './effective-decay';
import { sortFindings, type Finding } from './finding';
import { ruleAdaptiveOptimizer, ruleDecayOnBiasOrNorm, ruleInvalidRegularizer, ruleNoDecay } from './placement-rules';
import { ruleActivityRegularizer, ruleRegularizerNotInLoss } from './reach-rules';
import { ruleIncompleteReport, ruleNoTrainingStep, ruleNonFinite, ruleRegularizationDominates, ruleScriptError } from './run-rules';
import { collectTerms, weightViews, type TermView } from './terms';

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
    ...ruleIncompleteReport(state),
    ...ruleNoTrainingStep(state),
    ...ruleInvalidRegularizer(terms),
    ...ruleRegularizerNotInLoss(state, terms, onUntrainedOnly),
    ...ruleActivityRegularizer(terms),
    ...ruleNonFinite(state, terms),
    ...ruleDecayOnBiasOrNorm(state, weights),
    ...ruleAdaptiveOptimizer(weights),
    ...ruleUnevenEffectiveDecay(state, weights),
    ...ruleOptimizerDecayInactive(state, weights),
    ...ruleDecayTimescale(state, weights),
    ...ruleRegularizationDominates(state, terms),
    ...ruleNoDecay(state, weights),
  ]));
}
