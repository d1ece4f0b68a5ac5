import * as fs from 'node:fs';
import * as path from 'node:path';
import { runScript, type RunOptions, type RunOutcome } from '../../src/host/run/run-session';
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
): Promise<RunOutcome & { output: string }> {
  let output = '';
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
  });
  return { ...outcome, output };
}

/** True while the process exists and is not a zombie (killed, waiting for a parent that may never reap it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
