import * as fs from 'node:fs';
import * as path from 'node:path';
import { descendantsOf, readRecorded, record, recordFile, stillAlive } from './descendants';
import { killTree, type KillOptions, type KillResult, type KillTarget } from './kill-tree';
import { membersOf, RunCgroup } from './run-cgroup';

/** `auto`: a cgroup where the platform gives one, else the mark; `mark`: the mark and descendant record only. */
export type ContainmentMode = 'auto' | 'mark';

/**
 * How one run is kept together, so that nothing of it outlives the run: the strongest means the platform gives
 * without root, chosen once when the run starts and named in the report's notices.
 *
 * - Linux with a writable cgroup v2 (root, or a delegated cgroup): the run's own cgroup (run-cgroup.ts). The
 *   runner is moved into it right after it is spawned, before Node has even started, and joins it again itself
 *   before user code; a stop kills the whole cgroup at once.
 * - Linux otherwise: the mark every process inherits (LOSS_LENS_RUN), the runner's group and descendants, and
 *   the descendants recorded while the runner lived (descendants.ts), for a child with an environment of its
 *   own that the runner's exit re-parented.
 * - macOS: the mark (`ps -E`) and the runner's group and descendants. Windows: `taskkill /T` on its tree.
 *
 * A PID namespace (`unshare --pid`) was not chosen: the script would see itself as pid 1 (and, unprivileged,
 * root under --map-root-user), which `node script.js` never does.
 */
export class Containment {
  private readonly known = new Set<string>();

  private constructor(
    private readonly workDir: string,
    private cgroup: RunCgroup | null,
    private why: string,
    /** A cgroup the reaper could not leave: its members are killed one by one (never the reaper). */
    private readonly stuckIn: string | null = null,
  ) {}

  static prepare(mark: string, workDir: string, mode: ContainmentMode = 'auto'): Containment {
    if (mode === 'mark') return new Containment(workDir, null, 'a cgroup was not asked for');
    const made = RunCgroup.create(mark);
    return typeof made === 'string' ? new Containment(workDir, null, made) : new Containment(workDir, made, '');
  }

  /** The cgroup folder the runner joins (init.json), or null. */
  get cgroupDir(): string | null {
    return this.cgroup?.dir ?? null;
  }

  /** Right after spawn: the runner goes into the cgroup. If the kernel refuses, the mark and the record take over. */
  adopt(pid: number | undefined): void {
    if (!this.cgroup || pid === undefined) return;
    if (this.cgroup.join(pid)) return;
    const dir = this.cgroup.dir;
    this.cgroup = null;
    this.why = `could not move the runner into ${dir}`;
    try {
      fs.rmdirSync(dir);
    } catch {
      // Left for the reaper of this machine's administrator: an empty cgroup costs nothing.
    }
  }

  /** What the report says about it. */
  notice(): string {
    if (this.cgroup) return `Containment: cgroup v2 (${this.cgroup.dir}): every process the script started was in it, and went with it.`;
    if (process.platform === 'win32') return "Containment: the runner's process tree (taskkill /T); a child whose parent already exited is out of its reach.";
    if (process.platform === 'darwin') return "Containment: process mark (LOSS_LENS_RUN, from ps -E) and the runner's process group and descendants.";
    return `Containment: process mark (LOSS_LENS_RUN) and descendant walk; no cgroup: ${this.why}.`;
  }

  /** Before a stop begins, while the runner still lives: its descendants now, so its exit cannot hide them. */
  recordNow(rootPid: number | undefined): void {
    if (this.cgroup || rootPid === undefined || process.platform !== 'linux') return;
    record(recordFile(this.workDir), this.known, descendantsOf(rootPid));
  }

  /**
   * Ends every process of the run: the cgroup (SIGTERM to its members, then `cgroup.kill` after `graceMs`) and
   * its folder, then killTree for the mark, the group and whatever was recorded, as a sweep.
   */
  async kill(target: Omit<KillTarget, 'recorded'>, options: KillOptions): Promise<KillResult> {
    const cgroupSurvivors = this.cgroup ? await killCgroup(this.cgroup, options.graceMs ?? 0) : [];
    const file = recordFile(this.workDir);
    const stuckIn = this.stuckIn;
    const recorded = () => [...stillAlive(readRecorded(file)), ...(stuckIn ? membersOf(stuckIn) : [])];
    const result = await killTree({ ...target, recorded }, options);
    if (stuckIn) RunCgroup.at(stuckIn)?.removeIfEmpty();
    return { killed: result.killed, survivors: [...new Set([...cgroupSurvivors, ...result.survivors])] };
  }

  /**
   * The reaper's containment: the run's host is gone, the reaper was started from inside the run (its cgroup,
   * if any). It leaves the cgroup first, or it would kill itself with it.
   */
  static forReaper(workDir: string, cgroupDir: string | undefined): Containment {
    const cgroup = cgroupDir ? RunCgroup.at(cgroupDir) : null;
    if (cgroup) {
      try {
        fs.writeFileSync(path.join(path.dirname(cgroup.dir), 'cgroup.procs'), '0');
      } catch {
        // Cannot leave: kill the members one by one instead (never this process).
        return new Containment(workDir, null, 'the reaper could not leave it', cgroup.dir);
      }
    }
    return new Containment(workDir, cgroup, '');
  }
}

async function killCgroup(cgroup: RunCgroup, graceMs: number): Promise<number[]> {
  if (graceMs > 0) {
    for (const pid of cgroup.members()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
    const until = performance.now() + graceMs;
    while (performance.now() < until && cgroup.members().length > 0) await new Promise((r) => setTimeout(r, 20));
  }
  return cgroup.killAndRemove();
}
