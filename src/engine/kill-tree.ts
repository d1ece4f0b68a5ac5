import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Ends every process of a run, whatever the script did to escape: `detached: true`, `setsid`, a shell's
 * background job, a daemon that double-forked to init. One entry point, one branch per platform:
 *
 * - Linux: every process whose environment carries the run's mark (`LOSS_LENS_RUN=<mark>`, inherited from the
 *   runner), plus the runner's descendants and process group and the processes recorded as the run's while the
 *   runner lived (for a child that cleared its environment). Where the run has a cgroup (run-cgroup.ts), that
 *   comes first and this only sweeps up.
 * - macOS: the same, from `ps` (`-E` shows the environment of our own processes).
 * - Windows: `taskkill /T /F` on the runner's tree (parent links only: a child whose parent already exited is
 *   out of reach without a job object).
 *
 * Survivors are looked for again after each round, until none is left or the deadline passes.
 */

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** Carries the run's mark in its environment. */
  marked: boolean;
}

/** What killTree needs from the system; tests give it fakes for each platform. */
export interface ProcessSystem {
  platform: NodeJS.Platform;
  /** Live processes (zombies left out), with `marked` set for those carrying `mark`. POSIX only. */
  list(mark: string): ProcessEntry[];
  kill(pid: number, signal: NodeJS.Signals): void;
  /** Windows: run a program to completion (taskkill). */
  run(file: string, args: string[]): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface KillTarget {
  /** The run's mark (the value of LOSS_LENS_RUN). */
  mark: string;
  /** The runner's pid, while it lives: it and its descendants go (Windows: the tree taskkill walks). */
  rootPid?: number;
  /** The runner's process group (POSIX; it leads it): its members go too, even after the runner exited. */
  groupId?: number;
  /** Never killed, with its ancestors: the host (or reaper) doing the killing. */
  selfPid?: number;
  /**
   * Processes known to be the run's although they may carry no mark and descend from nobody of the run any
   * more (recorded while the runner lived: src/engine/descendants.ts); asked again each round.
   */
  recorded?: () => number[];
}

export interface KillOptions {
  /** SIGTERM first, then SIGKILL after this long (0: SIGKILL at once). */
  graceMs?: number;
  /** Give up after this long (then `survivors` is non-empty). */
  deadlineMs?: number;
  system?: ProcessSystem;
}

export interface KillResult {
  killed: number[];
  survivors: number[];
}

const POLL_MS = 25;

export async function killTree(target: KillTarget, options: KillOptions = {}): Promise<KillResult> {
  const sys = options.system ?? nodeProcessSystem();
  if (sys.platform === 'win32') return killWindowsTree(target, sys);
  const graceMs = options.graceMs ?? 500;
  const deadline = sys.now() + (options.deadlineMs ?? 5000);
  const killed = new Set<number>();
  const signalAll = (pids: number[], signal: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        sys.kill(pid, signal);
        killed.add(pid);
      } catch {
        // ESRCH: it is already gone. EPERM: not ours to kill (not a process of this run after all).
      }
    }
  };
  const look = () => runMembers(sys.list(target.mark), target, target.recorded?.() ?? []);
  let members = look();
  if (members.length === 0) return { killed: [], survivors: [] };
  if (graceMs > 0) {
    signalAll(members, 'SIGTERM');
    const until = Math.min(deadline, sys.now() + graceMs);
    while (sys.now() < until) {
      await sys.sleep(POLL_MS);
      members = look();
      if (members.length === 0) return { killed: [...killed], survivors: [] };
    }
  }
  // SIGKILL, and look again: a process may have forked between the listing and the kill.
  for (;;) {
    members = look();
    if (members.length === 0) return { killed: [...killed], survivors: [] };
    if (sys.now() >= deadline) return { killed: [...killed], survivors: members };
    signalAll(members, 'SIGKILL');
    await sys.sleep(POLL_MS);
  }
}

/** The processes of the run in a listing: marked ones, the root's group, recorded ones, and descendants of any of them. */
export function runMembers(all: ProcessEntry[], target: KillTarget, recorded: number[] = []): number[] {
  const protectedPids = new Set<number>();
  if (target.selfPid !== undefined) {
    // The killer and its ancestors are never part of the run, whatever their environment says.
    const byPid = new Map(all.map((p) => [p.pid, p]));
    for (let pid: number | undefined = target.selfPid; pid !== undefined && pid > 1 && !protectedPids.has(pid); pid = byPid.get(pid)?.ppid) {
      protectedPids.add(pid);
    }
  }
  const members = new Set<number>();
  const known = new Set(recorded);
  for (const p of all) {
    if (p.marked || known.has(p.pid) || p.pid === target.rootPid || (target.groupId !== undefined && p.pgid === target.groupId && p.pid !== target.groupId)) members.add(p.pid);
  }
  const children = new Map<number, number[]>();
  for (const p of all) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const queue = [...members];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (!members.has(child)) {
        members.add(child);
        queue.push(child);
      }
    }
  }
  return [...members].filter((pid) => !protectedPids.has(pid) && pid > 1).sort((a, b) => a - b);
}

function killWindowsTree(target: KillTarget, sys: ProcessSystem): KillResult {
  if (target.rootPid === undefined) return { killed: [], survivors: [] };
  try {
    sys.run('taskkill', ['/T', '/F', '/PID', String(target.rootPid)]);
  } catch {
    // Exit code 128: no such process (it already exited, and its tree with it or out of reach).
  }
  return { killed: [target.rootPid], survivors: [] };
}

// ---- the real system ---------------------------------------------------------------------------------------

export function nodeProcessSystem(platform: NodeJS.Platform = process.platform): ProcessSystem {
  return {
    platform,
    list: (mark) => (platform === 'linux' ? listLinux(mark) : listPs(mark, psOutput())),
    kill: (pid, signal) => process.kill(pid, signal),
    run: (file, args) => void execFileSync(file, args, { stdio: 'ignore', windowsHide: true }),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => performance.now(),
  };
}

/** /proc: the stat line for ppid, pgid and state; the environment block for the mark. */
export function listLinux(mark: string, procRoot = '/proc'): ProcessEntry[] {
  const needle = Buffer.from(`LOSS_LENS_RUN=${mark}\0`);
  const out: ProcessEntry[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = parseProcStat(readOrNull(`${procRoot}/${name}/stat`));
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    const env = readBufferOrNull(`${procRoot}/${name}/environ`);
    const marked = env !== null && (env.indexOf(needle) === 0 || env.indexOf(Buffer.concat([Buffer.from([0]), needle])) >= 0);
    out.push({ pid: Number(name), ppid: stat.ppid, pgid: stat.pgid, marked });
  }
  return out;
}

/** `pid (comm) state ppid pgrp …`: comm may hold spaces and parentheses, so parse from the last ')'. */
export function parseProcStat(text: string | null): { state: string; ppid: number; pgid: number } | null {
  if (!text) return null;
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const [state, ppid, pgid] = text.slice(close + 2).split(' ');
  if (!state || ppid === undefined || pgid === undefined) return null;
  return { state, ppid: Number(ppid), pgid: Number(pgid) };
}

function psOutput(): string {
  try {
    return execFileSync('ps', ['-A', '-E', '-ww', '-o', 'pid=,ppid=,pgid=,stat=,command='], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return '';
  }
}

/** macOS (BSD) `ps -A -E -ww -o pid=,ppid=,pgid=,stat=,command=`: the environment follows the command. */
export function listPs(mark: string, output: string): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  const needle = `LOSS_LENS_RUN=${mark}`;
  for (const line of output.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s?(.*)$/.exec(line);
    if (!m) continue;
    if (m[4].startsWith('Z')) continue;
    const rest = m[5];
    const at = rest.indexOf(needle);
    const marked = at >= 0 && (rest.length === at + needle.length || /\s/.test(rest[at + needle.length]));
    out.push({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), marked });
  }
  return out;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function readBufferOrNull(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}
