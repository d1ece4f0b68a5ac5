/**
 * `node reaper.js <mark> <runnerPid> <workDir> [<cgroupDir>]`: started (detached, without the run's mark) by the
 * runner's host watchdog when the host died (the CLI got SIGKILL, the extension host crashed). Nobody is left to
 * clean up, so this does what the host would have done: leave the run's cgroup (it was started from inside it),
 * kill every process of the run (the cgroup, the mark, the runner's group, the recorded descendants), remove
 * the cgroup and the run's private folder.
 */
import * as fs from 'node:fs';
import { Containment } from './containment';

async function main(): Promise<void> {
  const [mark, runnerPid, workDir, cgroupDir] = process.argv.slice(2);
  if (!mark || !runnerPid || !workDir) {
    process.stderr.write('usage: reaper <mark> <runnerPid> <workDir> [<cgroupDir>]\n');
    process.exitCode = 2;
    return;
  }
  const containment = Containment.forReaper(workDir, cgroupDir || undefined);
  await containment.kill({ mark, rootPid: Number(runnerPid), groupId: Number(runnerPid), selfPid: process.pid }, { graceMs: 0, deadlineMs: 10_000 });
  if (/loss-lens-/.test(workDir)) fs.rmSync(workDir, { recursive: true, force: true });
}

void main();
