import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactLocation, renderSarif, rootUri } from '../../src/cli/sarif-report';
import { makeFinding, RULES } from '../../src/shared/analysis/finding';
import { buildReport } from '../../src/shared/analysis/report';
import { readStream, stateFrom } from '../helpers/events';
import { sarifValidator } from '../helpers/sarif-schema';

const validate = sarifValidator();

function reportOf(stream: string, script: string) {
  const state = stateFrom(readStream(stream), script);
  state.status = 'step-limit';
  return buildReport(state, { toolVersion: '1.2.3', durationMs: 1 });
}

describe('SARIF output', () => {
  it('is valid SARIF 2.1.0, lists every rule, and has one result per finding at its line and column', () => {
    const report = reportOf('custom-loop-drops-penalty', '/ws/examples/custom-loop-drops-penalty.ts');
    for (const f of report.findings) if (f.source) f.source.file = '/ws/examples/custom-loop-drops-penalty.ts';
    const sarif = JSON.parse(renderSarif(report, '/ws'));
    expect(validate(sarif)).toEqual([]);
    const run = sarif.runs[0];
    expect(run.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(Object.keys(RULES));
    const rule = run.tool.driver.rules.find((r: { id: string }) => r.id === 'regularizer-not-in-loss');
    expect(rule).toMatchObject({ defaultConfiguration: { level: 'error' }, shortDescription: { text: RULES['regularizer-not-in-loss'].summary } });
    expect(run.results).toHaveLength(report.findings.length);
    const first = run.results[0];
    expect(first).toMatchObject({
      ruleId: 'regularizer-not-in-loss',
      level: 'error',
      locations: [{ physicalLocation: { artifactLocation: { uri: 'examples/custom-loop-drops-penalty.ts', uriBaseId: '%SRCROOT%' }, region: { startLine: 20, startColumn: 21 } } }],
    });
    expect(run.results[first.ruleIndex] && run.tool.driver.rules[first.ruleIndex].id).toBe(first.ruleId);
    expect(run.originalUriBaseIds['%SRCROOT%'].uri).toBe('file:///ws/');
    expect(run.invocations[0].executionSuccessful).toBe(true);
  });

  it('maps info to note, warnings to warning, and a finding without a position to the script', () => {
    const report = reportOf('fit-cnn-with-decay', '/ws/train.ts');
    report.findings.push(makeFinding('no-training-step', 'no step'));
    const sarif = JSON.parse(renderSarif(report, '/ws'));
    expect(validate(sarif)).toEqual([]);
    const levels = new Set(sarif.runs[0].results.map((r: { level: string }) => r.level));
    expect([...levels].sort()).toEqual(['error', 'note', 'warning']);
    expect(sarif.runs[0].results.at(-1).locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'train.ts', uriBaseId: '%SRCROOT%' },
      region: { startLine: 1 },
    });
  });

  it('uses an absolute file URI outside the root, and percent-encodes spaces', () => {
    expect(artifactLocation('/elsewhere/a b.ts', '/ws')).toEqual({ uri: 'file:///elsewhere/a%20b.ts' });
    expect(artifactLocation(path.join('/ws', 'sub dir', 'x.ts'), '/ws')).toEqual({ uri: 'sub%20dir/x.ts', uriBaseId: '%SRCROOT%' });
  });

  it('Windows paths: drive letters, backslashes, spaces and UNC shares', () => {
    const w = path.win32;
    expect(artifactLocation('C:\\work\\my proj\\train.ts', 'C:\\work', w)).toEqual({ uri: 'my%20proj/train.ts', uriBaseId: '%SRCROOT%' });
    expect(artifactLocation('D:\\elsewhere\\x.ts', 'C:\\work', w)).toEqual({ uri: 'file:///D:/elsewhere/x.ts' });
    expect(artifactLocation('\\\\server\\share\\ml\\train.ts', '\\\\server\\share', w)).toEqual({ uri: 'ml/train.ts', uriBaseId: '%SRCROOT%' });
    expect(rootUri('\\\\server\\share\\ml', w)).toBe('file://server/share/ml/');
    expect(rootUri('C:\\work', w)).toBe('file:///C:/work/');
    expect(rootUri('/ws', path.posix)).toBe('file:///ws/');
  });

  it('the schema check is real: a broken document fails it', () => {
    const report = reportOf('custom-loop-drops-penalty', '/ws/a.ts');
    const sarif = JSON.parse(renderSarif(report, '/ws'));
    sarif.runs[0].results[0].level = 'fatal';
    delete sarif.version;
    expect(validate(sarif).length).toBeGreaterThan(0);
  });
});
