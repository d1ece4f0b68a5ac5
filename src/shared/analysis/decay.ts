import { formatCoefficient } from '../format';
import type { OptimizerInfo, PenaltyPiece, RegularizerInfo } from '../protocol/run-data';

/**
 * Class names of optimizers that rescale each gradient by its own history: tfjs's (getClassName), and Keras 3's
 * where they differ (the Python runner reports Keras's own names: RMSprop, AdamW, Nadam, ...).
 */
export const ADAPTIVE_OPTIMIZERS = new Set(['Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta', 'RMSprop', 'AdamW', 'Nadam', 'Adafactor', 'Lamb', 'Lion']);
export const PLAIN_SGD = 'SGD';
/** The className of a hand-written penalty's L1/L2 summary. */
export const HAND_WRITTEN = 'HandWritten';

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
  if (!regularizer || (regularizer.className !== 'L1L2' && regularizer.className !== HAND_WRITTEN) || regularizer.l2 === 0) return undefined;
  return weightDecayPerStep(optimizer, [{ l2: regularizer.l2, reaches: reachesMinimizedLoss }]);
}

/**
 * The same factor for a weight with several L2 penalties (its layer's regularizer, hand-written terms): their
 * coefficients add up where they reach the loss. Undefined when the weight has no L2 penalty, or when its
 * optimizer is not plain SGD.
 */
export function weightDecayPerStep(optimizer: OptimizerInfo | undefined, l2: ReadonlyArray<{ l2: number; reaches: boolean }>): number | undefined {
  if (l2.length === 0 || optimizer?.className !== PLAIN_SGD) return undefined;
  const lr = learningRateOf(optimizer);
  if (lr === null) return undefined;
  const c = l2.filter((p) => p.reaches).reduce((s, p) => s + p.l2, 0);
  return 1 - 2 * lr * c;
}

/** "L2 1e-3", "L1 1e-4 + L2 1e-3", "hand-written L2 2e-3", or the class name of a custom regularizer. */
export function describeRegularizer(r: RegularizerInfo): string {
  if (r.className !== 'L1L2' && r.className !== HAND_WRITTEN) return r.className;
  const parts: string[] = [];
  if (r.l1 !== 0) parts.push(`L1 ${formatCoefficient(r.l1)}`);
  if (r.l2 !== 0) parts.push(`L2 ${formatCoefficient(r.l2)}`);
  const text = parts.length ? parts.join(' + ') : r.className === HAND_WRITTEN ? 'penalty' : 'L1L2 0';
  return r.className === HAND_WRITTEN ? `hand-written ${text}` : text;
}

/** One piece of a penalty: "L2 2e-3", "L1 1e-4", "0.01·‖w‖", "a penalty of unrecognised form". */
export function describePiece(p: PenaltyPiece): string {
  if (p.form === 'unknown' || p.coefficient === null) return 'a penalty of unrecognised form';
  if (p.form === 'norm') return `${formatCoefficient(p.coefficient)}·‖w‖`;
  return `${p.form === 'l2' ? 'L2' : 'L1'} ${formatCoefficient(p.coefficient)}`;
}

/** The pieces that fall on one weight, joined: "L1 1e-4 + L2 1e-3". */
export function describePieces(pieces: readonly PenaltyPiece[]): string {
  return [...new Set(pieces.map(describePiece))].join(' + ');
}
