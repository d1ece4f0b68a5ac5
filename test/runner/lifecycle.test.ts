import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { descendantsOf, record, recordFile } from '../../src/engine/descendants';
import { RunCgroup } from '../../src/engine/run-cgroup';
import type { RunOptions } from '../../src/engine/run-script';
import type { RunnerEvent } from '../../src/shared/protocol/runner-protocol';
import { analyze, eventually, fixtureScript, ROOT } from '../helpers/run';
import { processesWithToken } from '../helpers/process-state';
import { runtimes } from '../helpers/runtimes';

/**
 * Nothing of a run outlives it, whatever the script did to its children's environment, and the script runs as
 * `node script.js` would: its own signals, its own exit listeners, its own environment.
 */
const script = (name: string) => fixtureScript(`lifecycle/${name}`);

let tmp: string;
beforeEach(() => {
  // A temp folder of the test's own: whatever the run leaves in it is the run's.
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'll-life-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The run with a private temp folder for both the engine (its run folder) and the runner (TMPDIR). */
function run(name: string, options: Partial<RunOptions> = {}) {
  return analyze(script(name), { tempRoot: tmp, env: { TMPDIR: tmp }, ...options });
}

const left = () => fs.readdirSync(tmp);
const cgroupOf = (notices: string[]) => /Containment: cgroup v2 \(([^)]+)\)/.exec(notices.join('\n'))?.[1] ?? null;

type End = [string, Partial<RunOptions>, string, string];
const ends = (token: string, extra: string[] = []): End[] => [
  ['a natural end', { args: [token, 'train', ...extra] }, 'completed', 'completed'],
  ['the timeout of a spinning script', { args: [token, 'spin', ...extra], timeoutSeconds: 4 }, 'timeout', 'timeout'],
  ['a stop while it trains', { args: [token, 'slow', ...extra] }, 'cancelled', 'stop'],
];

/** Stops the run once its helpers are up (for the `stop` end); the output is still collected. */
function stopOnceUp(kind: string): Partial<RunOptions> & { output: () => string } {
  let stop: (() => Promise<void>) | null = null;
  let text = '';
  let asked = false;
  return {
    output: () => text,
    onStarted: (control) => (stop = control.stop),
    onOutput: (_s, t) => {
      text += t;
      if (kind === 'stop' && !asked && text.includes('helpers up')) {
        asked = true;
        void stop?.();
      }
    },
  };
}

describe('nothing outlives the run', () => {
  for (const [how, options, status, kind] of ends('')) {
    it(`cgroup v2: ${how} takes every helper along (env {PATH}, setsid with env {}, an env -i double fork), its cgroup and its temp folders`, async () => {
      const token = `ll-escape-${randomBytes(6).toString('hex')}`;
      const watch = stopOnceUp(kind);
      const { report } = await run('escapes-own-env.js', { ...options, args: [token, ...options.args!.slice(1)], steps: 1000, ...watch });
      expect(watch.output()).toContain('helpers up: 3');
      expect(report.status).toBe(status);
      expect(processesWithToken(token)).toEqual([]);
      const cgroup = cgroupOf(report.notices);
      expect(cgroup, report.notices.join('\n')).not.toBeNull();
      expect(fs.existsSync(cgroup!)).toBe(false);
      expect(left()).toEqual([]);
    });
  }

  for (const [how, options, status, kind] of ends('', ['--no-double'])) {
    it(`without a cgroup (the mark and the descendant record): ${how} takes the helpers with an environment of their own along`, async () => {
      const token = `ll-escape-${randomBytes(6).toString('hex')}`;
      const watch = stopOnceUp(kind);
      const { report } = await run('escapes-own-env.js', { ...options, args: [token, ...options.args!.slice(1)], steps: 1000, containment: 'mark', ...watch });
      expect(watch.output()).toContain('helpers up: 2');
      expect(report.status).toBe(status);
      expect(processesWithToken(token)).toEqual([]);
      expect(report.notices).toContain('Containment: process mark (LOSS_LENS_RUN) and descendant walk; no cgroup: a cgroup was not asked for.');
      expect(left()).toEqual([]);
    });
  }
});

describe('temporary folders', () => {
  it('a run that dies of SIGSEGV leaves nothing in the temp folder (nor processes)', async () => {
    const token = `ll-segv-${randomBytes(6).toString('hex')}`;
    const { report } = await run('escapes-own-env.js', { args: [token, 'segv'] });
    expect(report.status).toBe('failed');
    expect(report.error?.message).toMatch(/SIGSEGV/);
    expect(processesWithToken(token)).toEqual([]);
    expect(left()).toEqual([]);
  });
});

describe("the script's own signals: the polite stop is not one", () => {
  it('a script that handles SIGUSR2 and raises it trains all 10 steps, and its handler runs', async () => {
    const { report, output } = await run('own-sigusr2.js');
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(10);
    expect(output).toContain('my SIGUSR2 handler ran (1)');
    expect(output).toContain('trained; handler ran 1 time(s)');
  });

  for (const [how, status] of [
    ['a stop', 'cancelled'],
    ['a timeout', 'timeout'],
  ] as const) {
    it(`${how} of a training script is polite: the runner's own end event after the steps so far, status ${status}`, async () => {
      const token = `ll-polite-${randomBytes(6).toString('hex')}`;
      const events: RunnerEvent[] = [];
      let stop: (() => Promise<void>) | null = null;
      const { report } = await run('escapes-own-env.js', {
        args: [token, 'slow', '--no-double'],
        steps: 100000,
        timeoutSeconds: status === 'timeout' ? 3 : 60,
        onStarted: (control) => (stop = control.stop),
        onEvent: (event) => {
          events.push(event);
          if (status === 'cancelled' && event.type === 'step' && event.record.step === 3) void stop?.();
        },
      });
      expect(report.status).toBe(status);
      const steps = events.filter((e) => e.type === 'step').length;
      expect(steps).toBeGreaterThanOrEqual(3);
      expect(report.steps).toBe(steps);
      // The runner wrote it as it stopped, after its last step (a killed runner sends none: the host makes one up).
      expect(events.at(-1)).toEqual({ type: 'end', reason: 'stopped', exitCode: 0, exitSource: null });
      expect(processesWithToken(token)).toEqual([]);
    });
  }
});

describe.each(runtimes())("exit listeners the script removes (%s)", (_name, node) => {
  for (const [how, status, exitCode] of [
    ['end', 'completed', 0],
    ['exit0', 'completed', 0],
    ['exit3', 'failed', 3],
  ] as const) {
    it(`process.removeAllListeners('exit') then ${how}: ${status}, exit code ${exitCode}`, async () => {
      const { report, state, output } = await run('removes-exit-listeners.js', { args: [how], nodePath: node });
      expect(output).toContain(`removed every exit listener, now: ${how}`);
      expect(report.status).toBe(status);
      expect(report.steps).toBe(3);
      expect(state.end?.exitCode).toBe(exitCode);
      expect(report.error?.name ?? null).toBe(exitCode === 0 ? null : 'ProcessExit');
    });
  }
});

describe('the reaper (the host died; started from inside the run)', () => {
  const REAPER = path.join(ROOT, 'dist', 'reaper.js');
  const mark = () => randomBytes(16).toString('hex');

  it("without a cgroup: kills the recorded processes (unmarked, re-parented) and removes the run's folder", async () => {
    const workDir = fs.mkdtempSync(path.join(tmp, 'loss-lens-'));
    const token = `ll-reaped-${randomBytes(6).toString('hex')}`;
    // An env -i, setsid helper whose shell exited: re-parented, no mark; it was recorded while it was ours.
    const shell = spawn('sh', ['-c', `env -i setsid "$0" -e 'setInterval(() => {}, 1000)' ${token} & read x`, process.execPath], { stdio: ['pipe', 'ignore', 'ignore'] });
    // The shell's command line holds the token too: two until it exits.
    expect(await eventually(() => processesWithToken(token).length === 2)).toBe(true);
    record(recordFile(workDir), new Set(), descendantsOf(shell.pid!));
    shell.stdin!.end('go\n');
    await new Promise((r) => shell.on('exit', r));
    expect(processesWithToken(token)).toHaveLength(1);
    const reaper = spawn(process.execPath, [REAPER, mark(), '999999', workDir], { stdio: 'ignore' });
    expect(await new Promise((r) => reaper.on('exit', r))).toBe(0);
    expect(processesWithToken(token)).toEqual([]);
    expect(fs.existsSync(workDir)).toBe(false);
  });

  it('with a cgroup: leaves it, kills everything in it, removes it and the folder', async () => {
    const workDir = fs.mkdtempSync(path.join(tmp, 'loss-lens-'));
    const cgroup = RunCgroup.create(mark());
    expect(typeof cgroup, String(cgroup)).toBe('object');
    const dir = (cgroup as RunCgroup).dir;
    const token = `ll-reaped-${randomBytes(6).toString('hex')}`;
    // A helper in the cgroup, then the reaper started from inside it (as the runner's watchdog starts it).
    const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', token], { stdio: 'ignore', detached: true });
    expect((cgroup as RunCgroup).join(helper.pid!)).toBe(true);
    const gate = spawn('sh', ['-c', 'read x; exec "$0" "$@"', process.execPath, REAPER, mark(), '999999', workDir, dir], { stdio: ['pipe', 'ignore', 'ignore'] });
    expect((cgroup as RunCgroup).join(gate.pid!)).toBe(true);
    const exited = new Promise((r) => gate.on('exit', r));
    gate.stdin!.end('go\n');
    expect(await exited).toBe(0);
    expect(processesWithToken(token)).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.existsSync(workDir)).toBe(false);
  });
});
