import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunOptions } from '../../src/engine/run-script';
import { processesWithToken } from '../helpers/process-state';
import { VENV_PYTHON } from '../helpers/python';
import { analyze, eventually, ROOT } from '../helpers/run';

/**
 * Python runs are contained as tfjs runs are (test/runner/lifecycle.test.ts): nothing the script started outlives
 * the run, whatever its helpers did to their environment, with a cgroup or with the mark and the descendant record.
 */
const SCRIPT = path.join(ROOT, 'test', 'fixtures', 'python', 'escapes_own_env.py');

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'll-pylife-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[], options: Partial<RunOptions>) {
  let stop: (() => Promise<void>) | null = null;
  let text = '';
  let asked = false;
  const stopWhenUp = args[1] === 'slow';
  const outcome = await analyze(SCRIPT, {
    args,
    pythonPath: VENV_PYTHON,
    tempRoot: tmp,
    env: { TMPDIR: tmp },
    onStarted: (control) => (stop = control.stop),
    onOutput: (_s, t) => {
      text += t;
      if (stopWhenUp && !asked && text.includes('helpers up')) {
        asked = true;
        void stop?.();
      }
    },
    ...options,
  });
  // The script's own output, as this run's onOutput saw it (the helper's collector is replaced by it).
  return { ...outcome, output: text };
}

const cgroupOf = (notices: string[]) => /Containment: cgroup v2 \(([^)]+)\)/.exec(notices.join('\n'))?.[1] ?? null;

const ENDS: Array<[string, string, Partial<RunOptions>, string]> = [
  ['a natural end', 'end', {}, 'completed'],
  ['the timeout of a spinning script', 'spin', { timeoutSeconds: 4 }, 'timeout'],
  ['a stop while it sleeps', 'slow', {}, 'cancelled'],
];

describe('a Python run: nothing outlives it', () => {
  for (const [how, mode, options, status] of ENDS) {
    it(`cgroup v2: ${how} takes every helper along (env {PATH}, setsid env {}, env -i double fork), its cgroup and its folder`, async () => {
      const token = `ll-pyescape-${randomBytes(6).toString('hex')}`;
      const { report, output } = await run([token, mode], options);
      expect(output).toContain('helpers up: 3');
      expect(report.status, report.error?.message).toBe(status);
      expect(processesWithToken(token)).toEqual([]);
      const cgroup = cgroupOf(report.notices);
      expect(cgroup, report.notices.join('\n')).not.toBeNull();
      expect(fs.existsSync(cgroup!)).toBe(false);
      expect(fs.readdirSync(tmp)).toEqual([]);
    });

    it(`without a cgroup (the mark and the descendant record): ${how} takes the helpers along`, async () => {
      const token = `ll-pyescape-${randomBytes(6).toString('hex')}`;
      const { report, output } = await run([token, mode, '--no-double'], { ...options, containment: 'mark' });
      expect(output).toContain('helpers up: 2');
      expect(report.status, report.error?.message).toBe(status);
      expect(processesWithToken(token)).toEqual([]);
      expect(fs.readdirSync(tmp)).toEqual([]);
    });
  }

  it('when the CLI itself is killed (SIGKILL), the Python runner takes every helper down and removes its folder', async () => {
    const token = `ll-pyescape-${randomBytes(6).toString('hex')}`;
    const cli = spawn(process.execPath, [path.join(ROOT, 'bin', 'loss-lens.js'), 'analyze', SCRIPT, '--json', '--python', VENV_PYTHON, '--', token, 'slow'], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: tmp },
    });
    let stderr = '';
    cli.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    cli.stdout.resume();
    expect(await eventually(() => stderr.includes('helpers up: 3'))).toBe(true);
    // The run's private folder (its channel, control folder, descendant record) is in TMPDIR while it runs.
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('loss-lens-')).length).toBe(1);
    const exited = new Promise((resolve) => cli.on('exit', resolve));
    cli.kill('SIGKILL');
    await exited;
    expect(await eventually(() => processesWithToken(token).length === 0 && fs.readdirSync(tmp).length === 0)).toBe(true);
  });
});
