import type { LayerInfo, RegularizerInfo, SourcePosition, TermInfo, WeightInfo } from '../protocol/run-data';
import { DATA_TERM_ID, activityTermId, penaltyTermId } from '../protocol/term-ids';
import { primaryObjective, type RunState, type Series } from '../model/run-state';

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
  source: SourcePosition | null;
  nodeId: string | null;
}

function seriesOf(state: RunState, objective: number | null): Series | undefined {
  return objective === null ? undefined : state.series[objective];
}

function firstNonNull(values: Array<number | null> | undefined, fromEnd = false): number | null {
  if (!values) return null;
  const list = fromEnd ? [...values].reverse() : values;
  for (const v of list) if (v !== null) return v;
  return null;
}

/** Every term: the data loss of each objective, and one per regularized weight or activity regularizer. */
export function collectTerms(state: RunState): TermView[] {
  const graphTerm = new Map<string, { objective: number; term: TermInfo }>();
  const objectives = Object.keys(state.graphs)
    .map(Number)
    .sort((a, b) => a - b);
  for (const o of objectives) {
    for (const term of state.graphs[o].terms) {
      if (term.id === DATA_TERM_ID || graphTerm.has(term.id)) continue;
      graphTerm.set(term.id, { objective: o, term });
    }
  }

  const views: TermView[] = [];
  const primary = primaryObjective(state);
  const primarySeries = seriesOf(state, primary);
  views.push({
    id: DATA_TERM_ID,
    collection: 'data',
    kind: 'data',
    layer: null,
    weight: null,
    weightInfo: null,
    regularizer: null,
    objective: primary,
    evaluated: primarySeries !== undefined,
    stepsObserved: primarySeries?.step.length ?? 0,
    stepsInLoss: primarySeries?.step.length ?? 0,
    reachesMinimizedLoss: true,
    firstValue: primarySeries?.dataLoss[0] ?? null,
    lastValue: primarySeries?.dataLoss.at(-1) ?? null,
    source: null,
    nodeId: primary === null ? null : state.graphs[primary]?.terms.find((t) => t.id === DATA_TERM_ID)?.nodeId ?? null,
  });

  const view = (
    id: string,
    kind: TermView['kind'],
    layer: LayerInfo,
    weight: WeightInfo | null,
    regularizer: RegularizerInfo,
  ): TermView => {
    const g = graphTerm.get(id);
    const objective = g?.objective ?? null;
    const series = seriesOf(state, objective);
    const stepsObserved = series?.step.length ?? 0;
    const stepsInLoss = series?.termInLossSteps[id] ?? 0;
    return {
      id,
      collection: 'regularization',
      kind,
      layer: layer.name,
      weight: weight?.id ?? null,
      weightInfo: weight,
      regularizer,
      objective,
      evaluated: (g?.term.evaluated ?? false) || stepsInLoss > 0,
      stepsObserved,
      stepsInLoss,
      reachesMinimizedLoss: stepsObserved > 0 && stepsInLoss === stepsObserved,
      firstValue: firstNonNull(series?.terms[id]),
      lastValue: firstNonNull(series?.terms[id], true),
      source: layer.source,
      nodeId: g?.term.nodeId ?? null,
    };
  };

  for (const layer of state.layers) {
    for (const w of layer.weights) {
      if (w.regularizer) views.push(view(penaltyTermId(w.id), 'weight-penalty', layer, w, w.regularizer));
    }
    if (layer.activityRegularizer) {
      views.push(view(activityTermId(layer.name), 'activity-penalty', layer, null, layer.activityRegularizer));
    }
  }
  return views;
}

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

/** Each layer's penalty terms, looked up once instead of filtered per layer. */
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
