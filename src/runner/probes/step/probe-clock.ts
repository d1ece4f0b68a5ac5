/**
 * The probes' own time inside the training steps: `performance.now()` around each stretch of probe
 * code on the step path (not the user's function, not tfjs's gradient work they wrap). Machine
 * noise barely moves it, unlike a paired steps/s ratio. Printed on stderr at the end of a run when
 * LOSS_LENS_PERF=1 (see ../../perf-report.ts).
 */
/**
 * Where the time goes: the step hook before the user's function, right after it, after the gradients, the penalty
 * reads, and the effective-decay measurement around each update (its shadows and sample reads).
 */
export type ProbeSection = 'before' | 'afterLoss' | 'afterStep' | 'penalties' | 'decay';

export class ProbeClock {
  ms = 0;
  sections = 0;
  readonly bySection: Record<ProbeSection, number> = { before: 0, afterLoss: 0, afterStep: 0, penalties: 0, decay: 0 };

  /** Per update, the effective-decay probe's time around it (kept only for the perf report: LOSS_LENS_PERF=1). */
  readonly decayPerUpdate: number[] = [];
  readonly keepSamples = process.env.LOSS_LENS_PERF === '1';

  /** Adds the time since `started` (a `performance.now()` reading). */
  add(started: number, section: ProbeSection): void {
    const ms = performance.now() - started;
    this.ms += ms;
    this.bySection[section] += ms;
    this.sections++;
  }
}

export const probeClock = new ProbeClock();
