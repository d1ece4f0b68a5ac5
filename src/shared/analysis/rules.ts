// The analysis entry point: runs every rule of the registry over a run, folds repeats by source line, sorts by severity.
import type { RunState } from '../model/run-state';
import { sortFindings, type Finding } from './finding';
import { makeFinding, RULES } from './rules/registry';
import { RULE_LIST, type AnyRule } from './rules/registry';
import type { RuleContext } from './rules/rule';
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
    if (key === null || RULES[f.ruleId].foldsBySource === false) {
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

/** What every rule reads, built once per analysis. */
export function ruleContext(state: RunState): RuleContext {
  const terms = collectTerms(state);
  const weights = weightViews(state, terms);
  const untrained = new Set(weights.filter((w) => w.updated === false).map((w) => w.info.id));
  const onUntrainedOnly = (t: TermView) => {
    const covered = new Set([...(t.weight ? [t.weight] : []), ...t.pieces.map((p) => p.weight)]);
    return covered.size > 0 && [...covered].every((w) => untrained.has(w));
  };
  return { state, terms, weights, onUntrainedOnly };
}

/** The findings of the given rules on a run, folded and most severe first (analyzeRun with every rule). */
export function analyzeWith(rules: readonly AnyRule[], state: RunState): Finding[] {
  const ctx = ruleContext(state);
  return sortFindings(foldBySource(rules.flatMap((rule) => rule.check(ctx).map((found) => makeFinding(rule.id, found.message, found)))));
}

/** All findings for a run, most severe first. Pure: the same state always gives the same findings. */
export function analyzeRun(state: RunState): Finding[] {
  return analyzeWith(RULE_LIST, state);
}
