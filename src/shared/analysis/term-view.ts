// The view of one loss term, apart from terms.ts (which builds weight views from it) and collect-terms.ts (which
// builds it), so that neither imports the other.
import type { NamedSite, PenaltyPiece, RegularizerInfo, SourcePosition, TermInfo, WeightInfo } from '../protocol/run-data';

/** One loss term as the whole run saw it: the captured graph's verdict plus every step's. */
export interface TermView {
  id: string;
  collection: TermInfo['collection'];
  kind: TermInfo['kind'];
  layer: string | null;
  weight: string | null;
  weightInfo: WeightInfo | null;
  regularizer: RegularizerInfo | null;
  /** The objective (variable set) whose steps this term belongs to; null when no step trained its weight. */
  objective: number | null;
  evaluated: boolean;
  stepsObserved: number;
  stepsInLoss: number;
  /** True when the term was an ancestor of the minimized scalar in every observed step. */
  reachesMinimizedLoss: boolean;
  firstValue: number | null;
  lastValue: number | null;
  /** Where the user's code made the term: the layer's line, or for a hand-written term the line that built it. */
  source: SourcePosition | null;
  nodeId: string | null;
  /** Every weight the term penalizes, with its form and coefficient (one piece for a layer penalty). */
  pieces: PenaltyPiece[];
  /** Hand-written terms: the user's name for the value at `source` (`penalties`), when there is one. */
  sourceName: string | null;
  /** A penalty that does not reach the minimized loss but is summed with the data loss there. */
  summedAt: NamedSite | null;
}
