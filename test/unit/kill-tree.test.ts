import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { killTree, listLinux, listPs, parseProcStat, runMembers, type ProcessEntry, type ProcessSystem } from '../../src/engine/kill-tree';

const MARK = 'a'.repeat(32);

/** A process table that obeys signals: SIGKILL removes a process at once, SIGTERM unless it ignores it. */
function fakeSystem(platform: NodeJS.Platform, table: ProcessEntry[], opts: { ignoresTerm?: number[]; forksOnKill?: Record<number, ProcessEntry> } = {}) {
  let clock = 0;
  const live = new Map(table.map((p) => [p.pid, p]));
  const signals: Array<[number, string]> = [];
  const runs: Array<[string, string[]]> = [];
  const sys: ProcessSystem = {
    platform,
    list: () => [...live.values()],
    kill(pid, signal) {
      if (!live.has(pid)) throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' });
      signals.push([pid, signal]);
      const child = opts.forksOnKill?.[pid];
      if (child) {
        // Forks once while being killed: the new process must be found on the next look.
        delete opts.forksOnKill![pid];
        live.set(child.pid, child);
      }
      if (signal === 'SIGKILL' || !opts.ignoresTerm?.includes(pid)) live.delete(pid);
    },
    run: (file, args) => void runs.push([file, args]),
    sleep: async (ms) => void (clock += ms),
    now: () => clock,
  };
  return { sys, live, signals, runs };
}

const p = (pid: number, ppid: number, pgid: number, marked = false): ProcessEntry => ({ pid, ppid, pgid, marked });

describe('killTree', () => {
  it('finds every process of the run: marked ones, the runner group, and their descendants; never the host', () => {
    const table = [
      p(1, 0, 1),
      p(100, 1, 100), // the host
      p(200, 100, 200, true), // the runner, leads its group
      p(201, 200, 200, true), // a child in the group
      p(300, 1, 300, true), // setsid'd and re-parented to init, still marked
      p(301, 300, 300), // its child cleared its environment: found through its parent
      p(400, 1, 200), // a shell's background job left in the group, environment cleared
      p(500, 1, 500), // someone else's process
    ];
    expect(runMembers(table, { mark: MARK, rootPid: 200, groupId: 200, selfPid: 100 })).toEqual([200, 201, 300, 301, 400]);
    // After the runner exited its pid may belong to someone else: only the group and the mark count.
    const reused = [...table.filter((x) => x.pid !== 200), p(200, 1, 200)];
    expect(runMembers(reused, { mark: MARK, groupId: 200, selfPid: 100 })).toEqual([201, 300, 301, 400]);
    // The host is never a member, even when it carries the mark of an outer run.
    expect(runMembers([...table.slice(0, 1), p(100, 1, 100, true), ...table.slice(2)], { mark: MARK, rootPid: 200, groupId: 200, selfPid: 100 })).not.toContain(100);
  });

  it('Linux/macOS: SIGTERM, a grace period, SIGKILL for what ignored it, and again for what forked meanwhile', async () => {
    const table = [p(100, 1, 100), p(200, 100, 200, true), p(300, 1, 300, true), p(301, 300, 300, true)];
    for (const platform of ['linux', 'darwin'] as const) {
      const f = fakeSystem(platform, table, { ignoresTerm: [300], forksOnKill: { 300: p(302, 300, 300, true) } });
      const result = await killTree({ mark: MARK, rootPid: 200, groupId: 200, selfPid: 100 }, { graceMs: 100, system: f.sys });
      expect(result.survivors).toEqual([]);
      expect([...f.live.keys()]).toEqual([100]);
      expect(f.signals.filter(([, s]) => s === 'SIGTERM').map(([pid]) => pid)).toEqual([200, 300, 301]);
      expect(f.signals.filter(([, s]) => s === 'SIGKILL').map(([pid]) => pid)).toEqual([300, 302]);
    }
  });

  it('gives up at the deadline and names the survivors', async () => {
    const f = fakeSystem('linux', [p(200, 1, 200, true)]);
    f.sys.kill = () => {};
    const result = await killTree({ mark: MARK, rootPid: 200 }, { graceMs: 0, deadlineMs: 200, system: f.sys });
    expect(result.survivors).toEqual([200]);
  });

  it('Windows: taskkill /T /F on the runner', async () => {
    const f = fakeSystem('win32', []);
    await killTree({ mark: MARK, rootPid: 4242 }, { system: f.sys });
    expect(f.runs).toEqual([['taskkill', ['/T', '/F', '/PID', '4242']]]);
  });
});

describe('process listings', () => {
  it('reads /proc: ppid and pgid from stat (a command name with spaces and parentheses), the mark from environ', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'll-proc-'));
    const proc = (pid: number, comm: string, state: string, ppid: number, pgid: number, env: string[]) => {
      fs.mkdirSync(path.join(root, String(pid)));
      fs.writeFileSync(path.join(root, String(pid), 'stat'), `${pid} (${comm}) ${state} ${ppid} ${pgid} 1 0 -1 4194560`);
      fs.writeFileSync(path.join(root, String(pid), 'environ'), env.map((e) => `${e}\0`).join(''));
    };
    proc(10, 'node', 'S', 1, 10, ['PATH=/bin', `LOSS_LENS_RUN=${MARK}`]);
    proc(11, 'a (weird) name', 'R', 10, 10, [`LOSS_LENS_RUN=${MARK}`, 'HOME=/root']);
    proc(12, 'zombie', 'Z', 10, 10, []);
    proc(13, 'other', 'S', 1, 13, [`LOSS_LENS_RUN=${MARK}x`, `XLOSS_LENS_RUN=${MARK}`]);
    fs.mkdirSync(path.join(root, 'self'));
    try {
      expect(listLinux(MARK, root).sort((a, b) => a.pid - b.pid)).toEqual([p(10, 1, 10, true), p(11, 10, 10, true), p(13, 1, 13, false)]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    expect(parseProcStat('7 (x) y) S 3 4 5')).toEqual({ state: 'S', ppid: 3, pgid: 4 });
  });

  it('reads BSD ps output with the environment after the command (macOS)', () => {
    const out = [
      `  200   100   200 Ss   node /x/runner.js /tmp/init.json TERM=xterm LOSS_LENS_RUN=${MARK} PATH=/bin`,
      `  300     1   300 S    sleep 1000 LOSS_LENS_RUN=${MARK}`,
      `  301   300   300 Z    (sleep)`,
      `  400     1   400 S    sleep 1000 LOSS_LENS_RUN=${MARK}0`,
      '',
    ].join('\n');
    expect(listPs(MARK, out)).toEqual([p(200, 100, 200, true), p(300, 1, 300, true), p(400, 1, 400, false)]);
  });
});
