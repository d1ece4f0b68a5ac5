// What the step probe keeps per objective (one per variable set) from step to step.
import type { PenaltyPiece } from '../../../shared/protocol/run-data';
import type { OptimizerLike, Variable } from '../../tfjs-internals';
import { variableName } from '../hooks/describe-names';
import type { HandLayout } from '../tape/hand-term-layout';
import { NormSchedule } from '../decay/weight-stats';

export interface Objective {
  index: number;
  steps: number;
  lastEnd: number;
  norms: NormSchedule;
  /** Variables whose norms are tracked: those that lead to the loss or carry a penalty (not an optimizer's own). */
  tracked: Variable[] | null;
  optimizerSignature: string;
  optimizer: OptimizerLike | null;
  optimizerLr: number | undefined;
  /**
   * The captured step's hand-written penalties, by tape position: a later step whose tape has the same ops in the
   * same order reads them from the same positions; any other step is recognised afresh. Null: none were found,
   * and later steps pay nothing.
   */
  handWritten: HandLayout | null;
  /** The captured step's hand-written terms: every piece (weight, form, coefficient), by term id. */
  handPieces: Map<string, PenaltyPiece[]>;
  /** What each layer penalty counts in the minimized scalar on the captured step (1 under fit), by term id. */
  taggedScale: Map<string, number | null>;
  /** The variables its steps differentiate, by name and by tensor id (a later step may reach a few more). */
  variablesByName: Map<string, Variable>;
  variableIds: Set<number>;
  /** Its first step came when no ops were recorded (a second objective of the same call): capture it again. */
  recapture: boolean;
  /** The optimizer whose minimize() ran its first step (null: a variableGrads / grads loop, known only after). */
  trainer: OptimizerLike | null;
}

/** A new objective, before its first (captured) step. */
export function newObjective(index: number, startedAt: number, xs: readonly Variable[], trainer: OptimizerLike | null = null): Objective {
  return {
    index,
    steps: 0,
    lastEnd: startedAt,
    norms: new NormSchedule(),
    tracked: null,
    optimizerSignature: '',
    optimizer: null,
    optimizerLr: undefined,
    handWritten: null,
    handPieces: new Map(),
    taggedScale: new Map(),
    variablesByName: new Map(xs.map((x) => [variableName(x), x])),
    variableIds: new Set(xs.map((x) => x.id)),
    recapture: false,
    trainer,
  };
}

/** A variable a later step of the objective differentiates too. */
export function addVariable(objective: Objective, v: Variable): void {
  objective.variableIds.add(v.id);
  objective.variablesByName.set(variableName(v), v);
}
