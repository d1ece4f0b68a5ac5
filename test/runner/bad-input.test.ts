import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../../src/engine/run-script';
import { exitCodeFor } from '../../src/shared/analysis/report';
import { MATRIX_BACKENDS } from '../helpers/backends';
import { analyze, fixtureScript, isAlive, processesWithMark } from '../helpers/run';

const helperPids = (output: string) =>
  Object.fromEntries([...output.matchAll(/(detached|setsid|job)=(\d+)/g)].map((m) => [m[1], Number(m[2])])) as Record<'detached' | 'setsid' | 'job', number>;

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

  it.each(MATRIX_BACKENDS)('a loss that goes NaN, on %s: an error finding naming the step and the term that went first', async (backend) => {
    const { report } = await analyze(fixtureScript('goes-nan.ts'), { steps: 8, backend });
    expect(report.status).toBe('step-limit');
    expect(report.nonFinite).not.toBeNull();
    const f = report.findings.find((x) => x.ruleId === 'non-finite-loss');
    expect(f?.step).toBe(report.nonFinite?.step);
    expect(report.curves.totalLoss.slice(0, report.nonFinite!.step - 1).every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(report.curves.totalLoss[report.nonFinite!.step - 1])).toBe(false);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('a script that never ends: stopped by the timeout, with its grandchild gone too', async () => {
    const { report, output, mark } = await analyze(fixtureScript('never-ends.ts'), { timeoutSeconds: 3 });
    expect(report.status).toBe('timeout');
    expect(report.findings.map((f) => f.ruleId)).toEqual(['no-training-step']);
    const grandchild = Number(/grandchild (\d+)/.exec(output)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    expect(isAlive(grandchild)).toBe(false);
    expect(processesWithMark(mark!)).toEqual([]);
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

  it('process.exitCode = 3 at the end is the exit code: failed, exit 2, like process.exit(3)', async () => {
    const { report } = await analyze(fixtureScript('exit-code.js'));
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ name: 'ProcessExit', message: 'The script exited with code 3.' });
    expect(report.steps).toBe(2);
    expect(exitCodeFor(report)).toBe(2);
  });

  it('exiting before the first step says why: the code and the last stderr line', async () => {
    const { report } = await analyze(fixtureScript('argparse-style.js'));
    expect(report.status).toBe('failed');
    expect(report.error?.message).toBe(
      'The script called process.exit(64) before training. Its last line on stderr: "usage: argparse-style.js --epochs N --units N [--label TEXT]"',
    );
    expect(report.error?.source).toMatchObject({ file: fixtureScript('argparse-style.js'), line: 18 });
    expect(report.findings.map((f) => f.ruleId)).toEqual(['script-error']);
  });

  it("a shape error thrown deep inside model.fit points at the user's line, without Loss Lens's frames", async () => {
    const { report } = await analyze(fixtureScript('shape-error-in-fit.ts'));
    expect(report.status).toBe('failed');
    expect(report.error?.message).toMatch(/target expected a batch of elements where each example has shape \[3\]/);
    expect(report.error?.source).toEqual({ file: fixtureScript('shape-error-in-fit.ts'), line: 9, column: 13 });
    expect(report.error?.stack).toContain('tfjs-layers');
    expect(report.error?.stack).not.toMatch(/dist[\\/]runner\.js/);
  });

  it('layers reach the host as they are built: a script that spins before training still reports them', async () => {
    const { report } = await analyze(fixtureScript('builds-then-spins.js'), { timeoutSeconds: 5 });
    expect(report.status).toBe('timeout');
    expect(report.layers.map((l) => [l.name, l.source?.line, l.weights.length])).toEqual([
      ['dense_Dense1', 4, 2],
      ['dense_Dense2', 5, 2],
    ]);
    expect(report.terms.filter((t) => t.collection === 'regularization')).toHaveLength(2);
  });

  it("stray writes to fds 3–11 hit what they hit under plain node (Node's own descriptors), never the channel", async () => {
    const { report, output } = await analyze(fixtureScript('writes-to-fds.js'));
    const kinds = /fd kinds (.*)/.exec(output)?.[1].split(' ') ?? [];
    expect(kinds).toHaveLength(9);
    // Closed, or the runtime's own epoll/eventfd/self-pipes: nothing of Loss Lens's, as under plain node.
    for (const k of kinds) expect(k).toMatch(/^\d+:(closed|anon|self-pipe)$/);
    expect(/fd writes (.*)/.exec(output)?.[1]).not.toContain('written');
    expect(report.status).toBe('completed');
    expect(report.notices.filter((n) => n.includes('channel'))).toEqual([]);
    expect(report.findings.map((f) => f.ruleId)).toEqual(['regularizer-not-in-loss', 'regularizer-not-in-loss']);
    expect(exitCodeFor(report)).toBe(1);
  });

  it("a script that writes into Loss Lens's channel, closes it and reuses its number: same verdict, its file stays its own", async () => {
    const { report, output } = await analyze(fixtureScript('hijacks-channel.js'));
    const [, channelFd, fileFd, file] = /channel fd (\d+), my file fd (\d+) at (\S+)/.exec(output) ?? [];
    expect(fileFd).toBe(channelFd);
    expect(fs.readFileSync(file, 'utf8')).toBe('my own line\n');
    fs.rmSync(file.replace(/[\\/]mine\.txt$/, ''), { recursive: true, force: true });
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(4);
    expect(report.findings.map((f) => f.ruleId)).toEqual(['regularizer-not-in-loss', 'regularizer-not-in-loss']);
    expect(report.notices.some((n) => /bytes on Loss Lens's private telemetry channel were not its frames/.test(n))).toBe(true);
  });

  it('a channel broken anyway is a failed run that names the channel, never clean', async () => {
    const { report } = await analyze(fixtureScript('breaks-channel.js'));
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ name: 'ChannelBroken' });
    expect(report.error?.message).toMatch(/private telemetry channel broke/);
    expect(report.error?.message).not.toMatch(/out of memory|native crash/);
    expect(report.notices.some((n) => n.includes('channel broke'))).toBe(true);
    expect(exitCodeFor(report)).toBe(2);
  });

  const stops: Array<[string, Partial<RunOptions>, string]> = [
    ['the step limit', { steps: 2 }, 'step-limit'],
    ['the timeout of a spinning script', { steps: 1000, timeoutSeconds: 3, args: ['--spin'] }, 'timeout'],
  ];
  for (const [how, options, status] of stops) {
    it(`${how} ends the detached, setsid and background-job helpers too`, async () => {
      const { report, output, mark } = await analyze(fixtureScript('spawns-helpers.js'), options);
      expect(report.status).toBe(status);
      const pids = helperPids(output);
      expect(Object.keys(pids).sort()).toEqual(['detached', 'job', 'setsid']);
      for (const [name, pid] of Object.entries(pids)) expect(isAlive(pid), name).toBe(false);
      expect(processesWithMark(mark!)).toEqual([]);
    });
  }

  it('cancel: status cancelled, and nothing of the run is left', async () => {
    const abort = new AbortController();
    let started = false;
    const run = analyze(fixtureScript('spawns-helpers.js'), {
      steps: 1000,
      args: ['--spin'],
      signal: abort.signal,
      onOutput: (_s, text) => {
        if (!started && text.includes('helpers ')) {
          started = true;
          // Once it is spinning (its timers can no longer run).
          setTimeout(() => abort.abort(), 500);
        }
      },
    });
    const { report, mark } = await run;
    expect(report.status).toBe('cancelled');
    expect(processesWithMark(mark!)).toEqual([]);
  });

  it('the wasm backend out of memory: says so, how much it held, and the line that allocated', async () => {
    const { report } = await analyze(fixtureScript('wasm-out-of-memory.js'), { backend: 'wasm' });
    expect(report.status).toBe('failed');
    expect(report.error?.name).toBe('WasmOutOfMemory');
    // The allocation that failed, from JavaScript (the kernel's output): its size, the heap and what was held.
    expect(report.error?.message).toMatch(/^The wasm backend ran out of memory: an allocation of 64 MiB failed with its heap at [\d.]+ GiB of the 4\.00 GiB it can address, with [\d.]+ GiB in \d+ live tensors/);
    expect(report.error?.source).toMatchObject({ file: fixtureScript('wasm-out-of-memory.js'), line: 6 });
  });

  it('the private run folder is gone after every kind of end', async () => {
    const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'll-temp-root-'));
    try {
      await analyze(fixtureScript('syntax-error.ts'), { tempRoot });
      await analyze(fixtureScript('not-tfjs.js'), { tempRoot });
      await analyze(fixtureScript('throws.ts'), { tempRoot });
      await analyze(fixtureScript('exits-mid-training.ts'), { tempRoot });
      await analyze(fixtureScript('never-ends.ts'), { tempRoot, timeoutSeconds: 2 });
      expect(fs.readdirSync(tempRoot)).toEqual([]);
    } finally {
      fs.rmSync(tempRoot, { recursive: true, force: true });
    }
    // No folder to be had: a failed report that says why, not a throw.
    const { report } = await analyze(fixtureScript('throws.ts'), { tempRoot: path.join(tempRoot, 'gone', 'too') });
    expect(report.status).toBe('failed');
    expect(report.error?.message).toMatch(/^Loss Lens could not make its private folder: ENOENT/);
  });
});
