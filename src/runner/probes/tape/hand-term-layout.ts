// A step's hand-written penalty terms: their stable ids and values, and where they sit on the tape for later steps.
import { handWrittenTermId } from '../../../shared/protocol/term-ids';
import { tapeTensor, type TapeNode, type TapeTensor, type Tensor } from '../../tfjs-internals';
import type { Recognition, RecognizedTerm } from './hand-written';

export interface HandLayout {
  kernels: string[];
  yIndex: number;
  terms: Array<{ id: string; index: number; output: number; inLoss: boolean; scale: number | null }>;
}

/** A hand-written term of one step, with its stable id and what it counts this step. */
export interface HandTerm {
  id: string;
  term: RecognizedTerm;
  value: number;
}

/** A hand-written term as a later step reads it: its value, whether it reaches y, its tensor and what it counts there. */
export interface HandTermValue {
  id: string;
  inLoss: boolean;
  value: number;
  tensor: Tensor;
  scale: number | null;
}

/** Where the captured step's hand-written terms sit on its tape (an empty layout, matching nothing, if one is not on it). */
export function layoutOf(tape: readonly TapeNode[], y: Tensor, hand: HandTerm[]): HandLayout {
  const indexOf = new Map(tape.map((n, i) => [n.id, i]));
  const yIndex = tape.findIndex((n) => n.outputs.some((o) => o.id === y.id));
  const terms: HandLayout['terms'] = [];
  for (const h of hand) {
    const index = indexOf.get(h.term.nodeId);
    if (index === undefined) return { kernels: [], yIndex: -1, terms: [] };
    terms.push({ id: h.id, index, output: tape[index].outputs.findIndex((o) => o.id === h.term.tensor.id), inLoss: h.term.inLoss, scale: h.term.scale });
  }
  return { kernels: tape.map((n) => n.kernelName), yIndex, terms };
}

/**
 * The hand-written terms of a step whose tape repeats the captured one (same ops, same order, the same op
 * returning the loss): read from the same positions, in O(ops) string compares. Null when the tape differs.
 */
export function fromLayout(
  layout: HandLayout,
  tape: readonly TapeNode[],
  y: Tensor,
): HandTermValue[] | null {
  if (tape.length !== layout.kernels.length) return null;
  for (let i = 0; i < tape.length; i++) if (tape[i].kernelName !== layout.kernels[i]) return null;
  if (!tape[layout.yIndex]?.outputs.some((o) => o.id === y.id)) return null;
  return layout.terms.map((t) => {
    const tensor = tapeTensor(tape[t.index].outputs[t.output]);
    const raw = readSum(tensor);
    return { id: t.id, inLoss: t.inLoss, value: t.inLoss && t.scale !== null ? raw * t.scale : raw, tensor, scale: t.scale };
  });
}

/** Stable ids for a step's hand-written terms (named after the variables they cover), with what each counts. */
export function handTerms(recognition: Recognition): HandTerm[] {
  const seen = new Map<string, number>();
  return recognition.terms.map((term) => {
    const base = handWrittenTermId(term.weights);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const raw = readSum(tapeTensor(term.tensor));
    return { id: handWrittenTermId(term.weights, n), term, value: term.inLoss && term.scale !== null ? raw * term.scale : raw };
  });
}

/** Σ of a tensor's values (a scalar's value), NaN when it cannot be read. */
function readSum(t: Tensor): number {
  try {
    if (t.size === 1) return t.dataSync()[0] as number;
    let sum = 0;
    for (const v of t.dataSync() as Float32Array) sum += v;
    return sum;
  } catch {
    return Number.NaN;
  }
}

/** A scalar constant's value; null when it cannot be read (a failed read must not look like a NaN coefficient). */
export function readConstant(t: TapeTensor): number | null {
  try {
    return tapeTensor(t).dataSync()[0] as number;
  } catch {
    return null;
  }
}
