// What a rule is: one file per rule (rules/<rule-id>.ts) holds all of it, and registry.ts lists them. Types only
// import what findings are made of, never the registry, so a rule file can be read (and type-checked) on its own.
import type { RunState } from '../../model/run-state';
import type { SourcePosition } from '../../protocol/run-data';
import type { RelatedItem, Severity } from '../finding';
import type { TermView, WeightView } from '../terms';

/** What every check reads: the run, and the term and weight views, built once for all rules. */
export interface RuleContext {
  state: RunState;
  terms: TermView[];
  weights: WeightView[];
  /**
   * True for a penalty only on weights no optimizer updates (a frozen target network): it decays nothing either
   * way, so no rule about decay speaks of it.
   */
  onUntrainedOnly: (t: TermView) => boolean;
}

/**
 * A finding as a check writes it: the message and what it is about. The registry adds the rule's id, and its
 * severity unless the check gives one (invalid-regularizer's negative coefficient is a warning).
 */
export interface Found {
  message: string;
  layer?: string | null;
  weight?: string | null;
  step?: number | null;
  source?: SourcePosition | null;
  termId?: string | null;
  related?: RelatedItem[];
  severity?: Severity;
  addToLoss?: string | null;
}

export interface Rule<Id extends string = string> {
  /** Stable: CI configs, SARIF alerts and the Problems panel key on it. */
  id: Id;
  /** The default severity (SARIF's defaultConfiguration.level). */
  severity: Severity;
  /** Severities a finding of the rule can have besides the default, for the docs' severity column. */
  otherSeverities?: readonly Severity[];
  /** SARIF's rule `name`: an identifier, the id in PascalCase. */
  name: string;
  /** One sentence: SARIF's shortDescription. */
  summary: string;
  /** Why it matters and what to do: SARIF's fullDescription and help, the report's "Why it matters". */
  help: string;
  /** The same for a Python run (Keras / TensorFlow), where the tfjs advice would mislead; help serves both when absent. */
  pythonHelp?: string;
  /** The README's "fires when" cell (Markdown, one line): when exactly the check reports. */
  firesWhen: string;
  /**
   * False for findings that each say something of their own even at one line (two build errors, the first
   * non-finite step): foldBySource keeps them apart. Default true.
   */
  foldsBySource?: boolean;
  /** The findings of this rule on a run; pure, in a stable order. */
  check: (ctx: RuleContext) => Found[];
}

/** A rule's help as a run of the given framework should read it. */
export const helpFor = (rule: Pick<Rule, 'help' | 'pythonHelp'>, framework: 'tfjs' | 'tensorflow'): string =>
  framework === 'tensorflow' ? (rule.pythonHelp ?? rule.help) : rule.help;

/** Keeps the id's literal type, so the registry's ids form the RuleId union. */
export const defineRule = <const Id extends string>(rule: Rule<Id>): Rule<Id> => rule;
