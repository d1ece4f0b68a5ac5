import { z } from '../protocol/zod';
import { sourcePosition } from '../protocol/run-data';
import { RULE_IDS, type RuleId } from './rules/rule-ids';

export const severity = z.enum(['error', 'warning', 'info']);
export type Severity = z.output<typeof severity>;

/** The rules themselves (id, severity, texts, check) are in rules/, one file each; the registry lists them. */
export type { RuleId } from './rules/rule-ids';
export const ruleId = z.enum(RULE_IDS);

/** One thing a finding is about: a finding folded from several (a helper's 900 layers) lists them all. */
export const relatedItem = z.object({ layer: z.string().nullable(), weight: z.string().nullable(), termId: z.string().nullable() });
export type RelatedItem = z.output<typeof relatedItem>;

export const finding = z.object({
  ruleId,
  severity,
  message: z.string(),
  layer: z.string().nullable(),
  weight: z.string().nullable(),
  step: z.number().int().nullable(),
  source: sourcePosition.nullable(),
  /** The term the finding is about, when there is one (lets a view select its node). */
  termId: z.string().nullable(),
  /** Everything the finding covers, when it covers more than one layer, weight or term. */
  related: z.array(relatedItem).default([]),
  /**
   * For `regularizer-not-in-loss`: the penalties to add to the minimized loss, as a JavaScript expression for a
   * list of scalars (`model.calculateLosses()`, `lstm.cell.calculateLosses()`); `$model` stands for the model.
   */
  addToLoss: z.string().nullable().default(null),
});
export type Finding = z.output<typeof finding>;

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      ORDER[a.severity] - ORDER[b.severity] ||
      (a.source?.file ?? '').localeCompare(b.source?.file ?? '') ||
      (a.source?.line ?? 0) - (b.source?.line ?? 0) ||
      a.ruleId.localeCompare(b.ruleId),
  );
}

/** The longest short text a CodeLens shows before it is cut: a lens is one line above the code, never wrapped. */
const SHORT_MAX = 100;

/**
 * A finding in a few words, for a CodeLens above its line: the message's first clause (up to the first ": " or
 * sentence end), cut to SHORT_MAX characters. The full message stays in Problems and the hover.
 */
export function shortText(f: Finding): string {
  const clause = f.message.split(/(?<=[^\s])(?::\s|\.\s|\.$)/)[0].trim();
  return clause.length <= SHORT_MAX ? clause : `${clause.slice(0, SHORT_MAX - 1).trimEnd()}…`;
}
