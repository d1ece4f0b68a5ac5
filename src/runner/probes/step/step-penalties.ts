// Which penalties a step computed and which of them reach the scalar it minimizes: the layer probe's tagged
// penalties, and the hand-written ones read from the tape.
import { tapeTensor, type Tensor, type Tf } from '../../tfjs-internals';
import { variableName } from '../hooks/describe-names';
import { fromLayout, handTerms, layoutOf, readConstant, type HandTermValue } from '../tape/hand-term-layout';
import { recognizeHandWritten } from '../tape/hand-written';
import type { StepContext } from './step-context';

/** The hand-written penalties that reach y, by term id: their tensors, for the decoupled what-if to take out. */
export type HandInLoss = Map<string, { tensor: Tensor; scale: number | null }>;

/** A layer penalty reaches the minimized loss exactly when its tensor is an ancestor of y on this tape. */
export function noteLayerPenalties(context: StepContext): void {
  const { evaluated, evaluatedValues, leadsToY, inLoss } = context;
  for (const p of evaluated) {
    if (!evaluatedValues.has(p.termId)) evaluatedValues.set(p.termId, p.value);
    if (leadsToY.has(p.tensorId)) inLoss.add(p.termId);
  }
}

/**
 * The step's hand-written penalties: read from the captured step's tape positions when this tape repeats that
 * one, else recognised afresh (on a captured step, or when the tape changed). An objective whose captured step
 * had none pays nothing. `handInLoss` (the decoupled what-if only) receives those that reach y.
 */
export function readHandWritten(context: StepContext, tf: Tf, handInLoss: HandInLoss | null): void {
  const { objective, capture, tape, y } = context;
  const layout = objective.handWritten;
  const known = !capture && layout !== null ? fromLayout(layout, tape, y) : null;
  if (known) {
    for (const h of known) noteHandTerm(context, handInLoss, h);
  } else if (capture || layout !== null) {
    recognize(context, tf, handInLoss);
  }
}

/** Recognition on the whole tape (forms and coefficients too on a captured step, whose layout later steps reuse). */
function recognize(context: StepContext, tf: Tf, handInLoss: HandInLoss | null): void {
  const { objective, capture, tape, y, evaluated } = context;
  const started = performance.now();
  const recognition = recognizeHandWritten({
    tape,
    yTensorId: y.id,
    variableOf: (t) => (t instanceof tf.Variable && t.trainable ? variableName(t) : null),
    tagged: new Set(evaluated.map((p) => p.tensorId)),
    constantValue: readConstant,
    parseForms: capture,
  });
  const hand = handTerms(recognition);
  for (const h of hand) {
    noteHandTerm(context, handInLoss, { id: h.id, value: h.value, inLoss: h.term.inLoss, tensor: tapeTensor(h.term.tensor), scale: h.term.scale });
  }
  if (capture && hand.length > 0) objective.handWritten = layoutOf(tape, y, hand);
  context.recognition = recognition;
  context.hand = hand;
  context.recognitionMs = performance.now() - started;
}

/** One hand-written term of this step: its value (the first one read counts) and whether it reaches y. */
function noteHandTerm(context: StepContext, handInLoss: HandInLoss | null, h: HandTermValue): void {
  if (!context.handValues.has(h.id)) context.handValues.set(h.id, h.value);
  if (!h.inLoss) return;
  context.inLoss.add(h.id);
  handInLoss?.set(h.id, { tensor: h.tensor, scale: h.scale });
}
