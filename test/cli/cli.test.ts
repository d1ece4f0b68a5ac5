import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/shared/analysis/report';
import { fixtureScript, ROOT } from '../helpers/run';

const CLI = path.join(ROOT, 'bin', 'loss-lens.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonReport(stdout: string) {
  const parsed = reportSchema.safeParse(JSON.parse(stdout));
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues.slice(0, 5)));
  return parsed.data;
}

describe('loss-lens analyze --json', () => {
  it('prints exactly one JSON report on stdout, the script output on stderr, and exits 1 for error findings', () => {
    const r = cli('analyze', 'examples/custom-loop-drops-penalty.ts', '--json', '--steps', '4');
    expect(r.code).toBe(1);
    const report = jsonReport(r.stdout);
    expect(report).toMatchObject({ schemaVersion: 1, status: 'step-limit', steps: 4, backend: { name: 'wasm' }, optimizer: { className: 'SGD' } });
    expect(report.script).toBe(path.join(ROOT, 'examples/custom-loop-drops-penalty.ts'));
    expect(report.graph?.nodes.length).toBeGreaterThan(5);
    expect(report.curves.step).toEqual([1, 2, 3, 4]);
    expect(r.stderr).toContain('epoch 0 loss');
    expect(r.stdout).not.toContain('epoch 0 loss');
  });

  it('exits 0 when nothing is wrong', () => {
    const r = cli('analyze', 'examples/custom-loop-with-penalty.ts', '--json', '--steps', '3');
    expect(r.code).toBe(0);
    expect(jsonReport(r.stdout).findings).toEqual([]);
  });

  it('exits 2 with a report when the script cannot be built, and writes NaN losses as strings', () => {
    const bad = cli('analyze', fixtureScript('syntax-error.ts'), '--json');
    expect(bad.code).toBe(2);
    expect(jsonReport(bad.stdout).error?.source?.line).toBe(2);

    const nan = cli('analyze', fixtureScript('goes-nan.ts'), '--json', '--steps', '6');
    expect(nan.code).toBe(1);
    expect(nan.stdout).toMatch(/"totalLoss": \[[^\]]*"(NaN|Infinity)"/);
    expect(jsonReport(nan.stdout).nonFinite?.step).toBeGreaterThan(0);
  });

  it('prints the text report with a layer table, the loss split and linter-style findings', () => {
    const r = cli('analyze', 'examples/custom-loop-drops-penalty.ts', '--steps', '3', '--no-color');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Layers');
    expect(r.stdout).toMatch(/dense_Dense1\s+Dense\s+examples\/custom-loop-drops-penalty\.ts:20:21\s+L2 1e-3 on kernel\s+NO/);
    expect(r.stdout).toMatch(/regularization\s+0\s+0/);
    expect(r.stdout).toMatch(/examples\/custom-loop-drops-penalty\.ts:20:21 {2}error {2}.+ {2}regularizer-not-in-loss/);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('rejects bad usage with exit 2 and the usage text', () => {
    for (const args of [[], ['analyze'], ['frobnicate', 'x.ts'], ['analyze', 'x.ts', '--steps', '0'], ['analyze', 'x.ts', '--backend', 'gpu'], ['analyze', 'x.ts', '--bogus']]) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('Usage: loss-lens analyze');
    }
    const help = cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--backend B');
  });
});
