import type { NamedSite, PenaltyPiece, RawVariableInfo, RegularizerInfo, SourcePosition } from '../../shared/protocol/run-data';
import type { RunnerEventInput } from '../../shared/protocol/runner-protocol';
import { handWrittenTermId } from '../../shared/protocol/term-ids';
import {
  readScalar,
  tapeTensor,
  type EngineInternals,
  type GradientsFn,
  type OptimizerLike,
  type TapeNode,
  type TapeTensor,
  type Tensor,
  type Tf,
  type Variable,
} from '../tfjs-internals';
import type { UserFrames } from '../user-frames';
import type { EffectiveDecay, PenaltyGradientSpec, PenalizedWeightStep } from './effective-decay';
import { recognizeHandWritten, type Recognition, type RecognizedTerm } from './hand-written';
import { weightRole, type LayerProbe, type RegularizedWeight } from './layer-probe';
import { optimizerInfo, type OptimizerProbe } from './optimizer-probe';
import { SiteProbe } from './site-probe';
import { ancestorTensors, buildLossGraph, type TermSpec } from './tape-graph';
import { NormSchedule, WeightStats, type WeightSums } from './weight-stats';
import { probeClock } from './probe-clock';

interface Objective {
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
  /** The objective's variables by name (its variable set never changes). */
  variablesByName: Map<string, Variable>;
}

/** A penalty the decoupled what-if takes out of this step's minimized scalar: its tensor and what it counts there. */
interface RemovedPenalty {
  termId: string;
  tensor: Tensor;
  scale: number;
  value: number;
}

interface HandLayout {
  kernels: string[];
  yIndex: number;
  terms: Array<{ id: string; index: number; output: number; inLoss: boolean; scale: number | null }>;
}

/** A hand-written term of one step, with its stable id and what it counts this step. */
interface HandTerm {
  id: string;
  term: RecognizedTerm;
  value: number;
}

export interface StepProbeOptions {
  stepLimit: number;
  emit: (event: RunnerEventInput) => void;
  /** Called after the step that reaches the limit has been reported. */
  onStepLimit: () => void;
  startedAt: number;
  /** The effective-decay probe (issue 11), told about every step; its mode says whether penalties stay in the loss. */
  decay?: EffectiveDecay | null;
}

/**
 * One hook sees every training step: `engine.gradients`, which both `model.fit` and
 * `optimizer.minimize` / `variableGrads` loops reach. Top-level calls that differentiate
 * variables are steps; they are grouped by their variable set (a GAN has two objectives).
 */
export class StepProbe {
  private readonly objectives = new Map<string, Objective>();
  private readonly weightStats: WeightStats;
  private readonly sites: SiteProbe;
  /** The step limit was reached inside minimize(): the run ends once that step's update is applied. */
  private limitPending = false;

  constructor(
    private readonly tf: Tf,
    private readonly engine: EngineInternals,
    private readonly layers: LayerProbe,
    private readonly optimizers: OptimizerProbe,
    private readonly frames: UserFrames,
    private readonly options: StepProbeOptions,
  ) {
    this.weightStats = new WeightStats(tf);
    this.sites = new SiteProbe(engine, frames, () => layers.insideLayer());
  }

  install(): void {
    this.sites.install();
    this.optimizers.onUpdate((update) => this.options.emit({ type: 'optimizer-weights', update }));
    const probe = this;
    const original = this.engine.gradients;
    const engine = this.engine;
    engine.gradients = function gradients(this: EngineInternals, f, xs, dy, allowNoGradients) {
      if (engine.state.gradientDepth > 0 || !xs.some((x) => x instanceof probe.tf.Variable)) {
        return original.call(this, f, xs, dy, allowNoGradients);
      }
      return probe.step(original, this, f, xs as Variable[], dy, allowNoGradients);
    } satisfies GradientsFn;
  }

  stepsTaken(): number {
    let max = 0;
    for (const o of this.objectives.values()) max = Math.max(max, o.steps);
    return max;
  }

  private objectiveFor(xs: Tensor[]): Objective {
    const signature = xs
      .map((x) => x.id)
      .sort((a, b) => a - b)
      .join(',');
    let o = this.objectives.get(signature);
    if (!o) {
      o = {
        index: this.objectives.size,
        steps: 0,
        lastEnd: this.options.startedAt,
        norms: new NormSchedule(),
        tracked: null,
        optimizerSignature: '',
        optimizer: null,
        optimizerLr: undefined,
        handWritten: null,
        handPieces: new Map(),
        taggedScale: new Map(),
        variablesByName: new Map(xs.map((x) => [(x as Variable).name, x as Variable])),
      };
      this.objectives.set(signature, o);
    }
    return o;
  }

  private step(
    original: GradientsFn,
    self: EngineInternals,
    f: () => Tensor,
    xs: Variable[],
    dy: Tensor | undefined,
    allowNoGradients: boolean | undefined,
  ): ReturnType<GradientsFn> {
    // A step past the limit (its update came and went without our hearing of it): end now.
    if (this.limitPending) this.reachLimit();
    let started = performance.now();
    const objective = this.objectiveFor(xs);
    const stepNo = objective.steps + 1;
    const decay = this.options.decay ?? null;
    decay?.beginStep(objective.index);
    const decoupled = decay?.mode === 'decoupled';
    let removed: RemovedPenalty[] = [];
    const capture = objective.tracked === null;
    let total = Number.NaN;
    let inLoss = new Set<string>();
    const evaluatedValues = new Map<string, number>();
    const handValues = new Map<string, number>();
    const opSites = capture ? this.sites.recordOps() : null;
    let recognitionMs = 0;

    this.layers.beginStep(capture);
    const wrapped = () => {
      const y = f();
      this.sites.stopRecording();
      const afterF = performance.now();
      const tape = self.state.activeTape ?? [];
      const { evaluated, opOwner } = this.layers.endStep();
      total = readScalar(y);
      const tensors = decoupled ? new Map<string, { tensor: Tensor; scale: number | null }>() : null;
      // A penalty reaches the minimized loss exactly when its tensor is an ancestor of y on this tape.
      const leadsToY = evaluated.length > 0 ? ancestorTensors(tape, [y.id]) : new Set<number>();
      for (const p of evaluated) {
        if (!evaluatedValues.has(p.termId)) evaluatedValues.set(p.termId, p.value);
        if (leadsToY.has(p.tensorId)) inLoss.add(p.termId);
      }
      let recognition: Recognition | null = null;
      let hand: HandTerm[] = [];
      const layout = objective.handWritten;
      const known = !capture && layout !== null ? fromLayout(layout, tape, y) : null;
      if (known) {
        for (const h of known) {
          if (!handValues.has(h.id)) handValues.set(h.id, h.value);
          if (h.inLoss) inLoss.add(h.id);
          if (h.inLoss) tensors?.set(h.id, { tensor: h.tensor, scale: h.scale });
        }
      } else if (capture || layout !== null) {
        const recognitionStarted = performance.now();
        recognition = recognizeHandWritten({
          tape,
          yTensorId: y.id,
          variableOf: (t) => (t instanceof this.tf.Variable && t.trainable ? t.name : null),
          tagged: new Set(evaluated.map((p) => p.tensorId)),
          constantValue: readConstant,
          parseForms: capture,
        });
        hand = handTerms(recognition);
        for (const h of hand) {
          if (!handValues.has(h.id)) handValues.set(h.id, h.value);
          if (h.term.inLoss) inLoss.add(h.id);
          if (h.term.inLoss) tensors?.set(h.id, { tensor: tapeTensor(h.term.tensor), scale: h.term.scale });
        }
        if (capture && hand.length > 0) objective.handWritten = layoutOf(tape, y, hand);
        recognitionMs = performance.now() - recognitionStarted;
      }
      if (capture) this.capture(objective, stepNo, tape, xs, y, evaluated, opOwner ?? new Map(), recognition, hand, opSites ?? new Map(), recognitionMs);
      if (tensors) {
        removed = this.removablePenalties(objective, evaluated, leadsToY, tensors, handValues);
        if (removed.length > 0) {
          const without = this.withoutPenalties(y, removed);
          probeClock.add(afterF, 'afterLoss');
          return without;
        }
      }
      probeClock.add(afterF, 'afterLoss');
      return y;
    };
    let result: ReturnType<GradientsFn>;
    probeClock.add(started, 'before');
    try {
      result = original.call(self, wrapped, xs, dy, allowNoGradients);
    } finally {
      started = performance.now();
      this.layers.endStep();
      this.sites.stopRecording();
    }

    // The optimizer running minimize() applies these gradients once we return; say so now, since a run that
    // stops at its step limit never gets there.
    const running = this.optimizers.running();
    if (capture && running) this.optimizers.noteUpdates(running, (objective.tracked ?? xs).map((x) => x.name));

    objective.steps = stepNo;
    this.report(objective, stepNo, xs, total, inLoss, evaluatedValues, handValues, removed);
    probeClock.add(started, 'afterStep');
    if (this.stepsTaken() >= this.options.stepLimit) {
      // Inside minimize() the step's update follows at once: its effective decay (and the what-if's decay) needs it.
      if (running && !this.limitPending) {
        this.limitPending = true;
        this.optimizers.onceAfterApply(() => this.reachLimit());
        setImmediate(() => this.reachLimit());
      } else if (!running) this.options.onStepLimit();
    }
    return result;
  }

  private reachLimit(): void {
    if (!this.limitPending) return;
    this.limitPending = false;
    this.options.onStepLimit();
  }

  /**
   * The decoupled what-if: the L1/L2 penalties that reach this step's minimized scalar (layer regularizers, and
   * hand-written terms whose every piece is L1 or L2), with what each counts there.
   */
  private removablePenalties(
    objective: Objective,
    evaluated: ReturnType<LayerProbe['endStep']>['evaluated'],
    leadsToY: Set<number>,
    hand: Map<string, { tensor: Tensor; scale: number | null }>,
    handValues: Map<string, number>,
  ): RemovedPenalty[] {
    const out: RemovedPenalty[] = [];
    const seen = new Set<string>();
    const infoOf = new Map(this.layers.regularizedWeights().map((r) => [r.termId, r.info]));
    for (const p of evaluated) {
      if (seen.has(p.termId) || !leadsToY.has(p.tensorId) || infoOf.get(p.termId)?.className !== 'L1L2') continue;
      seen.add(p.termId);
      const scale = objective.taggedScale.get(p.termId) ?? 1;
      out.push({ termId: p.termId, tensor: p.tensor, scale, value: p.value * scale });
    }
    for (const [id, h] of hand) {
      const pieces = objective.handPieces.get(id);
      if (h.scale === null || !pieces?.length || pieces.some((x) => (x.form !== 'l1' && x.form !== 'l2') || x.coefficient === null)) continue;
      out.push({ termId: id, tensor: h.tensor, scale: h.scale, value: handValues.get(id) ?? Number.NaN });
    }
    return out;
  }

  /** y − Σ scale·Σ penalty: the same scalar without the penalties, so their gradient is gone whatever the script did with them. */
  private withoutPenalties(y: Tensor, removed: RemovedPenalty[]): Tensor {
    if (y.size !== 1) return y;
    const tf = this.tf;
    let sum: Tensor | null = null;
    for (const r of removed) {
      const part = tf.mul(tf.sum(r.tensor), r.scale);
      sum = sum ? tf.add(sum, part) : part;
    }
    return sum ? tf.sub(y, tf.reshape(sum, y.shape)) : y;
  }

  private capture(
    objective: Objective,
    stepNo: number,
    tape: readonly TapeNode[],
    xs: Variable[],
    y: Tensor,
    evaluated: ReturnType<LayerProbe['endStep']>['evaluated'],
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
      weights.set(v.id, { weightId: (v as Variable).name, layer: null });
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
      xs: xs.map((x) => ({ tensorId: x.id, weightId: weights.get(x.id)?.weightId ?? x.name })),
      yTensorId: y.id,
      terms,
      opOwner: owners,
      weights,
      source: stepSource,
      minimizedSource,
    });
    const keep = new Set(graph.variables);
    objective.tracked = xs.filter((x) => keep.has(weights.get(x.id)?.weightId ?? x.name));
    const covered = new Set(hand.flatMap((h) => h.term.weights));
    const raw: RawVariableInfo[] = [];
    for (const v of rawVariables.values()) {
      if (!keep.has(v.name) && !covered.has(v.name)) continue;
      raw.push({
        id: v.name,
        name: v.name,
        shape: [...v.shape],
        trainable: v.trainable,
        role: rawVariableRole(v.name),
        regularizer: null,
        source: this.sites.variableSource(v),
      });
    }
    if (raw.length) graph.rawVariables = raw;
    // The whole price of the captured step: placing its ops, recognising its terms, and building the graph.
    graph.captureMs = this.sites.recordedMs() + recognitionMs + (performance.now() - started);

    const layers = this.layers.layersIfChanged();
    if (layers) this.options.emit({ type: 'layers', layers });
    this.options.emit({ type: 'graph', graph });
  }

  private report(
    objective: Objective,
    stepNo: number,
    xs: Variable[],
    total: number,
    inLoss: Set<string>,
    evaluatedValues: Map<string, number>,
    handValues: Map<string, number>,
    removed: RemovedPenalty[] = [],
  ): void {
    const opt = this.optimizers.active();
    // Describing the optimizer is cheap but not free: redo it only when it, or its learning rate, changed.
    if (opt && (opt !== objective.optimizer || opt.learningRate !== objective.optimizerLr)) {
      objective.optimizer = opt;
      objective.optimizerLr = opt.learningRate;
      const info = optimizerInfo(opt);
      const signature = JSON.stringify(info);
      if (signature !== objective.optimizerSignature) {
        objective.optimizerSignature = signature;
        this.options.emit({ type: 'optimizer', objective: objective.index, optimizer: info });
      }
    }

    const tracked = (objective.tracked ?? []).filter((v) => !v.isDisposed);
    // Penalties of this objective: on the weights it trains, or computed in its step.
    const xIds = new Set(xs.map((x) => x.id));
    const regularized = this.layers
      .regularizedWeights()
      .filter((r) => !r.variable.val.isDisposed && (xIds.has(r.variable.val.id) || evaluatedValues.has(r.termId)));
    const isLast = this.stepsTaken() >= this.options.stepLimit;
    const measure = objective.norms.shouldMeasure(stepNo, isLast, Number.isFinite(total));
    const stats = measure ? this.measureWeights(objective, stepNo, tracked, regularized) : null;

    const terms: Record<string, number> = {};
    let regularizationLoss = 0;
    // The what-if took these out of the scalar it minimized: they count neither in the total nor as regularization.
    const removedIds = new Set(removed.map((r) => r.termId));
    const minimized = total - removed.reduce((sum, r) => sum + r.value, 0);
    for (const r of regularized) {
      const value = evaluatedValues.get(r.termId) ?? (stats ? penaltyFromStats(r, stats) : undefined);
      if (value === undefined) continue;
      terms[r.termId] = value;
      if (inLoss.has(r.termId) && !removedIds.has(r.termId)) regularizationLoss += value;
    }
    for (const [id, value] of handValues) {
      terms[id] = value;
      if (inLoss.has(id) && !removedIds.has(id)) regularizationLoss += value;
    }
    const weightNorms: Record<string, number> = {};
    if (stats) {
      for (const v of tracked) {
        const s = stats.sumSq.get(v.id);
        if (s !== undefined) weightNorms[v.name] = Math.sqrt(s);
      }
    }
    const now = performance.now();
    this.options.emit({
      type: 'step',
      record: {
        objective: objective.index,
        step: stepNo,
        totalLoss: minimized,
        dataLoss: minimized - regularizationLoss,
        regularizationLoss,
        terms,
        inLoss: [...inLoss],
        weightNorms,
        learningRate: typeof opt?.learningRate === 'number' ? opt.learningRate : null,
        wallMs: now - objective.lastEnd,
      },
    });
    objective.norms.stepTook(now - objective.lastEnd);
    objective.lastEnd = now;
    this.options.decay?.noteStep(objective.index, stepNo, xs, this.penalizedWeights(objective, xs, regularized, inLoss, removedIds));
  }

  /** Each penalized weight this objective trains, with the penalties that reached its minimized loss this step. */
  private penalizedWeights(objective: Objective, xs: Variable[], regularized: RegularizedWeight[], inLoss: Set<string>, removed: Set<string>): PenalizedWeightStep[] {
    const out = new Map<string, PenalizedWeightStep>();
    const xIds = new Set(xs.map((x) => x.id));
    const entry = (v: Variable) => {
      let e = out.get(v.name);
      if (!e) {
        e = { variable: v, reaching: [], decoupledL2: 0 };
        out.set(v.name, e);
      }
      return e;
    };
    for (const r of regularized) {
      if (!xIds.has(r.variable.val.id)) continue;
      const e = entry(r.variable.val);
      if (!inLoss.has(r.termId)) continue;
      if (removed.has(r.termId)) e.decoupledL2 += r.info.l2;
      else e.reaching.push(...regularizerSpecs(r.info));
    }
    for (const [id, pieces] of objective.handPieces) {
      for (const piece of pieces) {
        const v = objective.variablesByName.get(piece.weight);
        if (!v) continue;
        const e = entry(v);
        if (!inLoss.has(id)) continue;
        if (removed.has(id)) e.decoupledL2 += piece.form === 'l2' ? (piece.coefficient ?? 0) : 0;
        else e.reaching.push({ form: piece.form, coefficient: piece.coefficient });
      }
    }
    return [...out.values()];
  }

  /** Σw² of the tracked and L2-penalized weights, Σ|w| of the L1-penalized ones, timed for the schedule. */
  private measureWeights(objective: Objective, stepNo: number, tracked: Variable[], regularized: RegularizedWeight[]): WeightSums {
    const started = performance.now();
    const squares = new Map<number, Variable>();
    for (const v of tracked) squares.set(v.id, v);
    for (const r of regularized) if (r.info.l2 !== 0) squares.set(r.variable.val.id, r.variable.val);
    const absolutes = regularized.filter((r) => r.info.l1 !== 0).map((r) => r.variable.val);
    const sums = this.weightStats.measure([...squares.values()], absolutes);
    objective.norms.measured(stepNo, performance.now() - started);
    return sums;
  }
}

/** A layer regularizer's pieces in tfjs's convention: L1L2 is l1·Σ|w| + l2·Σw²; any other class has a form we do not know. */
function regularizerSpecs(info: RegularizerInfo): PenaltyGradientSpec[] {
  if (info.className !== 'L1L2') return [{ form: 'unknown', coefficient: null }];
  const out: PenaltyGradientSpec[] = [];
  if (info.l1 !== 0) out.push({ form: 'l1', coefficient: info.l1 });
  if (info.l2 !== 0) out.push({ form: 'l2', coefficient: info.l2 });
  return out;
}

/** The tfjs L1L2 penalty, l1·Σ|w| + l2·Σw², from the statistics the step already read. */
function penaltyFromStats(r: RegularizedWeight, stats: WeightSums): number | undefined {
  const sumSq = stats.sumSq.get(r.variable.val.id);
  const sumAbs = stats.sumAbs.get(r.variable.val.id);
  if (r.info.className !== 'L1L2') return undefined;
  if ((r.info.l2 !== 0 && sumSq === undefined) || (r.info.l1 !== 0 && sumAbs === undefined)) return undefined;
  return r.info.l1 * (sumAbs ?? 0) + r.info.l2 * (sumSq ?? 0);
}

/** Where the captured step's hand-written terms sit on its tape (an empty layout, matching nothing, if one is not on it). */
function layoutOf(tape: readonly TapeNode[], y: Tensor, hand: HandTerm[]): HandLayout {
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
function fromLayout(
  layout: HandLayout,
  tape: readonly TapeNode[],
  y: Tensor,
): Array<{ id: string; inLoss: boolean; value: number; tensor: Tensor; scale: number | null }> | null {
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
function handTerms(recognition: Recognition): HandTerm[] {
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
function readConstant(t: TapeTensor): number | null {
  try {
    return tapeTensor(t).dataSync()[0] as number;
  } catch {
    return null;
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
