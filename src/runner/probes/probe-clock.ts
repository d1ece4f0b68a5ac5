/**
 * The probes' own time inside the training steps: `performance.now()` around each stretch of probe
 * code on the step path (not the user's function, not tfjs's gradient work they wrap). Machine
 * noise barely moves it, unlike a paired steps/s ratio. Printed on stderr at the end of a run when
 * LOSS_LENS_PERF=1 (see ../perf-report.ts).
 */
export class ProbeClock {
  ms = 0;
  sections = 0;

  /** Adds the time since `started` (a `performance.now()` reading). */
  add(started: number): void {
    this.ms += performance.now() - started;
    this.sections++;
  }
}

export const probeClock = new ProbeClock();
