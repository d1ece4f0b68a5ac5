import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { descendantsOf, readRecorded, record, startTimeOf, stillAlive } from '../../src/engine/descendants';
import { runMembers } from '../../src/engine/kill-tree';
import { ownCgroupDir, RunCgroup } from '../../src/engine/run-cgroup';
import { eventually, isAlive } from '../helpers/process-state';

function fakeProc(mountinfo: string, cgroup: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-proc-self-'));
  fs.writeFileSync(path.join(dir, 'mountinfo'), mountinfo);
  fs.writeFileSync(path.join(dir, 'cgroup'), cgroup);
  return dir;
}

describe("the run's cgroup v2", () => {
  it('finds our cgroup folder from mountinfo and /proc/self/cgroup: hybrid mounts, a namespaced subtree, escaped paths, none', () => {
    const hybrid = fakeProc(
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n',
      '4:memory:/x\n0::/user.slice/app.scope\n',
    );
    expect(ownCgroupDir(hybrid)).toEqual({ dir: '/sys/fs/cgroup/unified/user.slice/app.scope' });
    // A container sees a subtree mounted at /sys/fs/cgroup with its own root.
    const sub = fakeProc('50 40 0:30 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n', '0::/docker/abc/inner\n');
    expect(ownCgroupDir(sub)).toEqual({ dir: '/sys/fs/cgroup/inner' });
    const spaced = fakeProc('50 40 0:30 / /mnt/c\\040g rw - cgroup2 none rw\n', '0::/\n');
    expect(ownCgroupDir(spaced)).toEqual({ dir: '/mnt/c g' });
    expect(ownCgroupDir(fakeProc('32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n', '1:cpu:/\n'))).toEqual({ reason: 'no cgroup v2 hierarchy for this process' });
    expect(ownCgroupDir(fakeProc('32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n', '0::/\n'))).toEqual({ reason: 'no cgroup v2 mount' });
  });

  it('on this machine: a process joined to it (and its children) is killed with it, and the folder goes', async () => {
    const cgroup = RunCgroup.create(`test${process.pid}${Date.now().toString(16)}`.replace(/[^0-9a-f]/g, 'a'));
    expect(typeof cgroup, String(cgroup)).toBe('object');
    const c = cgroup as RunCgroup;
    // The shell waits for a line, so its background child is forked only after the join.
    const child = spawn('sh', ['-c', 'read x; sleep 600 & exec sleep 600'], { stdio: ['pipe', 'ignore', 'ignore'] });
    expect(c.join(child.pid!)).toBe(true);
    child.stdin!.end('go\n');
    expect(await eventually(() => c.members().length === 2)).toBe(true);
    const members = c.members();
    expect(await c.killAndRemove()).toEqual([]);
    expect(members.every((pid) => !isAlive(pid))).toBe(true);
    expect(fs.existsSync(c.dir)).toBe(false);
  });
});

describe('the descendant record (no cgroup)', () => {
  it('records descendants with their start time; a pid whose start time differs (reused) is not the same process', async () => {
    const child = spawn('sh', ['-c', 'sleep 600 & wait'], { stdio: 'ignore' });
    // The shell and its sleep: the walk from this process finds both; from the shell, the sleep.
    expect(await eventually(() => descendantsOf(child.pid!).length === 1)).toBe(true);
    const ours = descendantsOf(process.pid).map((e) => e.pid);
    expect(ours).toContain(child.pid);
    expect(ours).toContain(descendantsOf(child.pid!)[0].pid);
    const seen = [{ pid: child.pid!, start: startTimeOf(child.pid!)! }, ...descendantsOf(child.pid!)];
    expect(seen[0].start).toMatch(/^\d+$/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-record-'));
    const file = path.join(dir, 'descendants');
    record(file, new Set(), seen);
    const recorded = readRecorded(file);
    expect(recorded).toEqual(seen);
    expect(stillAlive(recorded).sort()).toEqual(seen.map((e) => e.pid).sort());
    expect(stillAlive(recorded.map((e) => ({ ...e, start: `${Number(e.start) + 1}` })))).toEqual([]);
    for (const e of seen) process.kill(e.pid, 'SIGKILL');
    expect(await eventually(() => stillAlive(recorded).length === 0)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('killTree takes recorded processes and their descendants, unmarked and re-parented as they are', () => {
    const table = [
      { pid: 100, ppid: 1, pgid: 100, marked: false }, // the host
      { pid: 600, ppid: 1, pgid: 600, marked: false }, // recorded: env -i, setsid, re-parented
      { pid: 601, ppid: 600, pgid: 600, marked: false }, // its child
      { pid: 700, ppid: 1, pgid: 700, marked: false }, // someone else's
    ];
    expect(runMembers(table, { mark: 'a'.repeat(32), selfPid: 100 }, [600])).toEqual([600, 601]);
  });
});
