import { formatCoefficient } from '../format';
import type { OptimizerInfo, RegularizerInfo } from '../protocol/run-data';

/** tfjs class names (getClassName) of optimizers that rescale each gradient by its own history. */
export const ADAPTIVE_OPTIMIZERS = new Set(['Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta']);
export const PLAIN_SGD = 'SGD';

export function learningRateOf(optimizer: OptimizerInfo | undefined): number | null {
  const lr = optimizer?.config.learningRate;
  return typeof lr === 'number' ? lr : null;
}

/**
 * For plain SGD, the factor the penalty alone multiplies a weight by each step.
 * tfjs's L2 penalty is l2·Σw² (no ½), so its gradient is 2·l2·w and one step gives w·(1 − 2·lr·l2).
 * A penalty that never reaches the minimized loss decays nothing: the factor is exactly 1.
 * Undefined where no such factor exists (other optimizers, pure L1, custom regularizers).
 */
export function decayPerStep(
  optimizer: OptimizerInfo | undefined,
  regularizer: RegularizerInfo | null,
  reachesMinimizedLoss: boolean,
): number | undefined {
  if (!regularizer || regularizer.className !== 'L1L2' || regularizer.l2 === 0) return undefined;
  if (optimizer?.className !== PLAIN_SGD) return undefined;
  const lr = learningRateOf(optimizer);
  if (lr === null) return undefined;
  return reachesMinimizedLoss ? 1 - 2 * lr * regularizer.l2 : 1;
}

/** "L2 1e-3", "L1 1e-4 + L2 1e-3", or the class name of a custom regularizer. */
export function describeRegularizer(r: RegularizerInfo): string {
  if (r.className !== 'L1L2') return r.className;
  const parts: string[] = [];
  if (r.l1 !== 0) parts.push(`L1 ${formatCoefficient(r.l1)}`);
  if (r.l2 !== 0) parts.push(`L2 ${formatCoefficient(r.l2)}`);
  return parts.length ? parts.join(' + ') : 'L1L2 0';
}
