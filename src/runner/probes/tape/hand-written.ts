import type { PenaltyPiece } from '../../../shared/protocol/run-data';
import type { TapeNode, TapeTensor } from '../../tfjs-internals';
import { parseReduced as parseReducedForm, piecesOf } from './penalty-forms';
import { ADD, DIV, FROM_DATA, FROM_LAYER_PENALTY, FROM_VARIABLE, FlaggedTape, MUL, PASS, SUB, inputsOf, sizeOf } from './tape-flags';

/**
 * Recognises hand-written penalties on one step's gradient tape: terms of the loss that depend on trainable
 * variables and on no input data. Pure (tensor ids and shapes; values through callbacks), so it is unit-tested
 * on tapes tfjs records.
 *
 * Every tensor gets two flags, propagated forward over the tape: FROM_VARIABLE (depends on a trainable variable)
 * and FROM_DATA (depends on data). A leaf is data when it is not a variable and holds more than one element; scalar
 * leaves (the `0.01` in `tf.mul(0.01, …)`) are constants. A term is a maximal data-free tensor of the variables:
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

/** A term found so far: its tensor, what each element counts in the minimized scalar, and where a dropped one is summed. */
interface Found {
  tensor: TapeTensor;
  scale: number | null;
  inLoss: boolean;
  summedAt: number | null;
}

export function recognizeHandWritten(input: RecognitionInput): Recognition {
  const tape = new FlaggedTape(input.tape, input);
  const yNode = tape.producer.get(input.yTensorId) ?? null;
  const result: Recognition = { terms: [], taggedSummedAt: new Map(), taggedScale: new Map(), yNodeId: yNode?.id ?? null };
  // A loss with no data in it (fitting a function of the variables alone) has no data term to regularize.
  if (!yNode || !(tape.flagOf({ id: input.yTensorId, shape: [] }) & FROM_DATA)) return result;

  const found = new Map<number, Found>();
  const y = { id: input.yTensorId, shape: yNode.outputs.find((o) => o.id === input.yTensorId)?.shape ?? [] };
  walkLoss({ tape, tagged: input.tagged, found, taggedScale: result.taggedScale }, y, 1, 0);
  const toY = tape.ancestorsOf([input.yTensorId]);
  findDropped(tape, input.tagged, toY, found);
  for (const id of input.tagged) {
    if (toY.has(id)) continue;
    const at = firstDataSum(tape, { id, shape: [] });
    if (at !== null) result.taggedSummedAt.set(id, at);
  }
  result.terms = [...found.values()]
    .sort((a, b) => tape.producer.get(a.tensor.id)!.id - tape.producer.get(b.tensor.id)!.id)
    .map((f) => recognizedTerm(tape, f, input.parseForms));
  return result;
}

/** What the walk down the minimized scalar reads (the tape, the layer penalties) and fills (terms, their scales). */
interface LossWalk {
  tape: FlaggedTape;
  tagged: ReadonlySet<number>;
  found: Map<number, Found>;
  taggedScale: Map<number, number | null>;
}

/**
 * In the loss: walks the additive structure of the minimized scalar down from `t`, where `s` is what one element
 * of `t` counts in it. A layer penalty on the way records its scale; a data-free non-linear summand is a term.
 */
function walkLoss(walk: LossWalk, t: TapeTensor, s: number | null, depth: number): void {
  const { tape, tagged, found, taggedScale } = walk;
  if (depth > 200) return;
  if (tagged.has(t.id)) {
    if (!taggedScale.has(t.id)) taggedScale.set(t.id, s);
    return;
  }
  const f = tape.flagOf(t);
  if (!(f & FROM_VARIABLE)) return;
  if (!(f & FROM_DATA) && !(f & FROM_LAYER_PENALTY)) {
    if (tape.producer.has(t.id) && !found.has(t.id) && !tape.linearOnly(t)) found.set(t.id, { tensor: t, scale: s, inLoss: true, summedAt: null });
    return;
  }
  const n = tape.producer.get(t.id);
  if (!n) return;
  const visit = (x: TapeTensor, scale: number | null) => walkLoss(walk, x, scale, depth + 1);
  const ins = inputsOf(n);
  const out = sizeOf(t);
  const spread = (x: TapeTensor, k: number | null) => (s === null || k === null ? null : (s * k * out) / sizeOf(x));
  const k = n.kernelName;
  if (ADD.has(k)) for (const x of ins) visit(x, spread(x, 1));
  else if (SUB.has(k) && ins.length === 2) {
    visit(ins[0], spread(ins[0], 1));
    visit(ins[1], spread(ins[1], -1));
  } else if (k === 'Neg' && ins.length === 1) visit(ins[0], s === null ? null : -s);
  else if (PASS.has(k) && ins.length === 1) visit(ins[0], s);
  else if (k === 'Sum' && ins.length === 1) visit(ins[0], s);
  else if (k === 'Mean' && ins.length === 1) visit(ins[0], spread(ins[0], 1));
  else if (MUL.has(k) && ins.length === 2) {
    const [a, b] = ins;
    const ka = tape.constant(a);
    const kb = ka === null ? tape.constant(b) : null;
    if (ka !== null) visit(b, spread(b, ka));
    else if (kb !== null) visit(a, spread(a, kb));
  } else if (DIV.has(k) && ins.length === 2) {
    const kb = tape.constant(ins[1]);
    if (kb !== null && kb !== 0) visit(ins[0], spread(ins[0], 1 / kb));
  }
}

/**
 * Dropped: maximal data-free tensors that never reach the minimized scalar, kept when they are summed with data
 * somewhere or are built like a penalty. The inside of a layer penalty (tfjs's L1L2.apply) is the layer probe's
 * term, not a hand-written one.
 */
function findDropped(tape: FlaggedTape, tagged: ReadonlySet<number>, toY: ReadonlySet<number>, found: Map<number, Found>): void {
  const toTagged = tagged.size ? tape.ancestorsOf(tagged) : new Set<number>();
  const penaltyFree = (x: TapeTensor) => !(tape.flagOf(x) & FROM_LAYER_PENALTY);
  for (const n of tape.nodes) {
    for (const o of n.outputs) {
      if (toY.has(o.id) || toTagged.has(o.id) || found.has(o.id) || !tape.isDataFree(o) || !penaltyFree(o)) continue;
      // Not maximal: some op goes on computing a (non-penalty-tagged) data-free value from it.
      const continues = (tape.consumers.get(o.id) ?? []).some((c) => c.outputs.some((x) => tape.isDataFree(x) && penaltyFree(x)));
      if (continues) continue;
      if (tape.linearOnly(o)) continue;
      const summedAt = firstDataSum(tape, o);
      if (summedAt === null && !builtLikePenalty(tape, o)) continue;
      found.set(o.id, { tensor: o, scale: 1, inLoss: false, summedAt });
    }
  }
}

/** An explicit coefficient, or a sum of penalties on several variables. A logged `tf.norm(w)` is neither. */
function builtLikePenalty(tape: FlaggedTape, t: TapeTensor): boolean {
  const parsed = parseReducedForm(tape, t);
  return !!parsed && (parsed.explicit || new Set(parsed.items.map((i) => i.weight)).size > 1);
}

const isAdditive = (n: TapeNode) => ADD.has(n.kernelName) || SUB.has(n.kernelName);

/** The first sum (within 64 data-free tensors downstream, through scalings and reshapes) that adds `t` to data. */
function firstDataSum(tape: FlaggedTape, t: TapeTensor): number | null {
  const queue = [t];
  const seen = new Set<number>([t.id]);
  for (let i = 0; i < queue.length && i < 64; i++) {
    for (const c of tape.consumers.get(queue[i].id) ?? []) {
      const passes = isAdditive(c) || PASS.has(c.kernelName) || (MUL.has(c.kernelName) && inputsOf(c).some((x) => tape.constant(x) !== null));
      if (!passes) continue;
      for (const o of c.outputs) {
        if (seen.has(o.id)) continue;
        seen.add(o.id);
        const f = tape.flagOf(o);
        if (isAdditive(c) && f & FROM_DATA) return c.id;
        if (!(f & FROM_DATA)) queue.push(o);
      }
    }
  }
  return null;
}

/** A found term as reported: the variables it covers, and (when forms are parsed) its pieces. */
function recognizedTerm(tape: FlaggedTape, f: Found, parseForms: boolean): RecognizedTerm {
  const node = tape.producer.get(f.tensor.id)!;
  const parsed = parseForms ? parseReducedForm(tape, f.tensor) : null;
  const covered = tape.coveredVariables(f.tensor);
  return {
    tensor: f.tensor,
    nodeId: node.id,
    weights: covered.map((c) => c.weight),
    weightTensors: covered.map((c) => c.tensor),
    inLoss: f.inLoss,
    scale: f.scale,
    pieces: parseForms ? piecesOf(parsed, covered.map((c) => c.weight), f.scale) : null,
    summedAtNodeId: f.summedAt,
  };
}
