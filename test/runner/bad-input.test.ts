import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/shared/analysis/report';
import { analyze, fixtureScript, isAlive } from '../helpers/run';

describe('bad input gets a clear error and keeps what was captured', () => {
  it('a syntax error: the build error with file:line, nothing run, exit 2', async () => {
    const { report } = await analyze(fixtureScript('syntax-error.ts'));
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ phase: 'build', name: 'BuildError', source: { line: 2, column: 29 } });
    expect(report.error?.source?.file).toBe(fixtureScript('syntax-error.ts'));
    expect(report.findings[0]).toMatchObject({ ruleId: 'script-error', source: { line: 2 } });
    expect(report.backend).toBeNull();
    expect(exitCodeFor(report)).toBe(2);
  });

  it('a script that throws: its message, the user frame, and the steps before the throw', async () => {
    const { report, output } = await analyze(fixtureScript('throws.ts'));
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ phase: 'run', message: 'data loader ran dry', source: { file: fixtureScript('throws.ts'), line: 11 } });
    expect(report.steps).toBe(3);
    expect(report.curves.totalLoss).toHaveLength(3);
    expect(report.layers.map((l) => l.name)).toHaveLength(2);
    // Layers made in a helper map to the helper's lines.
    expect(report.layers.map((l) => [l.source?.file.endsWith('helpers/build-model.ts'), l.source?.line])).toEqual([
      [true, 6],
      [true, 7],
    ]);
    expect(report.findings.map((f) => f.ruleId)).toContain('regularizer-not-in-loss');
    expect(output).toContain('data loader ran dry');
    expect(exitCodeFor(report)).toBe(2);
  });

  it('process.exit() in the middle of fit: the exit code, the line that called it, every step before', async () => {
    const { report } = await analyze(fixtureScript('exits-mid-training.ts'));
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ name: 'ProcessExit', message: 'The script called process.exit(3).', source: { line: 13 } });
    expect(report.steps).toBe(3);
    expect(report.terms.filter((t) => t.collection === 'regularization').every((t) => t.reachesMinimizedLoss)).toBe(true);
    expect(exitCodeFor(report)).toBe(2);
  });

  it('a loss that goes NaN: an error finding naming the step and the term that went first', async () => {
    const { report } = await analyze(fixtureScript('goes-nan.ts'), { steps: 8 });
    expect(report.status).toBe('step-limit');
    expect(report.nonFinite).not.toBeNull();
    const f = report.findings.find((x) => x.ruleId === 'non-finite-loss');
    expect(f?.step).toBe(report.nonFinite?.step);
    expect(report.curves.totalLoss.slice(0, report.nonFinite!.step - 1).every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(report.curves.totalLoss[report.nonFinite!.step - 1])).toBe(false);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('a script that never ends: stopped by the timeout, with its grandchild gone too', async () => {
    const { report, output } = await analyze(fixtureScript('never-ends.ts'), { timeoutSeconds: 3 });
    expect(report.status).toBe('timeout');
    expect(report.findings.map((f) => f.ruleId)).toEqual(['no-training-step']);
    const grandchild = Number(/grandchild (\d+)/.exec(output)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(isAlive(grandchild)).toBe(false);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('a script that never trains: completed, with its layers, and an error saying there was no step', async () => {
    const { report } = await analyze(fixtureScript('never-trains.ts'));
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(0);
    expect(report.layers).toHaveLength(2);
    expect(report.terms.filter((t) => t.collection === 'regularization')).toHaveLength(2);
    expect(report.findings.map((f) => f.ruleId)).toEqual(['no-training-step']);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('a file that is not a tfjs script is not run at all', async () => {
    const { report, output } = await analyze(fixtureScript('not-tfjs.js'));
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ name: 'NotATfjsScript' });
    expect(output).toBe('');
    expect(exitCodeFor(report)).toBe(2);
  });

  it('a missing file', async () => {
    const { report } = await analyze(fixtureScript('does-not-exist.ts'));
    expect(report.error).toMatchObject({ name: 'FileNotFound' });
    expect(report.error?.message).toContain('does-not-exist.ts');
    expect(exitCodeFor(report)).toBe(2);
  });

  it('a thousand layers: every layer, every penalty, and the graph of one step', async () => {
    const { report } = await analyze(fixtureScript('thousand-layers.ts'));
    expect(report.status).toBe('completed');
    expect(report.layers).toHaveLength(1000);
    expect(report.terms.filter((t) => t.collection === 'regularization' && t.reachesMinimizedLoss)).toHaveLength(99);
    expect(report.graph!.nodes.filter((n) => n.kind === 'variable')).toHaveLength(2000);
    expect(report.findings.filter((f) => f.ruleId === 'no-decay')).toHaveLength(2);
  });
});
