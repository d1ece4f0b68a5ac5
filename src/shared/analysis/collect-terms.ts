// Building the term views: what the layers declare and the captured graphs found, with each step's verdict.
// The views themselves, and the weight views built from them, are in terms.ts, which re-exports collectTerms.
import type { PenaltyPiece, RawVariableInfo, RegularizerInfo, TermInfo, WeightInfo } from '../protocol/run-data';
import { DATA_TERM_ID, activityTermId, penaltyTermId } from '../protocol/term-ids';
import { objectivesOf, primaryObjective, type RunState, type Series } from '../model/run-state';
import type { TermView } from './term-view';

/** The series of an objective's steps; none for a term no step trained. */
export function seriesOf(state: RunState, objective: number | null): Series | undefined {
  return objective === null ? undefined : state.series[objective];
}

function firstNonNull(values: Array<number | null> | undefined, fromEnd = false): number | null {
  if (!values) return null;
  const list = fromEnd ? [...values].reverse() : values;
  for (const v of list) if (v !== null) return v;
  return null;
}

/** The pieces of a layer's L1L2 regularizer on one weight, in tfjs's convention. */
function layerPieces(weight: string, r: RegularizerInfo): PenaltyPiece[] {
  if (r.className !== 'L1L2') return [{ weight, form: 'unknown', coefficient: null }];
  const out: PenaltyPiece[] = [];
  if (r.l1 !== 0) out.push({ weight, form: 'l1', coefficient: r.l1 });
  if (r.l2 !== 0) out.push({ weight, form: 'l2', coefficient: r.l2 });
  return out;
}

/** Raw tf.variables of the run (no layer), from every captured graph, once each. */
export function rawVariablesOf(state: RunState): RawVariableInfo[] {
  const out = new Map<string, RawVariableInfo>();
  for (const o of objectivesOf(state)) for (const v of state.graphs[o]?.rawVariables ?? []) if (!out.has(v.id)) out.set(v.id, v);
  return [...out.values()];
}

/** A captured term with the objective it belongs to, by term id. */
type GraphTerms = Map<string, { objective: number; term: TermInfo }>;

/** Every captured penalty term, once: it belongs to the objective that trains its weight, else to the first whose step computed it. */
function graphTermsOf(state: RunState): GraphTerms {
  const objectives = objectivesOf(state).filter((o) => state.graphs[o]);
  const graphTerm: GraphTerms = new Map();
  const trains = (o: number, weight: string | null) => weight !== null && state.graphs[o].variables.includes(weight);
  for (const o of objectives) {
    for (const term of state.graphs[o].terms) {
      if (term.id === DATA_TERM_ID) continue;
      const prev = graphTerm.get(term.id);
      if (!prev || (!trains(prev.objective, term.weight) && trains(o, term.weight))) graphTerm.set(term.id, { objective: o, term });
    }
  }
  return graphTerm;
}

/** The data loss of the primary objective, once a step was taken. */
function dataTermView(state: RunState): TermView | null {
  const primary = primaryObjective(state);
  if (primary === null) return null;
  const series = seriesOf(state, primary);
  return {
    id: DATA_TERM_ID,
    collection: 'data',
    kind: 'data',
    layer: null,
    weight: null,
    weightInfo: null,
    regularizer: null,
    objective: primary,
    evaluated: series !== undefined,
    stepsObserved: series?.step.length ?? 0,
    stepsInLoss: series?.step.length ?? 0,
    reachesMinimizedLoss: true,
    firstValue: series?.dataLoss[0] ?? null,
    lastValue: series?.dataLoss.at(-1) ?? null,
    source: null,
    nodeId: state.graphs[primary]?.terms.find((t) => t.id === DATA_TERM_ID)?.nodeId ?? null,
    pieces: [],
    sourceName: null,
    summedAt: null,
  };
}

/** What the run's layers and graphs say a penalty is, before its steps are counted. */
type PenaltySpec = Pick<TermView, 'id' | 'kind' | 'layer' | 'weight' | 'weightInfo' | 'regularizer' | 'source' | 'pieces'>;

/** A penalty's view: its spec, with the verdict and values of the steps of the objective it belongs to. */
function penaltyView(state: RunState, graphTerm: GraphTerms, spec: PenaltySpec): TermView {
  const g = graphTerm.get(spec.id);
  const objective = g?.objective ?? null;
  const series = seriesOf(state, objective);
  const stepsObserved = series?.step.length ?? 0;
  const stepsInLoss = series?.termInLossSteps[spec.id] ?? 0;
  const handSource = g?.term.source ?? null;
  // Field by field, in TermView's order: views are compared and sent as JSON.
  return {
    id: spec.id,
    collection: 'regularization',
    kind: spec.kind,
    layer: spec.layer,
    weight: spec.weight,
    weightInfo: spec.weightInfo,
    regularizer: spec.regularizer,
    objective,
    evaluated: (g?.term.evaluated ?? false) || stepsInLoss > 0,
    stepsObserved,
    stepsInLoss,
    reachesMinimizedLoss: stepsObserved > 0 && stepsInLoss === stepsObserved,
    firstValue: firstNonNull(series?.terms[spec.id]),
    lastValue: firstNonNull(series?.terms[spec.id], true),
    // A hand-written term is where the user's code built it, not the layer's line.
    source: handSource ? { file: handSource.file, line: handSource.line, column: handSource.column } : spec.source,
    nodeId: g?.term.nodeId ?? null,
    pieces: spec.pieces,
    sourceName: handSource?.name ?? null,
    summedAt: g?.term.summedAt ?? null,
  };
}

/** The penalties layers declare: each weight's regularizer, and the layer's activity regularizer. */
function layerPenaltySpecs(state: RunState): PenaltySpec[] {
  const specs: PenaltySpec[] = [];
  for (const layer of state.layers) {
    for (const w of layer.weights) {
      if (!w.regularizer) continue;
      const id = penaltyTermId(w.id);
      const pieces = layerPieces(w.id, w.regularizer);
      specs.push({ id, kind: 'weight-penalty', layer: layer.name, weight: w.id, weightInfo: w, regularizer: w.regularizer, source: layer.source, pieces });
    }
    if (layer.activityRegularizer) {
      const id = activityTermId(layer.name);
      specs.push({ id, kind: 'activity-penalty', layer: layer.name, weight: null, weightInfo: null, regularizer: layer.activityRegularizer, source: layer.source, pieces: [] });
    }
  }
  return specs;
}

/** The penalties the captured steps found written by hand, with the weight each is on (a layer's or a raw variable). */
function handWrittenSpecs(state: RunState, graphTerm: GraphTerms): PenaltySpec[] {
  const weightInfo = new Map<string, WeightInfo>();
  for (const l of state.layers) for (const w of l.weights) weightInfo.set(w.id, w);
  for (const v of rawVariablesOf(state)) if (!weightInfo.has(v.id)) weightInfo.set(v.id, v);
  return [...graphTerm]
    .filter(([, { term }]) => term.kind === 'hand-written')
    .map(([id, { term }]) => ({
      id,
      kind: 'hand-written',
      layer: term.layer,
      weight: term.weight,
      weightInfo: term.weight ? weightInfo.get(term.weight) ?? null : null,
      regularizer: term.regularizer,
      source: null,
      pieces: term.pieces ?? [],
    }));
}

/**
 * Every term: the data loss (when a step was taken), one per regularized layer weight or activity regularizer,
 * and every hand-written penalty the captured steps found. Each term id appears once (the first spec wins).
 */
export function collectTerms(state: RunState): TermView[] {
  const graphTerm = graphTermsOf(state);
  const data = dataTermView(state);
  const views: TermView[] = data ? [data] : [];
  const seen = new Set<string>();
  for (const spec of [...layerPenaltySpecs(state), ...handWrittenSpecs(state, graphTerm)]) {
    if (seen.has(spec.id)) continue;
    seen.add(spec.id);
    views.push(penaltyView(state, graphTerm, spec));
  }
  return views;
}
