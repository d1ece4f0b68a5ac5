import { describe, expect, it } from 'vitest';
import { decayPerStep, describeRegularizer } from '../../src/shared/analysis/decay';
import { formatCoefficient } from '../../src/shared/format';

const l2 = (l2: number, l1 = 0) => ({ className: 'L1L2', l1, l2 });
const sgd = (learningRate: number) => ({ className: 'SGD', config: { learningRate } });

describe('decayPerStep', () => {
  it('is 1 − 2·lr·l2 for plain SGD with the tfjs L2 penalty l2·Σw²', () => {
    expect(decayPerStep(sgd(0.1), l2(1e-3), true)).toBeCloseTo(1 - 2 * 0.1 * 1e-3, 12);
    expect(decayPerStep(sgd(50), l2(1e-3), true)).toBeCloseTo(0.9, 12);
  });
  it('is exactly 1 when the penalty never reaches the minimized loss', () => {
    expect(decayPerStep(sgd(0.1), l2(1e-3), false)).toBe(1);
  });
  it('does not apply to other optimizers, pure L1, custom regularizers or missing learning rates', () => {
    expect(decayPerStep({ className: 'Adam', config: { learningRate: 0.1 } }, l2(1e-3), true)).toBeUndefined();
    expect(decayPerStep({ className: 'Momentum', config: { learningRate: 0.1, momentum: 0.9 } }, l2(1e-3), true)).toBeUndefined();
    expect(decayPerStep(sgd(0.1), l2(0, 1e-3), true)).toBeUndefined();
    expect(decayPerStep(sgd(0.1), { className: 'MyReg', l1: 0, l2: 1e-3 }, true)).toBeUndefined();
    expect(decayPerStep({ className: 'SGD', config: {} }, l2(1e-3), true)).toBeUndefined();
    expect(decayPerStep(sgd(0.1), null, true)).toBeUndefined();
  });
});

describe('describing regularizers', () => {
  it('writes coefficients the way people write them', () => {
    expect(formatCoefficient(1e-3)).toBe('1e-3');
    expect(formatCoefficient(5e-4)).toBe('5e-4');
    expect(formatCoefficient(0.0025)).toBe('2.5e-3');
    expect(formatCoefficient(0.01)).toBe('0.01');
    expect(formatCoefficient(0.5)).toBe('0.5');
    expect(formatCoefficient(12345)).toBe('1.23e4');
  });
  it('names L1, L2, both, and custom classes', () => {
    expect(describeRegularizer(l2(1e-3))).toBe('L2 1e-3');
    expect(describeRegularizer(l2(1e-3, 1e-4))).toBe('L1 1e-4 + L2 1e-3');
    expect(describeRegularizer({ className: 'OrthogonalReg', l1: 0, l2: 0 })).toBe('OrthogonalReg');
  });
});
