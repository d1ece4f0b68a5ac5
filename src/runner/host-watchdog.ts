/**
 * A worker thread of the runner, built to dist/host-watchdog.js: notices within a poll when the host is gone,
 * even while the script's main thread spins in a loop that never yields, and then takes the run down.
 */
import { workerData } from 'node:worker_threads';
import { hostGone, reapRun, type HostWatch } from './host-gone';

const watch = workerData as HostWatch;
const timer = setInterval(() => {
  if (!hostGone(watch)) return;
  clearInterval(timer);
  reapRun(watch);
}, watch.pollMs);
