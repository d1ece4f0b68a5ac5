import * as path from 'node:path';
import type { Report } from '../shared/analysis/report';
import { describeRegularizer } from '../shared/analysis/decay';
import { RULES } from '../shared/analysis/finding';
import { displaySafe, formatCoefficient, formatFactor, formatNumber, formatPercent } from '../shared/format';
import type { SourcePosition } from '../shared/protocol/run-data';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

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

export function relativeSource(src: SourcePosition | null, cwd: string): string {
  if (!src) return '';
  const rel = path.relative(cwd, src.file);
  return `${rel.startsWith('..') ? src.file : rel}:${src.line}:${src.column}`;
}

interface LayerRow {
  name: string;
  className: string;
  source: string;
  decay: string;
  reaches: string;
  decayPerStep: string;
  /** Rows that say the same thing are folded into one ("dense_1 … dense_998, 998 layers"). */
  key: string;
}

function layerRows(report: Report, cwd: string, st: Style): LayerRow[] {
  const terms = new Map(report.terms.map((t) => [t.id, t]));
  return report.layers.map((l) => {
    const decayed = l.weights.filter((w) => w.regularizer);
    const decay = decayed.length
      ? decayed.map((w) => `${describeRegularizer(w.regularizer!)} on ${w.shortName}`).join(', ')
      : l.weights.length
        ? st.dim('no decay')
        : st.dim('no weights');
    const verdicts = decayed.map((w) => terms.get(`penalty:${w.name}`));
    let reaches = '';
    if (verdicts.length) {
      if (verdicts.every((t) => t?.reachesMinimizedLoss)) reaches = st.green('yes');
      else if (verdicts.every((t) => t && t.stepsInLoss === 0 && t.stepsObserved > 0)) reaches = st.red('NO');
      else if (verdicts.some((t) => t && t.stepsInLoss > 0)) reaches = st.yellow('partly');
      else reaches = st.dim('not trained');
    }
    if (l.activityRegularizer) reaches = reaches ? `${reaches}, ${st.red('activity: NO')}` : st.red('activity: NO');
    const factors = l.weights.filter((w) => w.decayPerStep !== undefined).map((w) => `${w.shortName} ×${fmtFactor(w.decayPerStep!)}`);
    const source = relativeSource(l.source, cwd);
    return {
      name: l.name,
      className: l.className,
      source,
      decay,
      reaches,
      decayPerStep: factors.join(', '),
      key: [l.className, source, decay, reaches, factors.join()].join('|'),
    };
  });
}

function fmtFactor(x: number): string {
  return x === 1 ? '1 (none)' : formatFactor(x);
}

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

/** Every string of the report, with control and bidi characters made visible (only the error text keeps its lines). */
function displaySafeReport(report: Report): Report {
  const walk = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') return displaySafe(value, { keepNewlines: key === 'message' || key === 'stack' });
    if (Array.isArray(value)) return value.map((v) => walk(v, key));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [displaySafe(k), walk(v, k)]));
    }
    return value;
  };
  return walk(report, '') as Report;
}

export function renderTextReport(unsafeReport: Report, cwd: string, st: Style = plain): string {
  // Names, paths and messages come from the user's script: none of them may reach the terminal raw.
  const report = displaySafeReport(unsafeReport);
  const out: string[] = [];
  const script = path.relative(cwd, report.script) || report.script;
  out.push(st.bold(`Loss Lens · ${script}`));
  const statusText: Record<Report['status'], string> = {
    completed: 'the script ran to its end',
    'step-limit': `stopped after the step limit`,
    timeout: 'stopped by the timeout',
    cancelled: 'cancelled',
    failed: st.red('the run failed'),
  };
  const facts = [`${report.steps} optimizer step${report.steps === 1 ? '' : 's'}, ${statusText[report.status]}`];
  if (report.backend) {
    facts.push(`backend ${report.backend.name} (tfjs ${report.backend.tfjsVersion}, ${report.backend.tfjsSource === 'user' ? "the workspace's" : 'bundled'})`);
  }
  if (report.optimizer) {
    const c = report.optimizer.config;
    const params = Object.entries(c)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => `${k === 'learningRate' ? 'lr' : k}=${formatCoefficient(v as number)}`);
    facts.push(`optimizer ${report.optimizer.className}${params.length ? ` ${params.join(' ')}` : ''}`);
  }
  out.push(st.dim(facts.join(' · ')));

  if (report.error) {
    const where = relativeSource(report.error.source, cwd);
    const labels: Record<string, string> = {
      BuildError: 'could not build the script',
      FileNotFound: 'no such script',
      NotATfjsScript: 'not a TensorFlow.js script',
      BackendUnavailable: 'the requested backend is not available',
    };
    const label = labels[report.error.name] ?? 'the script failed';
    out.push('', st.red(st.bold(`✗ ${label}`)) + (where ? ` at ${where}` : ''));
    for (const line of report.error.message.split('\n')) out.push(`  ${line}`);
  }

  if (report.layers.length) {
    out.push('', st.bold('Layers'));
    const rows = foldRows(layerRows(report, cwd, st));
    const header = ['layer', 'class', 'created at', 'decay', 'reaches loss', 'decay/step (SGD)'].map((h) => st.dim(h));
    const hasFactors = rows.some((r) => r.decayPerStep);
    out.push(
      ...table([
        hasFactors ? header : header.slice(0, 5),
        ...rows.map((r) => {
          const cells = [r.name, r.className, r.source, r.decay, r.reaches];
          return hasFactors ? [...cells, r.decayPerStep] : cells;
        }),
      ]),
    );
  }

  const { first, last } = report.lossSplit;
  if (first && last) {
    out.push('', st.bold('Loss split') + st.dim('  (what the optimizer minimized)'));
    const rows = [
      ['', st.dim(`step ${first.step}`), st.dim(`step ${last.step}`)],
      ['total', formatNumber(first.totalLoss), formatNumber(last.totalLoss)],
      ['data', formatNumber(first.dataLoss), formatNumber(last.dataLoss)],
      [
        'regularization',
        withShare(first.regularizationLoss, first.totalLoss),
        withShare(last.regularizationLoss, last.totalLoss),
      ],
    ];
    out.push(...table(rows));
    const missing = report.terms.filter((t) => t.collection === 'regularization' && !t.reachesMinimizedLoss && t.value !== null);
    if (missing.length) {
      const sum = missing.reduce((s, t) => s + (t.value ?? 0), 0);
      const part = share(sum, first.totalLoss + sum);
      out.push(
        st.yellow(
          `  left out of the loss: penalties worth ${formatNumber(sum)} at step ${first.step}` +
            (part ? ` (${part} of what the loss would be with them)` : ''),
        ),
      );
    }
  }

  out.push('', st.bold('Findings'));
  if (report.findings.length === 0) {
    out.push(st.green('  none: every penalty reaches the minimized loss.'));
  } else {
    // Position and severity line up; the message runs on, with the rule id last, as linters print it.
    const rows = report.findings.map((f) => {
      const sev = f.severity === 'error' ? st.red('error') : f.severity === 'warning' ? st.yellow('warning') : st.cyan('info');
      return [relativeSource(f.source, cwd) || script, sev, `${f.message}  ${st.dim(f.ruleId)}`];
    });
    out.push(...table(rows));
  }
  const rules = [...new Set(report.findings.map((f) => f.ruleId))];
  if (rules.length) {
    out.push('', st.bold('Why it matters'));
    for (const id of rules) out.push(`  ${st.dim(id)}: ${RULES[id].help}`);
  }
  const count = (s: string) => report.findings.filter((f) => f.severity === s).length;
  const e = count('error');
  const w = count('warning');
  const i = count('info');
  out.push('', `${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}, ${i} info`);
  return out.join('\n') + '\n';
}
