import { describe, expect, it } from 'vitest';
import { NormSchedule } from '../../src/runner/probes/decay/weight-stats';

describe('when weight norms are measured', () => {
  it('measures every step while that stays under 1% of a step', () => {
    const s = new NormSchedule(0.01, 3);
    s.stepTook(300);
    s.measured(1, 0.2);
    expect(s.stride()).toBe(1);
    expect([4, 5, 6].every((step) => s.shouldMeasure(step, false, true))).toBe(true);
  });

  it('spaces measurements on fast steps, but always measures the first steps, the last and non-finite ones', () => {
    const s = new NormSchedule(0.01, 3);
    for (let step = 1; step <= 3; step++) {
      expect(s.shouldMeasure(step, false, true)).toBe(true);
      s.measured(step, 0.25);
      s.stepTook(8);
    }
    expect(s.stride()).toBe(Math.ceil(0.25 / (0.01 * 8)));
    expect(s.shouldMeasure(4, false, true)).toBe(false);
    expect(s.shouldMeasure(4, false, false)).toBe(true);
    expect(s.shouldMeasure(5, true, true)).toBe(true);
    expect(s.shouldMeasure(3 + s.stride(), false, true)).toBe(true);
  });
});
