// The cells of the text report's layer and variable tables: each weight's decay, verdict and measured shrink, and the
// paths and styles every part of the report shares.
import * as path from 'node:path';
import type { Report } from '../shared/analysis/report';
import { describePieces, describeRegularizer } from '../shared/analysis/decay';
import { formatCoefficient, formatFactor, formatNumber } from '../shared/format';
import type { SourcePosition } from '../shared/protocol/run-data';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

/** A path as every part of the report shows it: relative to cwd when inside it, else absolute. */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

export function relativeSource(src: SourcePosition | null, cwd: string): string {
  if (!src) return '';
  return `${displayPath(src.file, cwd)}:${src.line}:${src.column}`;
}

export type ReportWeight = Report['layers'][number]['weights'][number];
export type ReportTerm = Report['terms'][number];

/** Each penalty on a weight, by its own regularizer: "L2 1e-3 on kernel", "hand-written L2 2e-3 on weights". */
export function weightDecayText(w: ReportWeight, terms: Map<string, ReportTerm>, label: string): string[] {
  return w.penalties
    .map((id) => terms.get(id))
    .filter((t): t is ReportTerm => t !== undefined && t.kind !== 'activity-penalty')
    .map((t) =>
      t.kind === 'hand-written'
        ? `hand-written ${describePieces(t.pieces.filter((p) => p.weight === w.name))} on ${label}`
        : `${t.regularizer ? describeRegularizer(t.regularizer) : 'penalty'} on ${label}`,
    );
}

/** A decay no penalty expresses, on one weight: "decoupled 1e-4/step (AdamW) on kernel". */
export function decoupledText(w: ReportWeight, label: string, cwd: string, script: string): string[] {
  const d = w.decay;
  if (!d) return [];
  // The analyzed script's own line needs no path; a helper file's does.
  const at = d.source ? (d.source.file === script ? `line ${d.source.line}` : relativeSource(d.source, cwd)) : null;
  const who = d.appliedBy === 'optimizer' ? (d.className ?? 'its optimizer') : d.appliedBy === 'what-if' ? 'what-if' : at ? `script, ${at}` : 'script';
  return [`decoupled ${formatCoefficient(d.shrinkPerStep)}/step (${who}) on ${label}`];
}

/** Weights the run shows no optimizer updates (a frozen target network): their penalties decay nothing either way. */
export function untrainedWeights(report: Report): Set<string> {
  if (report.optimizers.length === 0) return new Set();
  return new Set([...report.layers.flatMap((l) => l.weights), ...report.variables].filter((w) => w.optimizer === null).map((w) => w.name));
}

/** A penalty only on weights nothing trains. */
export function onUntrainedOnly(t: ReportTerm, untrained: Set<string>): boolean {
  const covered = new Set([...(t.weight ? [t.weight] : []), ...t.pieces.map((p) => p.weight)]);
  return covered.size > 0 && [...covered].every((w) => untrained.has(w));
}

export function reachesText(verdicts: Array<ReportTerm | undefined>, st: Style, untrained: Set<string> = new Set()): string {
  if (!verdicts.length) return '';
  if (verdicts.every((t) => t && onUntrainedOnly(t, untrained))) return st.dim('not trained');
  if (verdicts.every((t) => t?.reachesMinimizedLoss)) return st.green('yes');
  if (verdicts.every((t) => t && t.stepsInLoss === 0 && t.stepsObserved > 0)) return st.red('NO');
  if (verdicts.some((t) => t && t.stepsInLoss > 0)) return st.yellow('partly');
  return st.dim('not trained');
}

/** What plain SGD with the weight's L2 (as configured) would remove per step, 2·lr·Σl2; null without L2 or lr. */
export function sgdShrink(report: Report, w: ReportWeight, terms: Map<string, ReportTerm>): number | null {
  const opt = report.optimizers.find((o) => o.index === w.optimizer) ?? report.optimizer;
  const lr = opt?.config.learningRate;
  let l2 = 0;
  for (const id of w.penalties) for (const p of terms.get(id)?.pieces ?? []) if (p.weight === w.name && p.form === 'l2' && p.coefficient !== null) l2 += p.coefficient;
  return typeof lr === 'number' && l2 !== 0 && Number.isFinite(l2) ? 2 * lr * l2 : null;
}

/** "1.3e-3 (SGD 1e-6)", "n/a (why)", or '' for a weight without a measured or expected decay. */
export function measuredText(report: Report, w: ReportWeight, terms: Map<string, ReportTerm>, st: Style): string {
  if (w.effectiveDecayUnavailable) return st.dim(`n/a (${w.effectiveDecayUnavailable})`);
  if (w.effectiveDecay === undefined) return '';
  const sgd = report.weightDecay === 'decoupled' || w.decayPerStep !== undefined ? null : sgdShrink(report, w, terms);
  return `${formatNumber(w.effectiveDecay, 2)}${sgd === null ? '' : st.dim(` (SGD ${formatNumber(sgd, 2)})`)}`;
}

/** "decoupled 1e-4/step (AdamW) on kernel", "… on bias" → "decoupled 1e-4/step (AdamW) on kernel, bias". */
export function foldDecoupled(texts: string[]): string[] {
  const byHead = new Map<string, string[]>();
  for (const t of texts) {
    const at = t.lastIndexOf(' on ');
    byHead.set(t.slice(0, at), [...(byHead.get(t.slice(0, at)) ?? []), t.slice(at + 4)]);
  }
  return [...byHead].map(([head, names]) => `${head} on ${names.join(', ')}`);
}

export function fmtFactor(x: number): string {
  return x === 1 ? '1 (none)' : formatFactor(x);
}
