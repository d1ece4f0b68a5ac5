// One training step as the step probe saw it: built once per step, right after the script's loss function
// returned, and handed whole to the capture (the objective's first step) and to the report (every step).
import type { SourcePosition } from '../../../shared/protocol/run-data';
import type { TapeNode, Tensor, Variable } from '../../tfjs-internals';
import type { RemovedPenalty } from '../decay/decoupled-penalties';
import type { EvaluatedPenalty } from '../hooks/layer-probe';
import type { HandTerm } from '../tape/hand-term-layout';
import type { Recognition } from '../tape/hand-written';
import type { Objective } from './step-objective';

export interface StepContext {
  objective: Objective;
  /** This step's number within its objective (1: the first). */
  stepNo: number;
  /** The variables the step really differentiates: those with a path to `y` on its tape. */
  trained: Variable[];
  tape: readonly TapeNode[];
  /** The scalar the optimizer minimizes, as the script's function returned it, and its value. */
  y: Tensor;
  total: number;
  /** Tensor ids with a path to `y` (y's included). */
  leadsToY: ReadonlySet<number>;
  /** The objective's first step (or a recapture): its loss graph is built and sent. */
  capture: boolean;
  /** The layer penalties the step computed, and the innermost layer of each op (captured steps only, else empty). */
  evaluated: EvaluatedPenalty[];
  opOwner: ReadonlyMap<number, string>;
  /** Where the user's code ran each op that no layer ran (captured steps only, else empty). */
  opSites: ReadonlyMap<number, SourcePosition | null>;
  /** Term ids of the penalties that reach `y`, and each penalty's value (layer ones, hand-written ones). */
  inLoss: Set<string>;
  evaluatedValues: Map<string, number>;
  handValues: Map<string, number>;
  /** The hand-written terms recognised on this tape (null: read from the objective's layout, or none looked for). */
  recognition: Recognition | null;
  hand: HandTerm[];
  recognitionMs: number;
  /** The decoupled what-if took these penalties out of the scalar it returned to tfjs. */
  removed: RemovedPenalty[];
  /** The step reaches the step limit (its weight norms are measured whatever the schedule says); set before the report. */
  isLast: boolean;
}

const NONE: ReadonlyMap<number, never> = new Map<number, never>();

/** The context of a step whose objective is known, before its penalties are read. */
export function newStepContext(
  fields: Pick<StepContext, 'objective' | 'stepNo' | 'trained' | 'tape' | 'y' | 'total' | 'leadsToY' | 'capture' | 'evaluated'> & {
    opOwner: ReadonlyMap<number, string> | null;
    opSites: ReadonlyMap<number, SourcePosition | null> | null;
  },
): StepContext {
  return {
    ...fields,
    opOwner: fields.opOwner ?? NONE,
    opSites: fields.opSites ?? NONE,
    inLoss: new Set(),
    evaluatedValues: new Map(),
    handValues: new Map(),
    recognition: null,
    hand: [],
    recognitionMs: 0,
    removed: [],
    isLast: false,
  };
}
