// Term views and the weight views built from them are one model of the run's penalties (a weight's view is the term
// views on it, both read from the same graphs, layers and raw variables), and the rules, report, notes, quick fix
// and panel all take both from here. How the term views are built is in collect-terms.ts.
import type { OptimizerInfo, SourcePosition, WeightInfo } from '../protocol/run-data';
import { objectivesOf, type RunState } from '../model/run-state';
import { rawVariablesOf, seriesOf } from './collect-terms';
import { ADAPTIVE_OPTIMIZERS, describePiece, describeRegularizer, weightDecayPerStep } from './decay';

export { collectTerms, rawVariablesOf } from './collect-terms';
export type { TermView } from './term-view';
import type { TermView } from './term-view';

function lastNonNull(values: ReadonlyArray<number | null> | undefined): number | null | undefined {
  if (!values) return undefined;
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return undefined;
}

/**
 * Brings term views up to date with steps appended since `collectTerms` made them, in place: between
 * structural changes (new layers, a new graph) only step counts, verdicts and last values move, and
 * recomputing every view from scratch is O(steps).
 */
export function refreshTermViews(terms: TermView[], state: RunState): void {
  for (const t of terms) {
    const s = seriesOf(state, t.objective);
    if (!s) continue;
    t.stepsObserved = s.step.length;
    t.stepsInLoss = t.collection === 'data' ? s.step.length : s.termInLossSteps[t.id] ?? 0;
    if (t.collection === 'regularization') t.reachesMinimizedLoss = t.stepsObserved > 0 && t.stepsInLoss === t.stepsObserved;
    const last = lastNonNull(t.collection === 'data' ? s.dataLoss : s.terms[t.id]);
    if (last !== undefined) t.lastValue = last;
  }
}

/** A layer's decay at a glance: every penalty reaches the loss, none ever does, some do, or it has none. */
export type DecayStatus = 'decayed' | 'none' | 'dropped' | 'partial';

export function layerDecay(penalties: readonly TermView[]): DecayStatus {
  if (penalties.length === 0) return 'none';
  const reaching = penalties.filter((t) => t.reachesMinimizedLoss).length;
  if (reaching === penalties.length) return 'decayed';
  if (reaching === 0 && penalties.every((t) => t.stepsInLoss === 0)) return 'dropped';
  return 'partial';
}

/** Each layer's penalty terms (its own regularizers and hand-written terms on its weights), looked up once. */
export function penaltiesByLayer(terms: readonly TermView[]): Map<string, TermView[]> {
  const out = new Map<string, TermView[]>();
  for (const t of terms) {
    if (t.collection !== 'regularization' || t.layer === null) continue;
    const list = out.get(t.layer);
    if (list) list.push(t);
    else out.set(t.layer, [t]);
  }
  return out;
}

/** Every term that penalizes a weight, by weight id (a layer penalty, hand-written terms that cover it). */
export function penaltiesByWeight(terms: readonly TermView[]): Map<string, TermView[]> {
  const out = new Map<string, TermView[]>();
  for (const t of terms) {
    if (t.collection !== 'regularization') continue;
    const weights = new Set(t.pieces.map((p) => p.weight));
    if (t.weight) weights.add(t.weight);
    for (const w of weights) out.set(w, [...(out.get(w) ?? []), t]);
  }
  return out;
}

/**
 * The optimizer that trains a weight: the instance whose applyGradients (or minimize) updated it. When the run
 * saw some optimizer update weights but none updated this one, nothing trains it (`updated: false`, a frozen
 * target network); with no such record at all, the weight's objective's optimizer stands in.
 */
export function weightOptimizer(
  state: RunState,
  weightId: string,
  objective: number | null,
): { optimizer: OptimizerInfo | undefined; index: number | null; updated: boolean | null } {
  const mappings = Object.values(state.optimizerWeights ?? {});
  for (const m of mappings) if (m.weights.includes(weightId)) return { optimizer: m.optimizer, index: m.index, updated: true };
  if (mappings.length > 0) return { optimizer: undefined, index: null, updated: false };
  return { optimizer: objective === null ? undefined : state.optimizers[objective], index: null, updated: null };
}

/** What a weight is in the report and the notes: its layer's (or its raw variable's) facts and every penalty on it. */
export interface WeightView {
  info: WeightInfo;
  /** The listed layer, or null for a raw tf.variable. */
  layer: string | null;
  source: SourcePosition | null;
  penalties: TermView[];
  optimizer: OptimizerInfo | undefined;
  optimizerIndex: number | null;
  /** False when the run shows that no optimizer updates it. */
  updated: boolean | null;
}

export function weightViews(state: RunState, terms: readonly TermView[]): WeightView[] {
  const byWeight = penaltiesByWeight(terms);
  const objectiveOf = (weightId: string, penalties: TermView[]): number | null => {
    for (const o of objectivesOf(state)) if (state.graphs[o]?.variables.includes(weightId)) return o;
    return penalties.find((t) => t.objective !== null)?.objective ?? null;
  };
  const make = (info: WeightInfo, layer: string | null, source: SourcePosition | null): WeightView => {
    const penalties = byWeight.get(info.id) ?? [];
    const o = weightOptimizer(state, info.id, objectiveOf(info.id, penalties));
    return { info, layer, source, penalties, optimizer: o.optimizer, optimizerIndex: o.index, updated: o.updated };
  };
  const out: WeightView[] = [];
  const seen = new Set<string>();
  for (const l of state.layers) {
    for (const w of l.weights) {
      if (seen.has(w.id)) continue;
      seen.add(w.id);
      out.push(make(w, l.name, l.source));
    }
  }
  for (const v of rawVariablesOf(state)) {
    if (seen.has(v.id)) continue;
    seen.add(v.id);
    out.push(make(v, null, v.source));
  }
  return out;
}

/**
 * 1 − 2·lr·Σc over the weight's L2 penalties that reach the loss, under its own optimizer when that is plain SGD;
 * absent for adaptive optimizers, for weights no optimizer updates, and for weights without an L2 penalty.
 */
export function decayFactor(v: WeightView): number | undefined {
  if (v.updated === false || (v.optimizer && ADAPTIVE_OPTIMIZERS.has(v.optimizer.className))) return undefined;
  const l2 = v.penalties.flatMap((t) =>
    t.pieces.filter((p) => p.weight === v.info.id && p.form === 'l2' && p.coefficient !== null).map((p) => ({ l2: p.coefficient!, reaches: t.reachesMinimizedLoss })),
  );
  // A NaN or infinite coefficient has no decay factor (invalid-regularizer says why).
  if (l2.some((p) => !Number.isFinite(p.l2))) return undefined;
  return weightDecayPerStep(v.optimizer, l2);
}


/** "L2 1e-3 on dense_Dense1/kernel", "hand-written L2 2e-3 on local3/weights, softmax_linear/weights". */
export function describeTerm(t: TermView): string {
  if (t.kind !== 'hand-written') return `${t.regularizer ? describeRegularizer(t.regularizer) : 'a penalty'} on ${t.weight ?? t.layer}`;
  const byForm = new Map<string, string[]>();
  for (const p of t.pieces) byForm.set(describePiece(p), [...(byForm.get(describePiece(p)) ?? []), p.weight]);
  const list = (ws: string[]) => (ws.length > 3 ? `${ws.slice(0, 3).join(', ')} and ${ws.length - 3} more` : ws.join(', '));
  if (byForm.size === 0) return 'a hand-written penalty';
  return `hand-written ${[...byForm].map(([form, ws]) => `${form} on ${list([...new Set(ws)])}`).join(', ')}`;
}

