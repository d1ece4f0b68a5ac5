import { adaptiveThreadsStats } from 'tfjs-backend-wasm-training/api';
import { probeClock } from './probes/step/probe-clock';
import type { Tf } from './tfjs-internals';

/** Set to 1, the runner prints one `loss-lens perf {json}` line on stderr as the run ends (for the benches). */
export const PERF_ENV = 'LOSS_LENS_PERF';

export function perfReportLine(tf: Tf | null, steps: number): string {
  const threads = tf ? adaptiveThreadsStats(tf) : null;
  return `loss-lens perf ${JSON.stringify({ steps, probeMs: probeClock.ms, probeSections: probeClock.sections, probeMsBySection: probeClock.bySection, decayMsPerUpdate: probeClock.decayPerUpdate, threads })}\n`;
}
