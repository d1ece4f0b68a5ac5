// The whole terminal report, its sections in the order they print; the rows are built here, each weight's cells in
// weight-cells.ts.
import type { Report } from '../shared/analysis/report';
import { describePieces } from '../shared/analysis/decay';
import { RULES } from '../shared/analysis/rules/registry';
import { helpFor } from '../shared/analysis/rules/rule';
import { displaySafe, formatCoefficient, formatNumber, formatPercent } from '../shared/format';
import {
  decoupledText,
  displayPath,
  fmtFactor,
  foldDecoupled,
  measuredText,
  onUntrainedOnly,
  reachesText,
  relativeSource,
  untrainedWeights,
  weightDecayText,
  type Style,
} from './weight-cells';

export { displayPath, relativeSource, type Style } from './weight-cells';

const plain: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, yellow: (s) => s, green: (s) => s, cyan: (s) => s };

export function ansiStyle(): Style {
  const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), cyan: wrap(36, 39) };
}

const ANSI = /\x1b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, '').length;
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - visible(s)));

function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(c))));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]))).join('  ').trimEnd());
}

interface LayerRow {
  name: string;
  className: string;
  source: string;
  decay: string;
  reaches: string;
  decayPerStep: string;
  /** The decay measured under the weight's own optimizer: "kernel 1.3e-3 (SGD 1e-6)". */
  measured: string;
  /** Rows that say the same thing are folded into one ("dense_1 … dense_998, 998 layers"). */
  key: string;
}

function layerRows(report: Report, cwd: string, st: Style): LayerRow[] {
  const terms = new Map(report.terms.map((t) => [t.id, t]));
  const untrained = untrainedWeights(report);
  return report.layers.map((l) => {
    const decayTexts = l.weights.flatMap((w) => weightDecayText(w, terms, w.shortName));
    const decoupled = foldDecoupled(l.weights.flatMap((w) => decoupledText(w, w.shortName, cwd, report.script)));
    decayTexts.push(...decoupled);
    const decay = decayTexts.length ? [...new Set(decayTexts)].join(', ') : l.weights.length ? st.dim('no decay') : st.dim('no weights');
    const ids = [...new Set(l.weights.flatMap((w) => w.penalties))].filter((id) => terms.get(id)?.kind !== 'activity-penalty');
    let reaches = reachesText(ids.map((id) => terms.get(id)), st, untrained);
    if (l.activityRegularizer) reaches = reaches ? `${reaches}, ${st.red('activity: NO')}` : st.red('activity: NO');
    const factors = l.weights.filter((w) => w.decayPerStep !== undefined).map((w) => `${w.shortName} ×${fmtFactor(w.decayPerStep!)}`);
    const measured = l.weights.map((w) => [w.shortName, measuredText(report, w, terms, st)]).filter(([, m]) => m).map(([n, m]) => `${n} ${m}`);
    const source = relativeSource(l.source, cwd);
    const cells = l.weights.filter((w) => w.heldBy).map((w) => w.heldBy!.path);
    return {
      name: l.name,
      className: cells.length ? `${l.className} (weights on ${[...new Set(cells)].join(', ')})` : l.className,
      source,
      decay,
      reaches,
      decayPerStep: factors.join(', '),
      measured: measured.join(', '),
      // Measured values differ layer by layer: rows fold only when they say the same.
      key: [l.className, source, decay, reaches, factors.join(), measured.join()].join('|'),
    };
  });
}

function variableRows(report: Report, cwd: string, st: Style): string[][] {
  const terms = new Map(report.terms.map((t) => [t.id, t]));
  const untrained = untrainedWeights(report);
  return report.variables.map((v) => {
    const decay = [...weightDecayText(v, terms, 'it'), ...decoupledText(v, 'it', cwd, report.script)].map((d) => d.replace(/ on it$/, ''));
    return [
      v.name,
      v.shape.length ? v.shape.join('×') : 'scalar',
      relativeSource(v.source, cwd),
      decay.length ? decay.join(', ') : st.dim('no decay'),
      reachesText(v.penalties.map((id) => terms.get(id)), st, untrained),
      v.decayPerStep === undefined ? '' : `×${fmtFactor(v.decayPerStep)}`,
      measuredText(report, v, terms, st),
    ];
  });
}

/** The layer table's column of what each decay really removes per step, under the weight's own optimizer. */
const MEASURED_HEADER = 'shrink/step (measured)';

/** Layers that read the same (same class, line, decay and verdict) are one row: a 1,000-layer model stays readable. */
function foldRows(rows: LayerRow[]): LayerRow[] {
  const groups = new Map<string, LayerRow[]>();
  for (const r of rows) {
    const g = groups.get(r.key);
    if (g) g.push(r);
    else groups.set(r.key, [r]);
  }
  return [...groups.values()].map((g) =>
    g.length < 3 ? g : [{ ...g[0], name: `${g[0].name}, ${g[1].name}, … (${g.length} layers)` }],
  ).flat();
}

function share(part: number, whole: number): string {
  return part === 0 ? '' : formatPercent(part, whole);
}

const withShare = (part: number, whole: number) => {
  const s = share(part, whole);
  return s ? `${formatNumber(part)} (${s})` : formatNumber(part);
};

/**
 * Every string of the report with control and bidi characters made visible, newlines included: each line of
 * the text report is one of ours, so nothing the script names (a variable called "w\n  fake.js:1:1  error …")
 * can print a line that passes for a finding.
 */
function displaySafeReport(report: Report): Report {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return displaySafe(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [displaySafe(k), walk(v)]));
    return value;
  };
  return walk(report) as Report;
}

/** A multi-line error message (a tfjs shape error) as lines: ours to break, each one made safe on its own. */
const messageLines = (message: string) => message.split(/\r?\n/).map((line) => displaySafe(line));

type Section = (report: Report, cwd: string, st: Style) => string[];

/** The title, the run's facts (steps, how it ended, backend, optimizers), and the what-if notice. */
const headerSection: Section = (report, cwd, st) => {
  const statusText: Record<Report['status'], string> = {
    completed: 'the script ran to its end',
    'step-limit': `stopped after the step limit`,
    timeout: 'stopped by the timeout',
    cancelled: 'cancelled',
    failed: st.red('the run failed'),
  };
  const facts = [`${report.steps} optimizer step${report.steps === 1 ? '' : 's'}, ${statusText[report.status]}`];
  if (report.framework !== 'tfjs') {
    // A Python run's backend is TensorFlow itself: its version, not a tfjs build's.
    facts.push(`TensorFlow / Keras in Python${report.backend ? ` (tensorflow ${report.backend.tfjsVersion})` : ''}`);
  } else if (report.backend) {
    facts.push(`backend ${report.backend.name} (tfjs ${report.backend.tfjsVersion}, ${report.backend.tfjsSource === 'user' ? "the workspace's" : 'bundled'})`);
  }
  if (report.optimizers.length > 1) {
    facts.push(`optimizers ${report.optimizers.map((o) => `${describeOptimizer(o)} (${o.weights.length} weight${o.weights.length === 1 ? '' : 's'})`).join(', ')}`);
  } else if (report.optimizer) {
    facts.push(`optimizer ${describeOptimizer(report.optimizer)}`);
  }
  const out = [st.bold(`Loss Lens · ${displayPath(report.script, cwd)}`), st.dim(facts.join(' · '))];
  if (report.weightDecay === 'decoupled') {
    out.push(st.yellow('What-if: decoupled weight decay. L1/L2 penalties were taken out of the minimized loss; after each update every L2-penalized weight was multiplied by 1 − lr·2·l2.'));
  }
  return out;
};

/** A user's subclass by its own name (`AdamW (Adam)`), with the decay settings it holds next to its config. */
function describeOptimizer(o: NonNullable<Report['optimizer']>): string {
  const settings = Object.entries({ ...o.config, ...(o.decaySettings ?? {}) });
  const params = settings
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k === 'learningRate' ? 'lr' : k}=${formatCoefficient(v as number)}`);
  return `${o.jsClass ? `${o.jsClass} (${o.className})` : o.className}${params.length ? ` ${params.join(' ')}` : ''}`;
}

const ERROR_LABELS: Record<string, string> = {
  BuildError: 'could not build the script',
  FileNotFound: 'no such script',
  NotATfjsScript: 'not a TensorFlow.js script',
  BackendUnavailable: 'the requested backend is not available',
};

/**
 * The failure, where it happened, and the raw message's own line breaks, each line escaped and indented under the
 * ✗ line (it quotes the script). Takes the unescaped report: its message is split before each line is made safe.
 */
function errorSection(unsafeReport: Report, report: Report, cwd: string, st: Style): string[] {
  if (!report.error) return [];
  const where = relativeSource(report.error.source, cwd);
  const label = ERROR_LABELS[report.error.name] ?? 'the script failed';
  return [
    '',
    st.red(st.bold(`✗ ${label}`)) + (where ? ` at ${where}` : ''),
    ...messageLines(unsafeReport.error!.message).map((line) => `  ${st.dim('│')} ${line}`),
  ];
}

const layersSection: Section = (report, cwd, st) => {
  if (!report.layers.length) return [];
  const rows = foldRows(layerRows(report, cwd, st));
  const hasFactors = rows.some((r) => r.decayPerStep);
  const hasMeasured = rows.some((r) => r.measured);
  const header = ['layer', 'class', 'created at', 'decay', 'reaches loss', ...(hasFactors ? ['decay/step (SGD)'] : []), ...(hasMeasured ? [MEASURED_HEADER] : [])];
  return [
    '',
    st.bold('Layers'),
    ...table([
      header.map((h) => st.dim(h)),
      ...rows.map((r) => [r.name, r.className, r.source, r.decay, r.reaches, ...(hasFactors ? [r.decayPerStep] : []), ...(hasMeasured ? [r.measured] : [])]),
    ]),
  ];
};

const variablesSection: Section = (report, cwd, st) => {
  if (!report.variables.length) return [];
  const rows = variableRows(report, cwd, st);
  const keep = [0, 1, 2, 3, 4, ...(rows.some((r) => r[5]) ? [5] : []), ...(rows.some((r) => r[6]) ? [6] : [])];
  const header = ['variable', 'shape', 'created at', 'decay', 'reaches loss', 'decay/step (SGD)', MEASURED_HEADER].map((h) => st.dim(h));
  return ['', st.bold('Variables') + st.dim('  (tf.variable, no layer)'), ...table([header, ...rows].map((r) => keep.map((i) => r[i])))];
};

const handWrittenSection: Section = (report, cwd, st) => {
  const handWritten = report.terms.filter((t) => t.kind === 'hand-written');
  if (!handWritten.length) return [];
  const header = ['term', 'built at', 'penalty', 'reaches loss'].map((h) => st.dim(h));
  const rows = handWritten.map((t) => {
    const byForm = new Map<string, string[]>();
    for (const p of t.pieces) byForm.set(describePieces([p]), [...(byForm.get(describePieces([p])) ?? []), p.weight]);
    const what = [...byForm].map(([form, ws]) => `${form} on ${ws.length > 3 ? `${ws.slice(0, 3).join(', ')} +${ws.length - 3}` : ws.join(', ')}`).join(', ');
    const at = relativeSource(t.source, cwd);
    return [t.id, t.source?.name ? `${at} (${t.source.name})` : at, what, reachesText([t], st)];
  });
  return ['', st.bold('Hand-written penalties'), ...table([header, ...rows])];
};

/** The first and last step's total, data and regularization loss, and what the penalties left out would add. */
const lossSplitSection: Section = (report, _cwd, st) => {
  const { first, last } = report.lossSplit;
  if (!first || !last) return [];
  const rows = [
    ['', st.dim(`step ${first.step}`), st.dim(`step ${last.step}`)],
    ['total', formatNumber(first.totalLoss), formatNumber(last.totalLoss)],
    ['data', formatNumber(first.dataLoss), formatNumber(last.dataLoss)],
    ['regularization', withShare(first.regularizationLoss, first.totalLoss), withShare(last.regularizationLoss, last.totalLoss)],
  ];
  const out = ['', st.bold('Loss split') + st.dim('  (what the optimizer minimized)'), ...table(rows)];
  const untrained = untrainedWeights(report);
  const missing = report.terms.filter(
    (t) => t.collection === 'regularization' && !t.reachesMinimizedLoss && t.value !== null && !onUntrainedOnly(t, untrained),
  );
  if (missing.length) {
    const sum = missing.reduce((s, t) => s + (t.value ?? 0), 0);
    const part = share(sum, first.totalLoss + sum);
    out.push(st.yellow(`  left out of the loss: penalties worth ${formatNumber(sum)} at step ${first.step}` + (part ? ` (${part} of what the loss would be with them)` : '')));
  }
  return out;
};

/** No findings: say what was clean (every penalty reaches the loss, a decoupled decay), or that there was nothing to check. */
function cleanLine(report: Report, st: Style): string {
  const penalties = report.terms.filter((t) => t.collection === 'regularization').length;
  const decoupled = [...report.layers.flatMap((l) => l.weights), ...report.variables].filter((w) => w.decay).length;
  const decayed = decoupled ? `decoupled decay on ${decoupled} weight${decoupled === 1 ? '' : 's'}` : '';
  if (penalties) return st.green(`  none: every penalty reaches the minimized loss${decayed ? `; ${decayed}` : ''}.`);
  return st.green(decayed ? `  none: no penalty terms; ${decayed}.` : '  none: no regularization terms.');
}

/** Every finding (position and severity line up; the message runs on, with the rule id last, as linters print it), then why each rule matters. */
const findingsSection: Section = (report, cwd, st) => {
  const out = ['', st.bold('Findings')];
  if (report.findings.length === 0) out.push(cleanLine(report, st));
  else {
    const script = displayPath(report.script, cwd);
    const rows = report.findings.map((f) => {
      const sev = f.severity === 'error' ? st.red('error') : f.severity === 'warning' ? st.yellow('warning') : st.cyan('info');
      return [relativeSource(f.source, cwd) || script, sev, `${f.message}  ${st.dim(f.ruleId)}`];
    });
    out.push(...table(rows));
  }
  const rules = [...new Set(report.findings.map((f) => f.ruleId))];
  if (rules.length) out.push('', st.bold('Why it matters'), ...rules.map((id) => `  ${st.dim(id)}: ${helpFor(RULES[id], report.framework)}`));
  return out;
};

/** "1 error, 2 warnings, 0 info". */
function countsLine(report: Report): string {
  const count = (s: string) => report.findings.filter((f) => f.severity === s).length;
  const e = count('error');
  const w = count('warning');
  const i = count('info');
  return `${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}, ${i} info`;
}

export function renderTextReport(unsafeReport: Report, cwd: string, st: Style = plain): string {
  // Names, paths and messages come from the user's script: none of them may reach the terminal raw.
  const report = displaySafeReport(unsafeReport);
  const out = [
    ...headerSection(report, cwd, st),
    ...errorSection(unsafeReport, report, cwd, st),
    ...[layersSection, variablesSection, handWrittenSection, lossSplitSection, findingsSection].flatMap((section) => section(report, cwd, st)),
    '',
    countsLine(report),
  ];
  return out.join('\n') + '\n';
}
