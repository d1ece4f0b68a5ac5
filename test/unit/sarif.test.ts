import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactLocation, FINGERPRINT_KEY, renderSarif, rootUri } from '../../src/cli/sarif-report';
import { makeFinding, RULES } from '../../src/shared/analysis/rules/registry';
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

  describe('partialFingerprints: one stable identity per result, whatever lines move', () => {
    type Result = { ruleId: string; partialFingerprints: Record<string, string>; properties?: { weight: string | null } };
    const results = (report: ReturnType<typeof reportOf>, root = '/ws'): Result[] => {
      const sarif = JSON.parse(renderSarif(report, root));
      expect(validate(sarif)).toEqual([]);
      return sarif.runs[0].results;
    };
    const fingerprint = (r: Result) => r.partialFingerprints[FINGERPRINT_KEY];
    /** The recorded CNN run, as if its script were /ws/train.ts (the recording holds the machine's own paths). */
    const cnnReport = () => {
      const report = reportOf('fit-cnn-with-decay', '/ws/train.ts');
      for (const f of report.findings) if (f.source) f.source.file = '/ws/train.ts';
      return report;
    };

    it('every result has one under a versioned key of ours; different layers and weights differ', () => {
      expect(FINGERPRINT_KEY).toMatch(/^[A-Za-z]+\/v\d+$/);
      const rs = results(cnnReport());
      expect(rs.length).toBeGreaterThan(3);
      for (const r of rs) expect(fingerprint(r)).toMatch(/^[0-9a-f]{32}:\d+$/);
      expect(new Set(rs.map(fingerprint)).size).toBe(rs.length);
      // Same rule, different weights: different fingerprints.
      const byRule = rs.filter((r) => r.ruleId === rs[0].ruleId);
      expect(new Set(byRule.map(fingerprint)).size).toBe(byRule.length);
    });

    it('moving every finding to other lines and columns keeps each fingerprint; renaming a layer or the file does not', () => {
      const report = cnnReport();
      const before = results(report).map(fingerprint);
      const moved = structuredClone(report);
      for (const f of moved.findings) if (f.source) f.source = { ...f.source, line: f.source.line + 40, column: f.source.column + 3 };
      expect(results(moved).map(fingerprint)).toEqual(before);

      const renamed = structuredClone(report);
      const target = renamed.findings.findIndex((f) => f.layer !== null);
      renamed.findings[target].layer = `${renamed.findings[target].layer}_renamed`;
      const after = results(renamed).map(fingerprint);
      expect(after[target]).not.toBe(before[target]);
      expect(after.filter((_, i) => i !== target)).toEqual(before.filter((_, i) => i !== target));

      // The path relative to the SARIF root is part of it; the root itself is not.
      const elsewhere = structuredClone(report);
      for (const f of elsewhere.findings) if (f.source) f.source.file = '/ws/other.ts';
      expect(results(elsewhere).map(fingerprint).filter((fp, i) => report.findings[i].source && fp === before[i])).toEqual([]);
      const rooted = structuredClone(report);
      rooted.script = '/elsewhere/ws/train.ts';
      for (const f of rooted.findings) if (f.source) f.source.file = '/elsewhere/ws/train.ts';
      expect(results(rooted, '/elsewhere/ws').map(fingerprint)).toEqual(before);
    });

    it('results that would share one (two build errors in a file) are told apart by their order', () => {
      const report = reportOf('custom-loop-drops-penalty', '/ws/a.ts');
      report.findings = [makeFinding('script-error', 'Build error: one'), makeFinding('script-error', 'Build error: two')];
      const [a, b] = results(report).map(fingerprint);
      expect(a.split(':')[0]).toBe(b.split(':')[0]);
      expect([a.split(':')[1], b.split(':')[1]]).toEqual(['1', '2']);
    });
  });

  it('names in properties are escaped like messages: no raw bidi control or line break reaches a viewer', () => {
    const report = reportOf('custom-loop-drops-penalty', '/ws/a.ts');
    report.findings = [makeFinding('no-decay', 'm', { layer: 'evil\u202egnp', weight: 'w\r\nx', termId: 'penalty:w\u2066' })];
    const text = renderSarif(report, '/ws');
    expect(text).not.toMatch(/[\u202e\u2066]|\\r|\\n/);
    expect(JSON.parse(text).runs[0].results[0].properties).toEqual({ layer: 'evil\\u202egnp', weight: 'w\\x0d\\x0ax', step: null, termId: 'penalty:w\\u2066' });
    expect(validate(JSON.parse(text))).toEqual([]);
  });
});
