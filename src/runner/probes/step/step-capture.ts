// The captured (first) step of an objective: its loss graph, the raw variables it shows, and the layer list.
import type { NamedSite, PenaltyPiece, RawVariableInfo, RegularizerInfo, SourcePosition } from '../../../shared/protocol/run-data';
import type { RunnerEventInput } from '../../../shared/protocol/runner-protocol';
import type { TapeNode, TapeTensor, Tensor, Tf, Variable } from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';
import { variableName } from '../hooks/describe-names';
import type { HandTerm } from '../tape/hand-term-layout';
import type { Recognition } from '../tape/hand-written';
import { weightRole } from '../hooks/layer-descriptions';
import type { EvaluatedPenalty, LayerProbe } from '../hooks/layer-probe';
import type { SiteProbe } from '../hooks/site-probe';
import type { Objective } from './step-objective';
import { buildLossGraph, type TermSpec } from '../tape/tape-graph';

export class StepCapture {
  constructor(
    private readonly tf: Tf,
    private readonly layers: LayerProbe,
    private readonly frames: UserFrames,
    private readonly sites: SiteProbe,
    private readonly emit: (event: RunnerEventInput) => void,
  ) {}

  capture(
    objective: Objective,
    stepNo: number,
    tape: readonly TapeNode[],
    xs: Variable[],
    y: Tensor,
    evaluated: EvaluatedPenalty[],
    opOwner: Map<number, string>,
    recognition: Recognition | null,
    hand: HandTerm[],
    opSites: Map<number, SourcePosition | null>,
    recognitionMs: number,
  ): void {
    const started = performance.now();
    const layerWeights = this.layers.weightsByTensorId();
    const names = this.layers.names;
    const stepSource = this.frames.captureSite();
    const siteOf = (nodeId: number | null | undefined): NamedSite | null => {
      const pos = nodeId == null ? null : opSites.get(nodeId);
      return pos ? names.named(pos) : null;
    };
    const evaluatedTensor = new Map<string, number>();
    for (const p of evaluated) if (!evaluatedTensor.has(p.termId)) evaluatedTensor.set(p.termId, p.tensorId);
    const xIds = new Set(xs.map((x) => x.id));
    const terms: TermSpec[] = [];
    for (const r of this.layers.regularizedWeights()) {
      const tensorId = evaluatedTensor.get(r.termId) ?? null;
      // Penalties of weights this objective does not train belong to another objective (or none).
      if (tensorId === null && !xIds.has(r.variable.val.id)) continue;
      const summedAt = tensorId === null ? undefined : recognition?.taggedSummedAt.get(tensorId);
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
      terms.push({
        termId: a.termId,
        kind: 'activity-penalty',
        layer: a.layer,
        weight: null,
        regularizer: a.info,
        tensorId: null,
        weightTensorId: null,
        weightShape: [],
      });
    }

    // Every variable the graph may show: the layers' weights, then raw tf.variables (no layer).
    const weights = new Map<number, { weightId: string; layer: string | null }>(layerWeights);
    const rawVariables = new Map<number, Variable>();
    const noteRaw = (v: TapeTensor) => {
      if (weights.has(v.id) || !(v instanceof this.tf.Variable)) return;
      rawVariables.set(v.id, v as Variable);
      weights.set(v.id, { weightId: variableName(v as Variable), layer: null });
    };
    for (const x of xs) noteRaw(x);
    for (const h of hand) {
      h.term.weightTensors.forEach(noteRaw);
      const owners = new Set(h.term.weightTensors.map((t) => weights.get(t.id)?.layer ?? null));
      const layer = owners.size === 1 ? [...owners][0] : null;
      terms.push({
        termId: h.id,
        kind: 'hand-written',
        layer,
        weight: h.term.weights.length === 1 ? h.term.weights[0] : null,
        regularizer: summaryOf(h.term.pieces ?? []),
        tensorId: h.term.tensor.id,
        weightTensorId: null,
        weightShape: [],
        coveredTensorIds: h.term.weightTensors.map((t) => t.id),
        pieces: h.term.pieces ?? [],
        source: siteOf(h.term.nodeId),
        summedAt: siteOf(h.term.summedAtNodeId),
      });
    }

    for (const h of hand) if (h.term.pieces) objective.handPieces.set(h.id, h.term.pieces);
    for (const [termId, tensorId] of evaluatedTensor) {
      if (recognition?.taggedScale.has(tensorId)) objective.taggedScale.set(termId, recognition.taggedScale.get(tensorId)!);
    }

    const minimized = siteOf(recognition?.yNodeId);
    // Inside model.fit (or a one-line minimize) the scalar is built at the call itself: no name of the user's.
    const minimizedSource = minimized && stepSource && minimized.line === stepSource.line && minimized.file === stepSource.file ? { ...minimized, name: null } : minimized;
    const owners = new Map<number, string>();
    for (const [id, layer] of opOwner) owners.set(id, this.layers.listedName(layer));
    const graph = buildLossGraph({
      objective: objective.index,
      step: stepNo,
      tape,
      xs: xs.map((x) => ({ tensorId: x.id, weightId: weights.get(x.id)?.weightId ?? variableName(x) })),
      yTensorId: y.id,
      terms,
      opOwner: owners,
      weights,
      source: stepSource,
      minimizedSource,
    });
    const keep = new Set(graph.variables);
    objective.tracked = xs.filter((x) => keep.has(weights.get(x.id)?.weightId ?? variableName(x)));
    const covered = new Set(hand.flatMap((h) => h.term.weights));
    const raw: RawVariableInfo[] = [];
    for (const v of rawVariables.values()) {
      const name = variableName(v);
      if (!keep.has(name) && !covered.has(name)) continue;
      raw.push({
        id: name,
        name,
        shape: [...v.shape],
        trainable: Boolean(v.trainable),
        role: rawVariableRole(name),
        regularizer: null,
        source: this.sites.variableSource(v),
      });
    }
    if (raw.length) graph.rawVariables = raw;
    // The whole price of the captured step: placing its ops, recognising its terms, and building the graph.
    graph.captureMs = this.sites.recordedMs() + recognitionMs + (performance.now() - started);

    const layers = this.layers.layersIfChanged();
    if (layers) this.emit({ type: 'layers', layers });
    this.emit({ type: 'graph', graph });
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
