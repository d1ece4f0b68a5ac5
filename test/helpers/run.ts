import * as path from 'node:path';
import { runScript, type RunOptions, type RunOutcome } from '../../src/engine/run-script';
import { FIXTURES } from './events';

export const ROOT = path.resolve(__dirname, '..', '..');
export const RUNNER = path.join(ROOT, 'dist', 'runner.js');

export function fixtureScript(name: string): string {
  return path.join(FIXTURES, 'scripts', name);
}

/** Run a script through the real engine (bundle → runner child process → report), as the CLI does. */
export async function analyze(
  script: string,
  options: Partial<RunOptions> = {},
): Promise<RunOutcome & { output: string; mark: string | null; pid: number | null }> {
  let output = '';
  let mark: string | null = null;
  let pid: number | null = null;
  const outcome = await runScript({
    scriptPath: script,
    steps: 20,
    timeoutSeconds: 60,
    backend: 'auto',
    runnerPath: RUNNER,
    toolVersion: 'test',
    cwd: ROOT,
    onOutput: (_s, text) => {
      output += text;
    },
    ...options,
    onStarted: (control) => {
      mark = control.mark;
      pid = control.pid ?? null;
      options.onStarted?.(control);
    },
  });
  return { ...outcome, output, mark, pid };
}

export { eventually, isAlive, processesWithMark } from './process-state';
