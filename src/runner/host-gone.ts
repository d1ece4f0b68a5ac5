/**
 * What the runner does when its host is gone (the CLI was SIGKILLed, the extension host crashed): nobody is
 * left to stop the run, so it starts the reaper (detached, without the run's mark: it kills every process of
 * the run and removes the run's folder) and ends itself and its process group at once. Used by the watchdog
 * thread and by the main thread when a write to the channel finds nobody reading.
 */
import { spawn } from 'node:child_process';

export interface HostWatch {
  hostPid: number;
  /** process.ppid when the runner started: a change means the host died and the runner was re-parented. */
  parentPid: number;
  reaperPath: string;
  mark: string;
  markEnv: string;
  workDir: string;
  pollMs: number;
  /** The run's cgroup (the reaper leaves it, kills it and removes it), or null. */
  cgroup: string | null;
  /** The polite stop's folder: a `stop` file appearing there asks the runner to end (see RUN_FILES). */
  controlDir: string;
  stopFile: string;
  /** Where the run's descendants are recorded each poll (no cgroup, Linux), or null. */
  recordFile: string | null;
}

export function hostGone(w: HostWatch): boolean {
  if (process.platform !== 'win32' && process.ppid !== w.parentPid) return true;
  try {
    process.kill(w.hostPid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function reapRun(w: HostWatch): never {
  const env = { ...process.env };
  delete env[w.markEnv];
  // The runner took the variable out of the script's environment; Electron's binary needs it to start as Node.
  if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1';
  try {
    const args = [w.reaperPath, w.mark, String(process.pid), w.workDir, ...(w.cgroup ? [w.cgroup] : [])];
    spawn(process.execPath, args, { detached: true, stdio: 'ignore', env, windowsHide: true }).unref();
  } catch {
    // Nothing more to try: at least this process and its group go.
  }
  try {
    process.kill(process.platform === 'win32' ? process.pid : -process.pid, 'SIGKILL');
  } catch {
    process.kill(process.pid, 'SIGKILL');
  }
  // SIGKILL is not handled: this line is never reached.
  throw new Error('unreachable');
}
