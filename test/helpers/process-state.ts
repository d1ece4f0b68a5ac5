import * as fs from 'node:fs';
import { listLinux } from '../../src/engine/kill-tree';

/** True while the process exists and is not a zombie (killed, waiting for a parent that may never reap it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A process as it was when seen: its pid and its start time (field 22 of /proc/<pid>/stat). A full test run starts
 * so many processes and threads (tfjs-node's thread pools take pids too) that pid_max (32,768 here) wraps within a
 * run, and a dead helper's pid soon names another process, or a thread of one: only the pair identifies it.
 */
export interface SeenProcess {
  pid: number;
  start: string | null;
}

export function seen(pid: number): SeenProcess {
  return { pid, start: startTimeOf(pid) };
}

function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** True while that very process lives (not a zombie, and its pid not reused since it was seen). */
export function stillAlive(p: SeenProcess): boolean {
  return isAlive(p.pid) && (p.start === null || startTimeOf(p.pid) === p.start);
}

/** Every live process that carries a run's mark in its environment: none may be left after the run. */
export function processesWithMark(mark: string): number[] {
  return listLinux(mark)
    .filter((p) => p.marked)
    .map((p) => p.pid);
}

/** Waits until `done()` holds, polling; false if it never did within `limitMs` (a hang guard, not a timing check). */
export async function eventually(done: () => boolean, limitMs = 30_000): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    if (done()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return done();
}

/** Every live process whose command line holds `token` (found without the run's mark). */
/**
 * The helpers a lifecycle fixture started: processes with an argument that starts with `<token>-`. Unlike
 * processesWithToken, not the double fork's short-lived shell, whose -c string merely mentions the token.
 */
export function helpersWithToken(token: string): number[] {
  return processesWithToken(token).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.startsWith(`${token}-`));
    } catch {
      return false;
    }
  });
}

export function processesWithToken(token: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(token) && isAlive(Number(name))) out.push(Number(name));
  }
  return out;
}
