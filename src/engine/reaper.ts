/**
 * `node reaper.js <mark> <runnerPid> <workDir>`: started (detached, without the run's mark) by the runner's host
 * watchdog when the host died (the CLI got SIGKILL, the extension host crashed). Nobody is left to clean up, so
 * this does what the host would have done: kill every process of the run, then remove its private folder.
 */
import * as fs from 'node:fs';
import { killTree } from './kill-tree';

async function main(): Promise<void> {
  const [mark, runnerPid, workDir] = process.argv.slice(2);
  if (!mark || !runnerPid) {
    process.stderr.write('usage: reaper <mark> <runnerPid> <workDir>\n');
    process.exitCode = 2;
    return;
  }
  await killTree({ mark, rootPid: Number(runnerPid), groupId: Number(runnerPid), selfPid: process.pid }, { graceMs: 0, deadlineMs: 10_000 });
  if (workDir && /loss-lens-/.test(workDir)) fs.rmSync(workDir, { recursive: true, force: true });
}

void main();
