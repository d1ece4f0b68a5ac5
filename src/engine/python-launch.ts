/**
 * Python scripts (`.py`) run on the Python runner (src/python/loss_lens_runner, shipped beside dist/ in the npm
 * package and the VSIX): `<python> <…>/src/python/loss_lens_runner <init.json>`. The same init command, private
 * channel, events, containment and stop as the tfjs runner's; only the process differs.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScanFailure, ScanOk } from './script-types';

/** The interpreter when nothing else names one (`--python`, `lossLens.pythonPath`, the Python extension's). */
export const DEFAULT_PYTHON = 'python3';
/** Python 3.9 is the oldest the runner supports (it uses nothing newer). */
const MIN_PYTHON: [number, number] = [3, 9];

export function isPythonScript(scriptPath: string): boolean {
  return /\.py$/i.test(scriptPath);
}

/** The runner package's folder, from the tfjs runner's entry (dist/runner.js → ../src/python/loss_lens_runner). */
export function pythonRunnerDir(runnerPath: string): string {
  return path.join(path.dirname(runnerPath), '..', 'src', 'python', 'loss_lens_runner');
}

export type PythonCheck = { ok: true; executable: string; version: string } | { ok: false; name: string; message: string };

const HOW_TO_CHOOSE =
  'Choose the interpreter with `loss-lens analyze --python PATH`, the `lossLens.pythonPath` setting, or (in VS Code) the interpreter selected in the Python extension.';

/**
 * Checks that the interpreter starts and is new enough, before anything runs: "not found" is then a clear build
 * error instead of a runner that never said hello. The runner package must be there too (a broken install).
 */
export function checkPython(python: string, runnerDir: string): Promise<PythonCheck> {
  if (!fs.existsSync(path.join(runnerDir, '__main__.py'))) {
    return Promise.resolve({ ok: false, name: 'RunnerMissing', message: `Loss Lens's Python runner is missing from this install (${runnerDir}).` });
  }
  return new Promise((resolve) => {
    execFile(
      python,
      ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)'],
      { timeout: 30_000, windowsHide: true, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (stderr.trim().split('\n').pop() ?? err.message);
          resolve({ ok: false, name: 'PythonNotFound', message: `The Python interpreter "${python}" could not be started (${why}). ${HOW_TO_CHOOSE}` });
          return;
        }
        const [version = '', executable = python] = stdout.trim().split('\n');
        const [major, minor] = version.split('.').map(Number);
        if (!(major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]))) {
          resolve({
            ok: false,
            name: 'PythonTooOld',
            message: `The Python interpreter "${python}" is Python ${version || 'of an unknown version'}; Loss Lens needs ${MIN_PYTHON.join('.')} or newer. ${HOW_TO_CHOOSE}`,
          });
          return;
        }
        resolve({ ok: true, executable: executable.trim(), version });
      },
    );
  });
}

/**
 * What the tfjs runner's scan gives, for a Python script: nothing to transpile or map (Python imports its own
 * modules), only the checks that it exists and that its interpreter starts. The engine's TypeScript/JavaScript
 * scan never looks at a .py file.
 */
export async function scanPython(scriptPath: string, python: string, runnerDir: string): Promise<ScanOk | PythonScanFailure> {
  const started = performance.now();
  let stat: fs.Stats | null = null;
  try {
    stat = fs.statSync(scriptPath);
  } catch {
    // missing: said below
  }
  if (!stat?.isFile()) return { ok: false, missing: true, errors: [{ message: `${stat ? 'Not a file' : 'No such file'}: ${scriptPath}`, source: null }] };
  const check = await checkPython(python, runnerDir);
  if (!check.ok) return { ok: false, missing: false, errors: [], launchError: { name: check.name, message: check.message } };
  return {
    ok: true,
    tfjsImports: [],
    userFiles: [scriptPath],
    readFiles: [scriptPath],
    transpiled: {},
    requiredEsm: {},
    notices: [],
    scanMs: performance.now() - started,
  };
}

export interface PythonScanFailure extends ScanFailure {
  /** The interpreter (or the runner package) is not usable: a build error naming it. */
  launchError?: { name: string; message: string };
}
