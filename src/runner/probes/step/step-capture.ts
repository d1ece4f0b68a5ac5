// The captured (first) step of an objective: its loss graph, the raw variables it shows, and the layer list.
import type { NamedSite, PenaltyPiece, RawVariableInfo, RegularizerInfo, SourcePosition } from '../../../shared/protocol/run-data';
import type { RunnerEventInput } from '../../../shared/protocol/runner-protocol';
import type { TapeTensor, Tf, Variable } from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';
import { variableName } from '../hooks/describe-names';
import { weightRole } from '../hooks/layer-descriptions';
import type { LayerProbe } from '../hooks/layer-probe';
import type { SiteProbe } from '../hooks/site-probe';
import type { HandTerm } from '../tape/hand-term-layout';
import { buildLossGraph, type TermSpec } from '../tape/tape-graph';
import type { StepContext } from './step-context';

/** The user's line of a tape node, with the name the code there binds; null when no site was recorded. */
type SiteOf = (nodeId: number | null | undefined) => NamedSite | null;

/** Every variable a captured step's graph may show: the layers' weights, then raw tf.variables (no layer). */
interface KnownVariables {
  weights: Map<number, { weightId: string; layer: string | null }>;
  raw: Map<number, Variable>;
}

export class StepCapture {
  constructor(
    private readonly tf: Tf,
    private readonly layers: LayerProbe,
    private readonly frames: UserFrames,
    private readonly sites: SiteProbe,
    private readonly emit: (event: RunnerEventInput) => void,
  ) {}

  /** Builds and sends the step's loss graph (and the layer list when it changed); remembers what later steps reuse. */
  capture(context: StepContext): void {
    const started = performance.now();
    const { objective, trained, recognition } = context;
    const stepSource = this.frames.captureSite();
    const siteOf = this.siteNamer(context.opSites);
    const evaluatedTensor = new Map<string, number>();
    for (const p of context.evaluated) if (!evaluatedTensor.has(p.termId)) evaluatedTensor.set(p.termId, p.tensorId);
    const known = this.knownVariables(context);
    const terms = [...this.layerTerms(context, evaluatedTensor, siteOf), ...handTermSpecs(context.hand, known, siteOf)];
    rememberForLaterSteps(context, evaluatedTensor);

    const minimized = siteOf(recognition?.yNodeId);
    // Inside model.fit (or a one-line minimize) the scalar is built at the call itself: no name of the user's.
    const minimizedSource = minimized && stepSource && minimized.line === stepSource.line && minimized.file === stepSource.file ? { ...minimized, name: null } : minimized;
    const owners = new Map<number, string>();
    for (const [id, layer] of context.opOwner) owners.set(id, this.layers.listedName(layer));
    const weightIdOf = (x: Variable) => known.weights.get(x.id)?.weightId ?? variableName(x);
    const graph = buildLossGraph({
      objective: objective.index,
      step: context.stepNo,
      tape: context.tape,
      xs: trained.map((x) => ({ tensorId: x.id, weightId: weightIdOf(x) })),
      yTensorId: context.y.id,
      terms,
      opOwner: owners,
      weights: known.weights,
      source: stepSource,
      minimizedSource,
    });
    const keep = new Set(graph.variables);
    objective.tracked = trained.filter((x) => keep.has(weightIdOf(x)));
    const raw = this.rawVariableInfos(known, keep, new Set(context.hand.flatMap((h) => h.term.weights)));
    if (raw.length) graph.rawVariables = raw;
    // The whole price of the captured step: placing its ops, recognising its terms, and building the graph.
    graph.captureMs = this.sites.recordedMs() + context.recognitionMs + (performance.now() - started);

    const layers = this.layers.layersIfChanged();
    if (layers) this.emit({ type: 'layers', layers });
    this.emit({ type: 'graph', graph });
  }

  /** Names the recorded op sites of this step. */
  private siteNamer(opSites: ReadonlyMap<number, SourcePosition | null>): SiteOf {
    const names = this.layers.names;
    return (nodeId) => {
      const pos = nodeId == null ? null : opSites.get(nodeId);
      return pos ? names.named(pos) : null;
    };
  }

  /** The layer penalties of this objective (evaluated or not), then every activity penalty. */
  private layerTerms(context: StepContext, evaluatedTensor: ReadonlyMap<string, number>, siteOf: SiteOf): TermSpec[] {
    const terms: TermSpec[] = [];
    const xIds = new Set(context.trained.map((x) => x.id));
    for (const r of this.layers.regularizedWeights()) {
      const tensorId = evaluatedTensor.get(r.termId) ?? null;
      // Penalties of weights this objective does not train belong to another objective (or none).
      if (tensorId === null && !xIds.has(r.variable.val.id)) continue;
      const summedAt = tensorId === null ? undefined : context.recognition?.taggedSummedAt.get(tensorId);
      terms.push({
        termId: r.termId,
        kind: 'weight-penalty',
        layer: this.layers.ownerOf(r.variable.name) ?? r.layer,
        weight: r.variable.name,
        regularizer: r.info,
        tensorId,
        weightTensorId: r.variable.val.id,
        weightShape: [...r.variable.shape],
        ...(summedAt !== undefined ? { summedAt: siteOf(summedAt) } : {}),
      });
    }
    for (const a of this.layers.activityTerms()) {
      terms.push({ termId: a.termId, kind: 'activity-penalty', layer: a.layer, weight: null, regularizer: a.info, tensorId: null, weightTensorId: null, weightShape: [] });
    }
    return terms;
  }

  /** The layers' weights, and the raw tf.variables the step trains or its hand-written terms cover. */
  private knownVariables(context: StepContext): KnownVariables {
    const weights = new Map<number, { weightId: string; layer: string | null }>(this.layers.weightsByTensorId());
    const raw = new Map<number, Variable>();
    const noteRaw = (v: TapeTensor) => {
      if (weights.has(v.id) || !(v instanceof this.tf.Variable)) return;
      raw.set(v.id, v as Variable);
      weights.set(v.id, { weightId: variableName(v as Variable), layer: null });
    };
    for (const x of context.trained) noteRaw(x);
    for (const h of context.hand) h.term.weightTensors.forEach(noteRaw);
    return { weights, raw };
  }

  /** The raw variables the graph shows (or a hand-written term covers), described for the report. */
  private rawVariableInfos(known: KnownVariables, keep: ReadonlySet<string>, covered: ReadonlySet<string>): RawVariableInfo[] {
    const out: RawVariableInfo[] = [];
    for (const v of known.raw.values()) {
      const name = variableName(v);
      if (!keep.has(name) && !covered.has(name)) continue;
      out.push({ id: name, name, shape: [...v.shape], trainable: Boolean(v.trainable), role: rawVariableRole(name), regularizer: null, source: this.sites.variableSource(v) });
    }
    return out;
  }
}

/** The hand-written terms, each with the layer that owns all the weights it covers (if one does). */
function handTermSpecs(hand: readonly HandTerm[], known: KnownVariables, siteOf: SiteOf): TermSpec[] {
  return hand.map((h) => {
    const owners = new Set(h.term.weightTensors.map((t) => known.weights.get(t.id)?.layer ?? null));
    return {
      termId: h.id,
      kind: 'hand-written',
      layer: owners.size === 1 ? [...owners][0] : null,
      weight: h.term.weights.length === 1 ? h.term.weights[0] : null,
      regularizer: summaryOf(h.term.pieces ?? []),
      tensorId: h.term.tensor.id,
      weightTensorId: null,
      weightShape: [],
      coveredTensorIds: h.term.weightTensors.map((t) => t.id),
      pieces: h.term.pieces ?? [],
      source: siteOf(h.term.nodeId),
      summedAt: siteOf(h.term.summedAtNodeId),
    };
  });
}

/** What later steps of the objective reuse: each hand-written term's pieces, and what each layer penalty counts in y. */
function rememberForLaterSteps(context: StepContext, evaluatedTensor: ReadonlyMap<string, number>): void {
  const { objective, recognition } = context;
  for (const h of context.hand) if (h.term.pieces) objective.handPieces.set(h.id, h.term.pieces);
  for (const [termId, tensorId] of evaluatedTensor) {
    if (recognition?.taggedScale.has(tensorId)) objective.taggedScale.set(termId, recognition.taggedScale.get(tensorId)!);
  }
}

/** The L1/L2 summary of a hand-written term when every piece has one plain coefficient per form; else null. */
function summaryOf(pieces: readonly PenaltyPiece[]): RegularizerInfo | null {
  if (pieces.length === 0 || pieces.some((p) => (p.form !== 'l1' && p.form !== 'l2') || p.coefficient === null)) return null;
  const l1 = [...new Set(pieces.filter((p) => p.form === 'l1').map((p) => p.coefficient))];
  const l2 = [...new Set(pieces.filter((p) => p.form === 'l2').map((p) => p.coefficient))];
  if (l1.length > 1 || l2.length > 1) return null;
  return { className: 'HandWritten', l1: l1[0] ?? 0, l2: l2[0] ?? 0 };
}

/** A raw variable's role from its name, as people name them (`conv1/weights`, `biases`, `W`, `b`). */
function rawVariableRole(name: string): RawVariableInfo['role'] {
  const leaf = (name.split('/').pop() ?? name).toLowerCase();
  if (/^(b|bias|biases)(_?\d+)?$/.test(leaf)) return 'bias';
  if (/^(w|weight|weights|kernel)(_?\d+)?$/.test(leaf)) return 'kernel';
  return weightRole(name);
}
