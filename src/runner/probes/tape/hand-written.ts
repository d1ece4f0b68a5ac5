import type { PenaltyPiece } from '../../../shared/protocol/run-data';
import type { TapeNode, TapeTensor } from '../../tfjs-internals';
import { parseReduced as parseReducedForm, piecesOf } from './penalty-forms';
import { ADD, D, DIV, FlaggedTape, MUL, PASS, SUB, T, V, inputsOf, sizeOf } from './tape-flags';

/**
 * Recognises hand-written penalties on one step's gradient tape: terms of the loss that depend on trainable
 * variables and on no input data. Pure (tensor ids and shapes; values through callbacks), so it is unit-tested
 * on tapes tfjs records.
 *
 * Every tensor gets two flags, propagated forward over the tape: V (depends on a trainable variable) and
 * D (depends on data). A leaf is data when it is not a variable and holds more than one element; scalar
 * leaves (the `0.01` in `tf.mul(0.01, …)`) are constants. A term is a maximal V-and-not-D tensor:
 * - in the loss: a summand of the minimized scalar, found by walking down from it through sums, scalar
 *   scalings, reshapes and reductions (so its contribution is `scale · Σ term`);
 * - dropped: one that is not an ancestor of the minimized scalar, kept only when it is summed with a
 *   data-dependent tensor somewhere (a `totalLoss` that is never returned) or is built like a penalty
 *   (an explicit coefficient, or a sum of penalties on several variables). A logged `tf.norm(w)` is neither.
 * Layer penalties (the layer probe's tagged tensors) are known terms: they and their sub-graphs are skipped.
 */

export interface RecognitionInput {
  tape: readonly TapeNode[];
  yTensorId: number;
  /** The weight id of a trainable variable, else null. */
  variableOf(t: TapeTensor): string | null;
  /** Output tensors of the layer penalties (tagged by the layer probe). */
  tagged: ReadonlySet<number>;
  /** The value of a scalar constant (a leaf), or null when it cannot be read. */
  constantValue(t: TapeTensor): number | null;
  /** Read the forms and coefficients too (the captured step); other steps only need ids and membership. */
  parseForms: boolean;
}

export interface RecognizedTerm {
  tensor: TapeTensor;
  /** The tape node that produced the term. */
  nodeId: number;
  /** Weight ids the term covers, in the order the tape first reads them, and their variables' tensors. */
  weights: string[];
  weightTensors: TapeTensor[];
  inLoss: boolean;
  /** What each element of the term counts in the minimized scalar (1 for a dropped term); null if unknown. */
  scale: number | null;
  /** Per variable: form and coefficient, already multiplied by `scale`; only when forms are parsed. */
  pieces: PenaltyPiece[] | null;
  /** A dropped term summed with the data loss: the tape node of that sum. */
  summedAtNodeId: number | null;
}

export interface Recognition {
  terms: RecognizedTerm[];
  /** Layer penalties that do not reach the minimized scalar but are summed with data: tensor id → sum node. */
  taggedSummedAt: Map<number, number>;
  /** Layer penalties in the minimized scalar: tensor id → what each element counts there (null if unknown). */
  taggedScale: Map<number, number | null>;
  /** The minimized scalar's own tape node, when it has one. */
  yNodeId: number | null;
}

export function recognizeHandWritten(input: RecognitionInput): Recognition {
  const { yTensorId, tagged } = input;
  const tape = new FlaggedTape(input.tape, input);
  const { nodes, producer, consumers } = tape;
  const flagOf = (t: TapeTensor) => tape.flagOf(t);
  const constant = (t: TapeTensor) => tape.constant(t);
  const isDataFree = (t: TapeTensor) => tape.isDataFree(t);
  const linearOnly = (t: TapeTensor) => tape.linearOnly(t);
  const parseReduced = (t: TapeTensor) => parseReducedForm(tape, t);
  const builtLikePenalty = (t: TapeTensor) => {
    const parsed = parseReduced(t);
    return !!parsed && (parsed.explicit || new Set(parsed.items.map((i) => i.weight)).size > 1);
  };

  const yNode = producer.get(yTensorId) ?? null;
  const result: Recognition = { terms: [], taggedSummedAt: new Map(), taggedScale: new Map(), yNodeId: yNode?.id ?? null };
  // A loss with no data in it (fitting a function of the variables alone) has no data term to regularize.
  if (!yNode || !(flagOf({ id: yTensorId, shape: [] }) & D)) return result;

  const found = new Map<number, { tensor: TapeTensor; scale: number | null; inLoss: boolean; summedAt: number | null }>();

  // In the loss: walk the additive structure of the minimized scalar. `s` is what one element of `t` counts.
  const visit = (t: TapeTensor, s: number | null, depth: number): void => {
    if (depth > 200) return;
    if (tagged.has(t.id)) {
      if (!result.taggedScale.has(t.id)) result.taggedScale.set(t.id, s);
      return;
    }
    const f = flagOf(t);
    if (!(f & V)) return;
    if (!(f & D) && !(f & T)) {
      if (producer.has(t.id) && !found.has(t.id) && !linearOnly(t)) found.set(t.id, { tensor: t, scale: s, inLoss: true, summedAt: null });
      return;
    }
    const n = producer.get(t.id);
    if (!n) return;
    const ins = inputsOf(n);
    const out = sizeOf(t);
    const spread = (x: TapeTensor, k: number | null) => (s === null || k === null ? null : (s * k * out) / sizeOf(x));
    const k = n.kernelName;
    if (ADD.has(k)) for (const x of ins) visit(x, spread(x, 1), depth + 1);
    else if (SUB.has(k) && ins.length === 2) {
      visit(ins[0], spread(ins[0], 1), depth + 1);
      visit(ins[1], spread(ins[1], -1), depth + 1);
    } else if (k === 'Neg' && ins.length === 1) visit(ins[0], s === null ? null : -s, depth + 1);
    else if (PASS.has(k) && ins.length === 1) visit(ins[0], s, depth + 1);
    else if (k === 'Sum' && ins.length === 1) visit(ins[0], s, depth + 1);
    else if (k === 'Mean' && ins.length === 1) visit(ins[0], spread(ins[0], 1), depth + 1);
    else if (MUL.has(k) && ins.length === 2) {
      const [a, b] = ins;
      const ka = constant(a);
      const kb = ka === null ? constant(b) : null;
      if (ka !== null) visit(b, spread(b, ka), depth + 1);
      else if (kb !== null) visit(a, spread(a, kb), depth + 1);
    } else if (DIV.has(k) && ins.length === 2) {
      const kb = constant(ins[1]);
      if (kb !== null && kb !== 0) visit(ins[0], spread(ins[0], 1 / kb), depth + 1);
    }
  };
  visit({ id: yTensorId, shape: yNode.outputs.find((o) => o.id === yTensorId)?.shape ?? [] }, 1, 0);

  // Dropped: maximal data-free tensors that never reach the minimized scalar.
  const toY = tape.ancestorsOf([yTensorId]);
  // The inside of a layer penalty (tfjs's L1L2.apply) is the layer probe's term, not a hand-written one.
  const toTagged = tagged.size ? tape.ancestorsOf(tagged) : new Set<number>();
  const isAdditive = (n: TapeNode) => ADD.has(n.kernelName) || SUB.has(n.kernelName);
  const firstDataSum = (t: TapeTensor): number | null => {
    const queue = [t];
    const seen = new Set<number>([t.id]);
    for (let i = 0; i < queue.length && i < 64; i++) {
      for (const c of consumers.get(queue[i].id) ?? []) {
        const passes = isAdditive(c) || PASS.has(c.kernelName) || (MUL.has(c.kernelName) && inputsOf(c).some((x) => constant(x) !== null));
        if (!passes) continue;
        for (const o of c.outputs) {
          if (seen.has(o.id)) continue;
          seen.add(o.id);
          const f = flagOf(o);
          if (isAdditive(c) && f & D) return c.id;
          if (!(f & D)) queue.push(o);
        }
      }
    }
    return null;
  };
  for (const n of nodes) {
    for (const o of n.outputs) {
      if (toY.has(o.id) || toTagged.has(o.id) || found.has(o.id) || !isDataFree(o) || flagOf(o) & T) continue;
      // Not maximal: some op goes on computing a (non-penalty-tagged) data-free value from it.
      const continues = (consumers.get(o.id) ?? []).some((c) => c.outputs.some((x) => isDataFree(x) && !(flagOf(x) & T)));
      if (continues) continue;
      if (linearOnly(o)) continue;
      const summedAt = firstDataSum(o);
      if (summedAt === null && !builtLikePenalty(o)) continue;
      found.set(o.id, { tensor: o, scale: 1, inLoss: false, summedAt });
    }
  }
  for (const id of tagged) {
    if (toY.has(id)) continue;
    const at = firstDataSum({ id, shape: [] });
    if (at !== null) result.taggedSummedAt.set(id, at);
  }

  for (const f of [...found.values()].sort((a, b) => producer.get(a.tensor.id)!.id - producer.get(b.tensor.id)!.id)) {
    const node = producer.get(f.tensor.id)!;
    const parsed = input.parseForms ? parseReduced(f.tensor) : null;
    const covered = tape.coveredVariables(f.tensor);
    result.terms.push({
      tensor: f.tensor,
      nodeId: node.id,
      weights: covered.map((c) => c.weight),
      weightTensors: covered.map((c) => c.tensor),
      inLoss: f.inLoss,
      scale: f.scale,
      pieces: input.parseForms ? piecesOf(parsed, covered.map((c) => c.weight), f.scale) : null,
      summedAtNodeId: f.summedAt,
    });
  }
  return result;
}
