import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/shared/analysis/report';
import { ownCgroupDir } from '../../src/engine/run-cgroup';
import { autoBackendHere } from '../helpers/backends';
import { eventually, isAlive, processesWithToken, seen, stillAlive } from '../helpers/process-state';
import { fixtureScript, ROOT } from '../helpers/run';
import { sarifValidator } from '../helpers/sarif-schema';

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
    expect(report).toMatchObject({ schemaVersion: 1, status: 'step-limit', steps: 4, backend: { name: autoBackendHere() }, optimizer: { className: 'SGD' } });
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

/** The CLI started in the background, with its stderr collected as it comes. */
function startCli(...args: string[]) {
  return startCliWith(process.env, ...args);
}

function startCliWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** The runner: the CLI's child running dist/runner.js, and the run folder its init file is in. */
function runnerOf(cliPid: number): { pid: number; workDir: string } | null {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== cliPid) continue;
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.endsWith('runner.js'))) return { pid: Number(name), workDir: path.dirname(cmd[cmd.length - 2]) };
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

const helperPids = (stderr: string) => [...stderr.matchAll(/(?:detached|setsid|job)=(\d+)/g)].map((m) => Number(m[1]));

describe('loss-lens analyze: arguments, exit status, stopping', () => {
  it('hands everything after -- to the script as process.argv.slice(2)', () => {
    const r = cli('analyze', fixtureScript('argparse-style.js'), '--json', '--steps', '5', '--', '--epochs', '2', '--units', '3', '--label', '--c');
    expect(r.stderr).toContain('args: ["--epochs","2","--units","3","--label","--c"]');
    expect(jsonReport(r.stdout)).toMatchObject({ status: 'completed', steps: 2 });
    // Without --, a script option is a usage error that says where it belongs.
    const wrong = cli('analyze', fixtureScript('argparse-style.js'), '--epochs', '2');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown option --epochs (arguments for the script go after --');
  });

  it('under --json, a usage error is still exactly one JSON document: status failed, the message, exit 2', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-events-dir-'));
    try {
      const cases: Array<[string[], RegExp]> = [
        [['--bogus'], /unknown option --bogus/],
        [['--steps', 'abc'], /--steps must be a positive whole number, got "abc"/],
        [['--events', dir], /--events: cannot write .* \(EISDIR\)/],
        [['--timeout', '3000000'], /--timeout is at most 2147483 seconds/],
        [['--fail-on', 'nope'], /--fail-on takes timeout, step-limit, warning/],
      ];
      for (const [extra, message] of cases) {
        const r = cli('analyze', 'examples/custom-loop-drops-penalty.ts', '--json', ...extra);
        expect(r.code, extra.join(' ')).toBe(2);
        const report = jsonReport(r.stdout);
        expect(report).toMatchObject({ status: 'failed', error: { name: 'UsageError' } });
        expect(report.error?.message).toMatch(message);
        expect(r.stderr).toBe('');
      }
      const missing = cli('analyze', 'no/such/script.ts', '--json');
      expect(missing.code).toBe(2);
      expect(jsonReport(missing.stdout).error).toMatchObject({ name: 'FileNotFound', message: expect.stringContaining('no/such/script.ts') });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--fail-on timeout,step-limit,warning turns those outcomes into exit 1', () => {
    const clean = ['analyze', 'examples/custom-loop-with-penalty.ts', '--json', '--steps', '2'];
    expect(cli(...clean).code).toBe(0);
    expect(cli(...clean, '--fail-on', 'step-limit').code).toBe(1);
    expect(cli(...clean, '--fail-on', 'timeout').code).toBe(0);
    const slow = ['analyze', fixtureScript('never-ends.ts'), '--json', '--timeout', '2'];
    const timedOut = cli(...slow, '--fail-on', 'timeout');
    expect(jsonReport(timedOut.stdout).status).toBe('timeout');
    expect(timedOut.code).toBe(1);
    const warned = cli('analyze', fixtureScript('fit-dataset.ts'), '--json', '--fail-on', 'warning');
    // Warnings and an info (the decay's timescale against fitDataset's plan), no error: the warnings make it 1.
    const findings = jsonReport(warned.stdout).findings;
    expect(findings.some((f) => f.severity === 'warning') && findings.every((f) => f.severity !== 'error')).toBe(true);
    expect(warned.code).toBe(1);
  });

  it('takes any --timeout up to the documented maximum without stopping at once', () => {
    const r = cli('analyze', 'examples/custom-loop-with-penalty.ts', '--json', '--steps', '3', '--timeout', '2147483');
    expect(jsonReport(r.stdout)).toMatchObject({ status: 'step-limit', steps: 3 });
    expect(r.code).toBe(0);
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal}: the report with status cancelled, exit ${code}, and nothing of the run left`, async () => {
      const run = startCli('analyze', fixtureScript('spawns-helpers.js'), '--json', '--steps', '1000', '--', '--spin');
      expect(await eventually(() => helperPids(run.stderr()).length === 3)).toBe(true);
      const runner = runnerOf(run.child.pid!);
      expect(runner).not.toBeNull();
      run.child.kill(signal);
      expect(await run.exited).toBe(code);
      expect(jsonReport(run.stdout()).status).toBe('cancelled');
      for (const pid of [runner!.pid, ...helperPids(run.stderr())]) expect(isAlive(pid), String(pid)).toBe(false);
      expect(fs.existsSync(runner!.workDir)).toBe(false);
    });
  }

  it('when the CLI itself is killed (SIGKILL), the runner notices, takes every helper down and removes its folder', async () => {
    const run = startCli('analyze', fixtureScript('spawns-helpers.js'), '--json', '--steps', '1000', '--', '--spin');
    expect(await eventually(() => helperPids(run.stderr()).length === 3)).toBe(true);
    const runner = runnerOf(run.child.pid!);
    expect(runner).not.toBeNull();
    const processes = [runner!.pid, ...helperPids(run.stderr())].map(seen);
    run.child.kill('SIGKILL');
    await run.exited;
    expect(await eventually(() => processes.every((p) => !stillAlive(p)) && !fs.existsSync(runner!.workDir))).toBe(true);
  });
});

describe('loss-lens analyze: nothing outlives the run, whatever its helpers did to their environment', () => {
  const escapes = fixtureScript('lifecycle/escapes-own-env.js');
  for (const [how, kill] of [
    ['SIGINT to the CLI', 'SIGINT'],
    ['SIGKILL to the CLI (the watchdog and the reaper clean up)', 'SIGKILL'],
  ] as const) {
    it(`${how}: no helper (env {PATH}, setsid env {}, env -i double fork), no cgroup, nothing in the temp folder`, async () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'll-cli-life-'));
      const token = `ll-cli-escape-${randomBytes(6).toString('hex')}`;
      try {
        const run = startCliWith({ ...process.env, TMPDIR: tmp }, 'analyze', escapes, '--json', '--steps', '100000', '--', token, 'slow');
        expect(await eventually(() => run.stderr().includes('helpers up: 3'))).toBe(true);
        const runner = runnerOf(run.child.pid!);
        expect(runner).not.toBeNull();
        // The runner is in the run's own cgroup (this machine has a writable cgroup v2).
        const cgroup = ownCgroupDir(`/proc/${runner!.pid}`);
        expect('dir' in cgroup && path.basename(cgroup.dir)).toMatch(/^loss-lens-[0-9a-f]{32}$/);
        const runnerProcess = seen(runner!.pid);
        run.child.kill(kill);
        const code = await run.exited;
        if (kill === 'SIGINT') {
          expect(code).toBe(130);
          expect(jsonReport(run.stdout()).status).toBe('cancelled');
          expect(processesWithToken(token)).toEqual([]);
          expect(fs.readdirSync(tmp)).toEqual([]);
        }
        await eventually(() => processesWithToken(token).length === 0 && fs.readdirSync(tmp).length === 0 && !stillAlive(runnerProcess));
        // Each part on its own, so a failure says what was left.
        expect({ helpers: processesWithToken(token), left: fs.readdirSync(tmp), runnerAlive: stillAlive(runnerProcess) }).toEqual({ helpers: [], left: [], runnerAlive: false });
        if (kill === 'SIGINT') expect(jsonReport(run.stdout()).notices).toContain(`Containment: cgroup v2 (${'dir' in cgroup ? cgroup.dir : ''}): every process the script started was in it, and went with it.`);
        expect(await eventually(() => 'dir' in cgroup && !fs.existsSync(cgroup.dir))).toBe(true);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  }

  it("the script's environment is the CLI's (plus the documented LOSS_LENS_RUN), and its children inherit exactly that", () => {
    const script = fixtureScript('lifecycle/prints-env.js');
    const envOf = (text: string, label: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${label} `));
      if (!line) throw new Error(`no ${label} line in:\n${text.slice(-2000)}`);
      return JSON.parse(line.slice(label.length + 1)) as Record<string, string>;
    };
    // Without and with ELECTRON_RUN_AS_NODE in the caller's environment: the script sees what plain node would.
    for (const extra of [{}, { ELECTRON_RUN_AS_NODE: '1' }]) {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LL_PROBE: 'kept as is', ...extra };
      const plain = spawnSync(process.execPath, [script], { cwd: ROOT, env, encoding: 'utf8' });
      const r = spawnSync(process.execPath, [CLI, 'analyze', script, '--json'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
      expect(jsonReport(r.stdout).status).toBe('completed');
      const seen = envOf(r.stderr, 'env');
      expect(seen.LOSS_LENS_RUN).toMatch(/^[0-9a-f]{32}$/);
      const { LOSS_LENS_RUN: _mark, ...rest } = seen;
      expect(rest).toEqual(envOf(plain.stdout, 'env'));
      expect(envOf(r.stderr, 'child-env')).toEqual(seen);
    }
  });
});

describe('loss-lens analyze --format sarif', () => {
  const validate = sarifValidator();
  it('prints one SARIF 2.1.0 document, valid against the published schema, with paths relative to --sarif-root', () => {
    const r = cli('analyze', 'examples/custom-loop-drops-penalty.ts', '--format', 'sarif', '--steps', '2', '--sarif-root', 'examples');
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout);
    expect(validate(sarif)).toEqual([]);
    const results = sarif.runs[0].results;
    expect(results.map((x: { ruleId: string }) => x.ruleId)).toEqual(['regularizer-not-in-loss', 'regularizer-not-in-loss', 'regularizer-not-in-loss']);
    expect(results[0].locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'custom-loop-drops-penalty.ts', uriBaseId: '%SRCROOT%' },
      region: { startLine: 20, startColumn: 21 },
    });
  });

  it('a usage error under --format sarif is still one valid SARIF document, a failed invocation, exit 2', () => {
    const r = cli('analyze', 'examples/custom-loop-drops-penalty.ts', '--format', 'sarif', '--steps', 'abc');
    expect(r.code).toBe(2);
    const sarif = JSON.parse(r.stdout);
    expect(validate(sarif)).toEqual([]);
    expect(sarif.runs[0].invocations[0]).toMatchObject({ executionSuccessful: false });
    expect(sarif.runs[0].invocations[0].toolExecutionNotifications[0].message.text).toContain('--steps');
  });

  it('--json is --format json; two different formats are refused', () => {
    const r = cli('analyze', 'x.ts', '--json', '--format', 'sarif');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', error: { name: 'UsageError' } });
  });
});
