// Every rule Loss Lens knows, one file each. Adding a rule: write rules/<rule-id>.ts with defineRule, add it to
// RULE_LIST below, and run `npm run docs:rules` to regenerate the README's table (SARIF reads the list at run time).
import { activityRegularizerUnsupported } from './activity-regularizer-unsupported';
import { decayOnBiasOrNorm } from './decay-on-bias-or-norm';
import { decayTooStrongForEpoch } from './decay-too-strong-for-epoch';
import { decayTooWeakForRun } from './decay-too-weak-for-run';
import { incompleteReport } from './incomplete-report';
import { invalidRegularizer } from './invalid-regularizer';
import { l2WithAdaptiveOptimizer } from './l2-with-adaptive-optimizer';
import { noDecay } from './no-decay';
import { noTrainingStep } from './no-training-step';
import { nonFiniteLoss } from './non-finite-loss';
import { optimizerDecayInactive } from './optimizer-decay-inactive';
import { regularizationDominatesLoss } from './regularization-dominates-loss';
import { regularizerIntermittent } from './regularizer-intermittent';
import { regularizerNotInLoss } from './regularizer-not-in-loss';
import type { Rule } from './rule';
import type { RuleId } from './rule-ids';
import type { Finding } from '../finding';
import { scriptError } from './script-error';
import { unevenEffectiveDecay } from './uneven-effective-decay';

/**
 * The rules in the order the README's table and SARIF's `tool.driver.rules` list them (a SARIF result's
 * `ruleIndex` points into it, so appending keeps old indices). analyzeRun runs them in this order too; which
 * order does not change its findings, as it sorts them by severity, position and rule id.
 */
export const RULE_LIST = [
  regularizerNotInLoss,
  regularizerIntermittent,
  activityRegularizerUnsupported,
  invalidRegularizer,
  noDecay,
  decayOnBiasOrNorm,
  l2WithAdaptiveOptimizer,
  unevenEffectiveDecay,
  optimizerDecayInactive,
  decayTooWeakForRun,
  decayTooStrongForEpoch,
  regularizationDominatesLoss,
  nonFiniteLoss,
  noTrainingStep,
  scriptError,
  incompleteReport,
  // A rule whose id is not in rule-ids.ts fails to compile here.
] as const satisfies readonly Rule<RuleId>[];

export type AnyRule = (typeof RULE_LIST)[number];
export type { RuleId } from './rule-ids';
export { RULE_IDS } from './rule-ids';

/** Each rule by its id. */
export const RULES = Object.fromEntries(RULE_LIST.map((r) => [r.id, r])) as { readonly [Id in RuleId]: Rule<Id> };

/** A finding of rule `id`, at its default severity unless `where` says otherwise. */
export function makeFinding(
  id: RuleId,
  message: string,
  where: Partial<Pick<Finding, 'layer' | 'weight' | 'step' | 'source' | 'termId' | 'related' | 'severity' | 'addToLoss'>> = {},
): Finding {
  return {
    ruleId: id,
    severity: where.severity ?? RULES[id].severity,
    message,
    layer: where.layer ?? null,
    weight: where.weight ?? null,
    step: where.step ?? null,
    source: where.source ?? null,
    termId: where.termId ?? null,
    related: where.related ?? [],
    addToLoss: where.addToLoss ?? null,
  };
}
