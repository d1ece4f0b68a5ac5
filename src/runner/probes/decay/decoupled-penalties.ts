// The decoupled what-if's side of a step: which L1/L2 penalties leave the minimized scalar, and that scalar without them.
import type { PenaltyPiece } from '../../../shared/protocol/run-data';
import type { Tensor, Tf } from '../../tfjs-internals';
import type { EvaluatedPenalty, RegularizedWeight } from '../hooks/layer-probe';

/** What an objective's captured step learned of its penalties (the step probe's Objective has both). */
export interface CapturedPenalties {
  /** What each layer penalty counts in the minimized scalar, by term id (1 when absent: model.fit's sum). */
  taggedScale: ReadonlyMap<string, number | null>;
  /** Each hand-written term's pieces (weight, form, coefficient), by term id. */
  handPieces: ReadonlyMap<string, readonly PenaltyPiece[]>;
}

/** A penalty the decoupled what-if takes out of this step's minimized scalar: its tensor and what it counts there. */
export interface RemovedPenalty {
  termId: string;
  tensor: Tensor;
  scale: number;
  value: number;
}

/**
 * The decoupled what-if: the L1/L2 penalties that reach this step's minimized scalar (layer regularizers, and
 * hand-written terms whose every piece is L1 or L2), with what each counts there.
 */
export function removablePenalties(
  objective: CapturedPenalties,
  regularized: readonly RegularizedWeight[],
  evaluated: readonly EvaluatedPenalty[],
  leadsToY: ReadonlySet<number>,
  hand: Map<string, { tensor: Tensor; scale: number | null }>,
  handValues: Map<string, number>,
): RemovedPenalty[] {
  const out: RemovedPenalty[] = [];
  const seen = new Set<string>();
  const infoOf = new Map(regularized.map((r) => [r.termId, r.info]));
  for (const p of evaluated) {
    if (seen.has(p.termId) || !leadsToY.has(p.tensorId) || infoOf.get(p.termId)?.className !== 'L1L2') continue;
    seen.add(p.termId);
    const scale = objective.taggedScale.get(p.termId) ?? 1;
    out.push({ termId: p.termId, tensor: p.tensor, scale, value: p.value * scale });
  }
  for (const [id, h] of hand) {
    const pieces = objective.handPieces.get(id);
    if (h.scale === null || !pieces?.length || pieces.some((x) => (x.form !== 'l1' && x.form !== 'l2') || x.coefficient === null)) continue;
    out.push({ termId: id, tensor: h.tensor, scale: h.scale, value: handValues.get(id) ?? Number.NaN });
  }
  return out;
}

/** y − Σ scale·Σ penalty: the same scalar without the penalties, so their gradient is gone whatever the script did with them. */
export function withoutPenalties(tf: Tf, y: Tensor, removed: RemovedPenalty[]): Tensor {
  if (y.size !== 1) return y;
  let sum: Tensor | null = null;
  for (const r of removed) {
    const part = tf.mul(tf.sum(r.tensor), r.scale);
    sum = sum ? tf.add(sum, part) : part;
  }
  return sum ? tf.sub(y, tf.reshape(sum, y.shape)) : y;
}
