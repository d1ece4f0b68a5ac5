// The rule ids alone, in the registry's order: what a finding's schema needs, without the rules' checks (so the
// finding schema, and the webview that parses findings, import no rule code, and finding.ts and the rules do not
// import each other). rule-registry.test.ts checks that the registry lists exactly these, in this order.
export const RULE_IDS = [
  'regularizer-not-in-loss',
  'regularizer-intermittent',
  'activity-regularizer-unsupported',
  'invalid-regularizer',
  'no-decay',
  'decay-on-bias-or-norm',
  'l2-with-adaptive-optimizer',
  'uneven-effective-decay',
  'optimizer-decay-inactive',
  'decay-too-weak-for-run',
  'decay-too-strong-for-epoch',
  'regularization-dominates-loss',
  'non-finite-loss',
  'no-training-step',
  'script-error',
  'incomplete-report',
] as const;

export type RuleId = (typeof RULE_IDS)[number];
