// What the reports say must be what happened: a name cannot forge a line, and a run with dropped messages
// says it is incomplete, through the real CLI, engine and runner.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/shared/analysis/report';
import { FINGERPRINT_KEY } from '../../src/cli/sarif-report';
import { fixtureScript, ROOT } from '../helpers/run';
import { sarifValidator } from '../helpers/sarif-schema';

const CLI = path.join(ROOT, 'bin', 'loss-lens.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Any control character but the newlines that end our own lines, DEL, C1, and the bidi controls.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('names from the script cannot forge report lines', () => {
  it('text: a variable named "w\\n  fake.js:1:1  error  FORGED …" stays inside its finding, escaped', () => {
    const r = cli('analyze', fixtureScript('hostile-names.js'), '--no-color');
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    // No line of the report starts with the forged position: it sits inside the real finding's line.
    expect(lines.filter((l) => /^\s*fake\.js:1:1/.test(l))).toEqual([]);
    const findings = lines.slice(lines.indexOf('Findings') + 1, lines.indexOf('Why it matters') - 1);
    expect(findings).toHaveLength(2);
    expect(findings[0]).toMatch(/^ {2}test\/fixtures\/scripts\/hostile-names\.js:16:26 {2}error .*on w\\x0a {2}fake\.js:1:1 {2}error {2}FORGED .* {2}regularizer-not-in-loss$/);
    expect(findings[1]).toContain('v\\x0d\\u202eevil');
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    // The script's own output went to stderr untouched; our own lines there are escaped.
    for (const line of r.stderr.split('\n').filter((l) => l.startsWith('loss-lens:'))) expect(line).not.toMatch(RAW_CONTROL);
  });

  it('SARIF: properties and messages carry the names escaped (no raw bidi or CR), and the document stays valid', () => {
    const r = cli('analyze', fixtureScript('hostile-names.js'), '--format', 'sarif');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    const sarif = JSON.parse(r.stdout);
    expect(sarifValidator()(sarif)).toEqual([]);
    const results = sarif.runs[0].results;
    expect(results.map((x: { properties: { weight: string } }) => x.properties.weight)).toEqual([
      'w\\x0a  fake.js:1:1  error  FORGED  regularizer-not-in-loss',
      'v\\x0d\\u202eevil',
    ]);
    const fingerprints = results.map((x: { partialFingerprints: Record<string, string> }) => x.partialFingerprints[FINGERPRINT_KEY]);
    expect(new Set(fingerprints).size).toBe(2);
  });
});

describe('a runner message the engine rejects makes the report say it is incomplete', () => {
  it('JSON: the notice with the count and the error, an incomplete-report warning; --fail-on warning fails on it', () => {
    const r = cli('analyze', fixtureScript('malformed-event.js'), '--json');
    expect(r.code).toBe(0);
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report.status).toBe('completed');
    expect(report.notices).toContain('The report is incomplete: 1 runner message failed validation and was left out (the error: level: Invalid option: expected one of "info"|"warning").');
    expect(report.findings.map((f) => [f.ruleId, f.severity])).toEqual([['incomplete-report', 'warning']]);
    expect(r.stderr).toContain('loss-lens: ignored a malformed runner message: level: Invalid option');
    expect(r.stderr).toContain('loss-lens: The report is incomplete: 1 runner message');
    expect(cli('analyze', fixtureScript('malformed-event.js'), '--json', '--fail-on', 'warning').code).toBe(1);
  });

  it('text and SARIF show it too', () => {
    const text = cli('analyze', fixtureScript('malformed-event.js'), '--no-color');
    expect(text.stdout).toMatch(/test\/fixtures\/scripts\/malformed-event\.js {2}warning {2}The report is incomplete: 1 runner message .* {2}incomplete-report/);
    expect(text.stdout).toContain('0 errors, 1 warning, 0 info');
    const sarif = JSON.parse(cli('analyze', fixtureScript('malformed-event.js'), '--format', 'sarif').stdout);
    expect(sarifValidator()(sarif)).toEqual([]);
    expect(sarif.runs[0].results).toMatchObject([{ ruleId: 'incomplete-report', level: 'warning' }]);
    expect(sarif.runs[0].tool.driver.rules.map((x: { id: string }) => x.id)).toContain('incomplete-report');
  });
});
