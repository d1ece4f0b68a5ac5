/**
 * The visible step range of the curves, as pure functions: the whole run, and a zoomed range kept inside
 * it (at least 2 steps wide). A range that covers the whole run is null: "follow the run".
 */
export type StepDomain = [number, number];

export function fullRange(steps: ArrayLike<number>): StepDomain | null {
  if (steps.length === 0) return null;
  const first = steps[0];
  const last = steps[steps.length - 1];
  return first === last ? [first - 0.5, last + 0.5] : [first, last];
}

export function clampDomain(d: StepDomain | null, full: StepDomain | null): StepDomain | null {
  if (!d || !full) return d;
  const span = Math.max(2, Math.min(d[1] - d[0], full[1] - full[0]));
  let a = Math.max(full[0], d[0]);
  let b = a + span;
  if (b > full[1]) {
    b = full[1];
    a = b - span;
  }
  return a <= full[0] && b >= full[1] ? null : [a, b];
}

/** Zoom by `factor` around a step: 0.5 halves the visible span. */
export function zoomDomain(d: StepDomain, factor: number, around: number): StepDomain {
  return [around + (d[0] - around) * factor, around + (d[1] - around) * factor];
}
