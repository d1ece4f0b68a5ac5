import { describe, expect, it } from 'vitest';
import { buildReport, exitCodeFor, reportSchema } from '../../src/shared/analysis/report';
import { parseRunnerEvent } from '../../src/shared/protocol/runner-protocol';
import { toWireJson } from '../../src/shared/protocol/wire-number';
import { renderTextReport } from '../../src/cli/text-report';
import { readStream, stateFrom } from '../helpers/events';

const meta = { toolVersion: '0.0.0-test', durationMs: 1234 };

describe('report from a recorded custom loop that drops its penalties', () => {
  const state = stateFrom(readStream('custom-loop-drops-penalty'), '/work/main/examples/custom-loop-drops-penalty.ts');
  state.status = 'step-limit';
  const report = buildReport(state, meta);

  it('validates against the published schema after a JSON round trip', () => {
    const parsed = reportSchema.safeParse(JSON.parse(toWireJson(report)));
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3))).toBe(true);
  });

  it('says that no penalty reaches the loss, and that SGD decays nothing', () => {
    const penalties = report.terms.filter((t) => t.collection === 'regularization');
    expect(penalties).toHaveLength(3);
    expect(penalties.every((t) => !t.reachesMinimizedLoss && !t.evaluated && t.value !== null && t.value > 0)).toBe(true);
    const kernels = report.layers.flatMap((l) => l.weights.filter((w) => w.regularizer));
    expect(kernels.map((w) => w.decayPerStep)).toEqual([1, 1, 1]);
    expect(report.lossSplit.first?.regularizationLoss).toBe(0);
    expect(report.curves.dataLoss).toEqual(report.curves.totalLoss);
    expect(report.findings.filter((f) => f.ruleId === 'regularizer-not-in-loss')).toHaveLength(3);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('prints findings as file:line:col  severity  message  rule-id', () => {
    const text = renderTextReport(report, '/work/main');
    expect(text).toMatch(/^ {2}examples\/custom-loop-drops-penalty\.ts:20:21 {2}error {2}L2 1e-3 on dense_Dense1\/kernel never reaches .* {2}regularizer-not-in-loss$/m);
    expect(text).toContain('dense_Dense1  Dense  examples/custom-loop-drops-penalty.ts:20:21');
    expect(text).toMatch(/3 errors, 0 warnings, 0 info/);
  });
});

describe('report from a recorded loop that adds its penalties', () => {
  const state = stateFrom(readStream('custom-loop-with-penalty'));
  state.status = 'step-limit';
  const report = buildReport(state, meta);
  it('splits the loss into data and regularization that add up to the total', () => {
    for (let i = 0; i < report.curves.step.length; i++) {
      expect(report.curves.dataLoss[i] + report.curves.regularizationLoss[i]).toBeCloseTo(report.curves.totalLoss[i], 5);
    }
    expect(report.lossSplit.first!.regularizationLoss).toBeGreaterThan(0);
    expect(report.terms.filter((t) => t.collection === 'regularization').every((t) => t.reachesMinimizedLoss)).toBe(true);
    for (const w of report.layers.flatMap((l) => l.weights.filter((x) => x.regularizer))) {
      expect(w.decayPerStep).toBeCloseTo(1 - 2 * 0.1 * 1e-3, 10);
    }
    expect(report.findings).toEqual([]);
    expect(exitCodeFor(report)).toBe(0);
  });
  it('tracks a weight norm per trainable weight per step', () => {
    expect(Object.keys(report.curves.weightNorms).sort()).toEqual(
      report.layers.flatMap((l) => l.weights.map((w) => w.name)).sort(),
    );
    for (const col of Object.values(report.curves.weightNorms)) expect(col).toHaveLength(report.curves.step.length);
  });
});

describe('exit codes', () => {
  it('is 2 for a failed run whatever the findings say', () => {
    const state = stateFrom([]);
    state.buildErrors = [{ message: 'Unexpected ";"', source: { file: '/ws/a.ts', line: 2, column: 29 } }];
    state.status = 'failed';
    const report = buildReport(state, meta);
    expect(report.error).toMatchObject({ phase: 'build', name: 'BuildError', source: { line: 2 } });
    expect(exitCodeFor(report)).toBe(2);
  });
  it('keeps a graph event valid on the wire, NaN included', () => {
    const events = readStream('fit-cnn-with-decay');
    for (const e of events) expect(parseRunnerEvent(toWireJson(e)).ok).toBe(true);
  });
});

describe('the text report shows hostile names as escapes', () => {
  it('an ESC in a layer name and a bidi override in a path never reach the terminal raw', () => {
    const state = stateFrom(readStream('custom-loop-drops-penalty'), '/ws/evil\u202eexa.ts');
    state.status = 'step-limit';
    state.layers[0].name = 'dense\u001b[2J';
    state.layers[0].source = { file: '/ws/evil\u202eexa.ts', line: 24, column: 11 };
    const text = renderTextReport(buildReport(state, meta), '/ws');
    expect(text).not.toMatch(/[\u001b\u202e]/);
    expect(text).toContain('dense\\x1b[2J');
    expect(text).toContain('evil\\u202eexa.ts:24:11');
  });
});
