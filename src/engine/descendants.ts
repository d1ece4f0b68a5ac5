import * as fs from 'node:fs';
import * as path from 'node:path';
import { RUN_FILES } from '../shared/protocol/runner-protocol';

/**
 * The run's descendants as they were seen while the runner lived (Linux, where no cgroup contains the run). A
 * child that cleared its environment carries no mark, and once the runner exits it is re-parented and no
 * longer anyone's descendant: only a record made earlier still finds it. The runner's watchdog thread records
 * its descendants every poll and the runner once more as it exits; the host records them just before a stop.
 * A record is `pid starttime` (field 22 of /proc/<pid>/stat), so a pid the system reused is left alone.
 */
export interface RecordedProcess {
  pid: number;
  start: string;
}

/** Every descendant of `rootPid` now, by the kernel's children lists (no scan of all of /proc). */
export function descendantsOf(rootPid: number, proc = '/proc'): RecordedProcess[] {
  const out: RecordedProcess[] = [];
  const seen = new Set<number>([rootPid]);
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    for (const child of childrenOf(pid, proc)) {
      if (seen.has(child)) continue;
      seen.add(child);
      queue.push(child);
      const start = startTimeOf(child, proc);
      if (start !== null) out.push({ pid: child, start });
    }
  }
  return out;
}

function childrenOf(pid: number, proc: string): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`${proc}/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of fs.readFileSync(`${proc}/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
    } catch {
      // The thread or the process is gone.
    }
  }
  return out;
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot): with the pid, it names one process for good. */
export function startTimeOf(pid: number, proc = '/proc'): string | null {
  let text: string;
  try {
    text = fs.readFileSync(`${proc}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // After `pid (comm) `: state is field 3, so starttime (22) is the 20th field after the comm.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

export function recordFile(workDir: string): string {
  return path.join(workDir, RUN_FILES.descendants);
}

/** Appends the processes not recorded yet. */
export function record(file: string, known: Set<string>, entries: RecordedProcess[]): void {
  const fresh = entries.filter((e) => !known.has(`${e.pid} ${e.start}`));
  if (fresh.length === 0) return;
  for (const e of fresh) known.add(`${e.pid} ${e.start}`);
  try {
    fs.appendFileSync(file, fresh.map((e) => `${e.pid} ${e.start}\n`).join(''), { mode: 0o600 });
  } catch {
    // The run's folder is gone: the run is over.
  }
}

export function readRecorded(file: string): RecordedProcess[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: RecordedProcess[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (m) out.push({ pid: Number(m[1]), start: m[2] });
  }
  return out;
}

/** Recorded processes that are still the same processes (same pid, same start time) and not zombies. */
export function stillAlive(entries: RecordedProcess[], proc = '/proc'): number[] {
  const out = new Set<number>();
  for (const e of entries) {
    if (startTimeOf(e.pid, proc) !== e.start) continue;
    let stat = '';
    try {
      stat = fs.readFileSync(`${proc}/${e.pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const state = stat[stat.lastIndexOf(')') + 2];
    if (state !== 'Z' && state !== 'X') out.add(e.pid);
  }
  return [...out];
}
