// A run whose runner messages were partly rejected must not read as clean: the pure path from a rejected message
// (the real parser's error) to the notice, the finding, the exit status under --fail-on warning, and SARIF.
import { describe, expect, it } from 'vitest';
import { renderSarif } from '../../src/cli/sarif-report';
import { renderTextReport } from '../../src/cli/text-report';
import { RULES } from '../../src/shared/analysis/rules/registry';
import { buildReport, exitCodeFor } from '../../src/shared/analysis/report';
import { analyzeRun } from '../../src/shared/analysis/rules';
import { recordProtocolError, runState } from '../../src/shared/model/run-state';
import { parseRunnerEvent } from '../../src/shared/protocol/runner-protocol';
import { readStream, stateFrom } from '../helpers/events';
import { sarifValidator } from '../helpers/sarif-schema';

const meta = { toolVersion: '0.0.0-test', durationMs: 1 };

/** A clean recorded run, with the given lines also arriving and failing validation as the engine checks them. */
function runWithRejected(lines: string[]) {
  const state = stateFrom(readStream('custom-loop-with-penalty'), '/ws/examples/custom-loop-with-penalty.ts');
  for (const line of lines) {
    const parsed = parseRunnerEvent(line);
    if (parsed.ok) throw new Error(`expected a rejected message: ${line}`);
    recordProtocolError(state, parsed.error);
  }
  state.status = 'step-limit';
  return state;
}

describe('incomplete-report', () => {
  it('is a warning rule with a summary and help, listed in SARIF like every rule', () => {
    expect(RULES['incomplete-report'].severity).toBe('warning');
    const sarif = JSON.parse(renderSarif(buildReport(runWithRejected([]), meta), '/ws'));
    expect(sarif.runs[0].tool.driver.rules.find((r: { id: string }) => r.id === 'incomplete-report')).toMatchObject({
      name: 'IncompleteReport',
      defaultConfiguration: { level: 'warning' },
    });
  });

  it('a clean run stays clean: no finding, no notice', () => {
    const state = runWithRejected([]);
    expect(analyzeRun(state)).toEqual([]);
    expect(buildReport(state, meta).notices.some((n) => n.startsWith('The report is incomplete'))).toBe(false);
  });

  it('one rejected message: a notice and a warning finding that quote its error, and --fail-on warning has something to fail on', () => {
    const state = runWithRejected(['{"type":"layers","layers":[{"name":42}]}']);
    expect(state.protocolErrors).toBe(1);
    const report = buildReport(state, meta);
    const notice = report.notices.find((n) => n.startsWith('The report is incomplete'));
    expect(notice).toMatch(/^The report is incomplete: 1 runner message failed validation and was left out \(the error: layers\.0\.name: .+\)\.$/);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ ruleId: 'incomplete-report', severity: 'warning', source: null, layer: null, weight: null });
    expect(report.findings[0].message).toContain(notice!.slice(0, -1));
    expect(report.findings[0].message).toContain('What it carried is missing from this report');
    // Not an error: exit 0 unless --fail-on warning (which the CLI test runs).
    expect(exitCodeFor(report)).toBe(0);
    expect(renderTextReport(report, '/ws')).toMatch(/^ {2}examples\/custom-loop-with-penalty\.ts {2}warning {2}The report is incomplete: .* {2}incomplete-report$/m);
    const sarif = JSON.parse(renderSarif(report, '/ws'));
    expect(sarifValidator()(sarif)).toEqual([]);
    expect(sarif.runs[0].results).toMatchObject([{ ruleId: 'incomplete-report', level: 'warning' }]);
  });

  it('many: one notice whose count follows, the first error kept, a long error cut', () => {
    // Six layers with no field right: five issues quoted and a count of the rest, far over the notice's share.
    const long = '{"type":"layers","layers":[{},{},{},{},{},{}]}';
    const state = runWithRejected(['not json at all', long, '{"type":"no-such-event"}']);
    expect(state.protocolErrors).toBe(3);
    expect(state.firstProtocolError).toMatch(/^not JSON: not json at all/);
    const notices = state.notices.filter((n) => n.startsWith('The report is incomplete'));
    expect(notices).toEqual(['The report is incomplete: 3 runner messages failed validation and were left out (the first: not JSON: not json at all).']);
    expect(analyzeRun(state)[0].message).toContain('What they carried is missing');
    const cut = runWithRejected([long]);
    expect(cut.notices.at(-1)!.length).toBeLessThan(320);
    expect(cut.notices.at(-1)).toMatch(/…\)\.$/);
  });

  it('an archived state from before the field still loads (the first error defaults to null)', () => {
    const state = runWithRejected([]) as Record<string, unknown>;
    delete state.firstProtocolError;
    expect(runState.parse(state).firstProtocolError).toBeNull();
  });
});
