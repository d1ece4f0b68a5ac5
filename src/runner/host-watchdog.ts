/**
 * A worker thread of the runner, built to dist/host-watchdog.js. It keeps working while the script's main
 * thread spins in a loop that never yields:
 * - notices within a poll when the host is gone, and then takes the run down (host-gone.ts);
 * - notices the host's polite stop (a file in the run's private folder: fs.watch, and each poll in case the
 *   platform's watcher missed it) and forwards it to the main thread, which writes the end event and exits
 *   (a main thread stuck in a synchronous loop never gets to it: the host SIGKILLs it after a grace period);
 * - without a cgroup, records the run's descendants each poll (run-containment.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { hostGone, reapRun, type HostWatch } from './host-gone';
import { recordDescendants } from './run-containment';

const watch = workerData as HostWatch;
const stopPath = path.join(watch.controlDir, watch.stopFile);
let stopSent = false;

function checkStop(): void {
  if (stopSent || !fs.existsSync(stopPath)) return;
  stopSent = true;
  parentPort?.postMessage({ lossLensStop: true });
}

try {
  fs.watch(watch.controlDir, { persistent: false }, () => checkStop()).on('error', () => {});
} catch {
  // No watcher here (or the folder is gone): the poll still sees the file.
}
checkStop();

const timer = setInterval(() => {
  if (hostGone(watch)) {
    clearInterval(timer);
    if (watch.recordFile) recordDescendants(watch.recordFile);
    reapRun(watch);
  }
  if (watch.recordFile) recordDescendants(watch.recordFile);
  checkStop();
}, watch.pollMs);
