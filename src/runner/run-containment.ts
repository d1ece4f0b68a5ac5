/**
 * The runner's side of keeping the run contained (the host's side: src/engine/containment.ts). With a cgroup,
 * the runner joins it before any user code runs. Without one (Linux), the run's descendants are recorded as
 * `pid starttime` lines in the run's folder while they are still the runner's descendants: by the watchdog
 * thread every poll and by the main thread as the process exits, so a child that cleared its environment and
 * was re-parented when the runner exited is still found. The engine cannot be imported here (each runtime
 * stands alone), so the few lines of /proc reading are this file's own; the format is the engine's
 * (src/engine/descendants.ts reads it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Moves this process into the run's cgroup; false when there is none or the kernel refused. */
export function joinCgroup(dir: string | null): boolean {
  if (!dir || process.platform !== 'linux') return false;
  try {
    // "0" is the writing process itself, with all its threads.
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), '0');
    return true;
  } catch {
    return false;
  }
}

const known = new Set<string>();

/** Appends this process's descendants not recorded yet to `file` (Linux; elsewhere there is no /proc). */
export function recordDescendants(file: string, rootPid = process.pid): void {
  if (process.platform !== 'linux') return;
  const fresh: string[] = [];
  const seen = new Set<number>([rootPid]);
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    for (const child of childrenOf(pid)) {
      if (seen.has(child)) continue;
      seen.add(child);
      queue.push(child);
      const start = startTimeOf(child);
      const line = `${child} ${start}`;
      if (start !== null && !known.has(line)) {
        known.add(line);
        fresh.push(`${line}\n`);
      }
    }
  }
  if (fresh.length === 0) return;
  try {
    fs.appendFileSync(file, fresh.join(''), { mode: 0o600 });
  } catch {
    // The run's folder is gone: the host already cleaned up.
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
    } catch {
      // The thread or the process is gone.
    }
  }
  return out;
}

function startTimeOf(pid: number): string | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}
