import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/shared/analysis/report';
import { eventually, isAlive } from '../helpers/process-state';
import { SYSTEM_PYTHON, VENV_PYTHON } from '../helpers/python';
import { ROOT } from '../helpers/run';

/** `loss-lens analyze <script.py>` as users run it, on the project venv's Python (npm run setup:python). */
const CLI = path.join(ROOT, 'bin', 'loss-lens.js');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'python');
const fixture = (name: string) => path.join(FIXTURES, name);

function cli(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function analyze(script: string, options: string[] = [], scriptArgs: string[] = [], cwd = ROOT) {
  const r = cli(['analyze', script, '--json', '--python', VENV_PYTHON, ...options, ...(scriptArgs.length ? ['--', ...scriptArgs] : [])], cwd);
  const parsed = reportSchema.safeParse(JSON.parse(r.stdout));
  if (!parsed.success) throw new Error(`${JSON.stringify(parsed.error.issues.slice(0, 5))}\n${r.stderr}`);
  return { ...r, report: parsed.data };
}

describe('loss-lens analyze <script.py>', () => {
  it('runs it as `python script.py args` would: argv, cwd, sys.path[0], __file__, __name__', () => {
    const r = analyze(fixture('where_am_i.py'), [], ['--epochs', '2'], FIXTURES);
    // It trains nothing: the one finding says so (an error finding: exit code 1, as for a tfjs script).
    expect(r.report.findings.map((f) => f.ruleId)).toEqual(['no-training-step']);
    expect(r.code, r.stderr).toBe(1);
    const line = r.stderr.split('\n').find((l) => l.startsWith('{"argv"'));
    expect(JSON.parse(line ?? 'null')).toEqual({
      argv: [fixture('where_am_i.py'), '--epochs', '2'],
      cwd: FIXTURES,
      path0: FIXTURES,
      file: fixture('where_am_i.py'),
      name: '__main__',
    });
    expect(r.report).toMatchObject({ framework: 'tensorflow', status: 'completed', error: null, steps: 0 });
    expect(r.stdout.trim().startsWith('{')).toBe(true);
  });

  it('the text report names the framework', () => {
    const r = cli(['analyze', fixture('where_am_i.py'), '--python', VENV_PYTHON, '--no-color']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('TensorFlow / Keras in Python');
  });

  it('sys.exit(n) fails the run at the line that exited (exit code 2), and sys.exit(0) completes it', () => {
    const failed = analyze(fixture('where_am_i.py'), [], ['exit', '3']);
    expect(failed.code).toBe(2);
    expect(failed.report.status).toBe('failed');
    expect(failed.report.error).toMatchObject({ name: 'ProcessExit', source: { file: fixture('where_am_i.py'), line: 8 } });
    expect(failed.report.error?.message).toContain('called sys.exit(3)');
    const ok = analyze(fixture('where_am_i.py'), [], ['exit', '0']);
    expect(ok.report.error).toBeNull();
    expect(ok.report.status).toBe('completed');
  });

  it("an uncaught exception: Python's traceback on stderr, the error at the user's line, exit code 2", () => {
    const r = analyze(fixture('raises.py'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`File "${fixture('raises.py')}", line 5, in <module>`);
    expect(r.stderr).toContain('ValueError: the data folder is empty');
    expect(r.stderr).not.toContain('runpy');
    expect(r.report.error).toMatchObject({ name: 'ValueError', message: 'the data folder is empty', source: { file: fixture('raises.py'), line: 2, column: 5 } });
  });

  it('nothing the script started outlives the run, even a child in its own session', async () => {
    const r = analyze(fixture('leaves_a_child.py'));
    expect(r.report.status, r.stderr).toBe('completed');
    const pid = Number(/child (\d+)/.exec(r.stderr)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(await eventually(() => !isAlive(pid))).toBe(true);
  });

  it('--timeout stops a script that never ends: status timeout, the script gone', () => {
    const r = analyze(fixture('spins.py'), ['--timeout', '2']);
    expect(r.report.status).toBe('timeout');
    expect(r.report.error).toBeNull();
    expect(r.stderr).toContain('spinning');
  });

  it('SIGINT cancels the run: the report says cancelled, exit code 130', async () => {
    const child = spawn(process.execPath, [CLI, 'analyze', fixture('spins.py'), '--json', '--python', VENV_PYTHON], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      if (!interrupted && stderr.includes('spinning')) interrupted = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(reportSchema.parse(JSON.parse(stdout)).status).toBe('cancelled');
  });

  it('--steps N stops a Keras training loop after N optimizer steps (the probes count them), exit codes as for tfjs', () => {
    const example = path.join(ROOT, 'examples', 'python', 'tape_loop_forgets_model_losses.py');
    const r = analyze(example, ['--steps', '3']);
    expect(r.report).toMatchObject({ framework: 'tensorflow', status: 'step-limit', steps: 3, error: null });
    // Every event of the Python runner passed the engine's zod check (a rejected one is said on stderr).
    expect(r.stderr).not.toContain('malformed runner message');
    // Its penalties never reach the minimized loss: error findings, exit code 1.
    expect(r.report.findings.some((f) => f.ruleId === 'regularizer-not-in-loss' && f.severity === 'error')).toBe(true);
    expect(r.code).toBe(1);
    const text = cli(['analyze', example, '--python', VENV_PYTHON, '--steps', '2', '--no-color']);
    expect(text.stdout).toContain('2 optimizer steps, stopped after the step limit · TensorFlow / Keras in Python (tensorflow 2.20.0)');
  });

  it('--fail-on step-limit turns a clean step-limit run of a Python script into exit code 1, as for tfjs', () => {
    const example = path.join(ROOT, 'examples', 'python', 'tf_function_loop_with_penalty.py');
    const plain = analyze(example, ['--steps', '2']);
    expect(plain.report.status).toBe('step-limit');
    expect(plain.stderr).not.toContain('malformed runner message');
    expect(plain.report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(plain.code).toBe(0);
    expect(analyze(example, ['--steps', '2', '--fail-on', 'step-limit']).code).toBe(1);
  });

  it('an interpreter that does not exist: a clear error naming it and how to choose another', () => {
    const r = cli(['analyze', fixture('where_am_i.py'), '--json', '--python', '/nonexistent/python3']);
    expect(r.code).toBe(2);
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report.error).toMatchObject({ phase: 'build', name: 'PythonNotFound' });
    expect(report.error?.message).toContain('"/nonexistent/python3"');
    expect(report.error?.message).toContain('--python PATH');
    expect(report.error?.message).toContain('lossLens.pythonPath');
  });

  it('TensorFlow missing from the interpreter: the error says which interpreter, and how to choose another', () => {
    const r = cli(['analyze', fixture('imports_tf.py'), '--json', '--python', SYSTEM_PYTHON]);
    expect(r.code).toBe(2);
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report.error).toMatchObject({ name: 'TensorFlowNotFound', source: { file: fixture('imports_tf.py'), line: 1 } });
    expect(report.error?.message).toMatch(/python3/);
    expect(report.error?.message).toContain('pip install tensorflow');
    expect(report.error?.message).toContain('--python PATH');
    expect(r.stderr).toContain("ModuleNotFoundError: No module named 'tensorflow'");
  });

  it('a .py file that does not exist is a FileNotFound build error', () => {
    const r = cli(['analyze', fixture('nope.py'), '--json', '--python', VENV_PYTHON]);
    expect(r.code).toBe(2);
    expect(reportSchema.parse(JSON.parse(r.stdout)).error).toMatchObject({ phase: 'build', name: 'FileNotFound' });
  });
});
