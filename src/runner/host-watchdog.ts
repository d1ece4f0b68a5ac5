/**
 * A worker thread of the runner, built to dist/host-watchdog.js: notices within a poll when the host is gone
 * (the CLI was SIGKILLed, the extension host crashed) even while the script's main thread spins in a loop
 * that never yields. It then starts the reaper (detached, without the run's mark: it kills every process of
 * the run and removes the run's folder) and ends this process and its group at once.
 */
import { spawn } from 'node:child_process';
import { workerData } from 'node:worker_threads';

export interface WatchdogData {
  hostPid: number;
  /** process.ppid when the runner started: a change means the host died and we were re-parented. */
  parentPid: number;
  reaperPath: string;
  mark: string;
  markEnv: string;
  workDir: string;
  pollMs: number;
}

const d = workerData as WatchdogData;

function hostGone(): boolean {
  if (process.platform !== 'win32' && process.ppid !== d.parentPid) return true;
  try {
    process.kill(d.hostPid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const timer = setInterval(() => {
  if (!hostGone()) return;
  clearInterval(timer);
  const env = { ...process.env };
  delete env[d.markEnv];
  try {
    spawn(process.execPath, [d.reaperPath, d.mark, String(process.pid), d.workDir], { detached: true, stdio: 'ignore', env, windowsHide: true }).unref();
  } catch {
    // Nothing more to try: at least this process and its group go.
  }
  try {
    process.kill(process.platform === 'win32' ? process.pid : -process.pid, 'SIGKILL');
  } catch {
    process.kill(process.pid, 'SIGKILL');
  }
}, d.pollMs);
