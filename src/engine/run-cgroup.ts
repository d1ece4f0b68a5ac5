import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A cgroup v2 of the run's own (Linux): the strongest containment there is without root. Every process the
 * script starts stays in it, whatever it does to its environment, session or parent (`env -i`, `setsid`, a
 * double fork to init), and `cgroup.kill` ends them all at once. It is made under the host's own cgroup, which
 * must be writable by us: root, or a cgroup a systemd user instance delegated (a desktop session's app scope).
 * No controller is enabled, so nothing is limited, only grouped. Elsewhere (cgroup v1 only, a read-only
 * /sys/fs/cgroup in a container, macOS, Windows) `RunCgroup.create` says why not and the run falls back to the
 * process mark and the descendant walk.
 */
export class RunCgroup {
  private constructor(readonly dir: string) {}

  /** Makes `<host's cgroup>/loss-lens-<mark>`; a string says why it could not. */
  static create(mark: string, proc = '/proc/self'): RunCgroup | string {
    if (process.platform !== 'linux') return `not Linux`;
    const own = ownCgroupDir(proc);
    if ('reason' in own) return own.reason;
    const parent = own.dir;
    const dir = path.join(parent, `loss-lens-${mark}`);
    try {
      fs.mkdirSync(dir);
    } catch (err) {
      return `cannot make a cgroup under ${parent} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    return new RunCgroup(dir);
  }

  /** Moves a process (with all its threads) into the run's cgroup; false if the kernel refused. */
  join(pid: number): boolean {
    try {
      fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
      return true;
    } catch {
      return false;
    }
  }

  /** Pids in the run's cgroup and in any cgroup the script made below it. */
  members(): number[] {
    return membersOf(this.dir);
  }

  /**
   * SIGKILL to every process in it at once (`cgroup.kill`, Linux ≥ 5.14; no process can fork in between), then
   * waits until it is empty and removes it. Before 5.14: freeze it, SIGKILL what it holds, thaw (the kills land).
   * Returns the pids still in it when `deadlineMs` ran out (none, normally).
   */
  async killAndRemove(deadlineMs = 5000): Promise<number[]> {
    const until = performance.now() + deadlineMs;
    if (!writeOrFalse(path.join(this.dir, 'cgroup.kill'), '1')) {
      const frozen = writeOrFalse(path.join(this.dir, 'cgroup.freeze'), '1');
      for (const pid of this.members()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      if (frozen) writeOrFalse(path.join(this.dir, 'cgroup.freeze'), '0');
    }
    for (;;) {
      // A killed process leaves its cgroup as it exits (before its parent reaps it); then the folders can go.
      if (this.members().length === 0 && removeTree(this.dir)) return [];
      if (performance.now() >= until) return this.members();
      if (!fs.existsSync(path.join(this.dir, 'cgroup.kill'))) {
        for (const pid of this.members()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Gone already.
          }
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Removes the folder if nothing is left in it. */
  removeIfEmpty(): boolean {
    return this.members().length === 0 && removeTree(this.dir);
  }

  /** The reaper's side: a run's cgroup by its folder (made by a host that is gone). */
  static at(dir: string): RunCgroup | null {
    return /\/loss-lens-[0-9a-f]+$/.test(dir) && fs.existsSync(path.join(dir, 'cgroup.procs')) ? new RunCgroup(dir) : null;
  }
}

/**
 * This process's cgroup v2 folder: the cgroup2 mount from mountinfo, joined with our path from
 * /proc/self/cgroup (`0::<path>`) relative to the mount's root (a container's cgroup namespace may mount a
 * subtree). A string says why there is none.
 */
export function ownCgroupDir(proc = '/proc/self'): { dir: string } | { reason: string } {
  let mountinfo: string;
  let cgroup: string;
  try {
    mountinfo = fs.readFileSync(path.join(proc, 'mountinfo'), 'utf8');
    cgroup = fs.readFileSync(path.join(proc, 'cgroup'), 'utf8');
  } catch {
    return { reason: 'no /proc' };
  }
  const own = /^0::(.*)$/m.exec(cgroup)?.[1];
  if (own === undefined) return { reason: 'no cgroup v2 hierarchy for this process' };
  for (const line of mountinfo.split('\n')) {
    // `id parent major:minor root mountpoint options [optional fields] - fstype source superoptions`
    const [left, right] = line.split(' - ');
    if (!right?.startsWith('cgroup2 ')) continue;
    const fields = left.split(' ');
    const root = unescapeMount(fields[3]);
    const mountPoint = unescapeMount(fields[4]);
    const rel = path.posix.relative(root, own);
    if (rel.startsWith('..')) continue;
    return { dir: path.join(mountPoint, rel) };
  }
  return { reason: 'no cgroup v2 mount' };
}

/** A cgroup folder's processes, its sub-cgroups' included. */
export function membersOf(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    let text = '';
    try {
      text = fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) if (line) out.push(Number(line));
    for (const e of safeReaddir(d)) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(dir);
  return out;
}

/** cgroup folders are removed with rmdir, children first (their control files cannot be unlinked). */
function removeTree(dir: string): boolean {
  for (const e of safeReaddir(dir)) if (e.isDirectory()) removeTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function writeOrFalse(file: string, text: string): boolean {
  try {
    fs.writeFileSync(file, text);
    return true;
  } catch {
    return false;
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
