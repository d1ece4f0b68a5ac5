import type { RunnerEventInput } from '../../shared/protocol/runner-protocol';
import type { EngineInternals, GradientsFn, OptimizerLike, Tensor, Tf, Variable } from '../tfjs-internals';
import type { UserFrames } from '../user-frames';
import type { LayerProbe, RegularizedWeight } from './layer-probe';
import { describeOptimizer, type OptimizerProbe } from './optimizer-probe';
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
}

export interface StepProbeOptions {
  stepLimit: number;
  emit: (event: RunnerEventInput) => void;
  /** Called after the step that reaches the limit has been reported. */
  onStepLimit: () => void;
  startedAt: number;
}

/**
 * One hook sees every training step: `engine.gradients`, which both `model.fit` and
 * `optimizer.minimize` / `variableGrads` loops reach. Top-level calls that differentiate
 * variables are steps; they are grouped by their variable set (a GAN has two objectives).
 */
export class StepProbe {
  private readonly objectives = new Map<string, Objective>();
  private readonly weightStats: WeightStats;

  constructor(
    private readonly tf: Tf,
    private readonly engine: EngineInternals,
    private readonly layers: LayerProbe,
    private readonly optimizers: OptimizerProbe,
    private readonly frames: UserFrames,
    private readonly options: StepProbeOptions,
  ) {
    this.weightStats = new WeightStats(tf);
  }

  install(): void {
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
    let started = performance.now();
    const objective = this.objectiveFor(xs);
    const stepNo = objective.steps + 1;
    const capture = objective.tracked === null;
    let total = Number.NaN;
    let inLoss = new Set<string>();
    const evaluatedValues = new Map<string, number>();

    this.layers.beginStep(capture);
    const wrapped = () => {
      const y = f();
      const afterF = performance.now();
      const tape = self.state.activeTape ?? [];
      const { evaluated, opOwner } = this.layers.endStep();
      total = readFirst(y);
      // A penalty reaches the minimized loss exactly when its tensor is an ancestor of y on this tape.
      const leadsToY = evaluated.length > 0 ? ancestorTensors(tape, [y.id]) : new Set<number>();
      for (const p of evaluated) {
        if (!evaluatedValues.has(p.termId)) evaluatedValues.set(p.termId, p.value);
        if (leadsToY.has(p.tensorId)) inLoss.add(p.termId);
      }
      if (capture) this.capture(objective, stepNo, tape, xs, y, evaluated, opOwner ?? new Map());
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
    }

    objective.steps = stepNo;
    this.report(objective, stepNo, xs, total, inLoss, evaluatedValues);
    probeClock.add(started, 'afterStep');
    if (this.stepsTaken() >= this.options.stepLimit) this.options.onStepLimit();
    return result;
  }

  private capture(
    objective: Objective,
    stepNo: number,
    tape: Parameters<typeof buildLossGraph>[0]['tape'],
    xs: Variable[],
    y: Tensor,
    evaluated: ReturnType<LayerProbe['endStep']>['evaluated'],
    opOwner: Map<number, string>,
  ): void {
    const weights = this.layers.weightsByTensorId();
    const evaluatedTensor = new Map<string, number>();
    for (const p of evaluated) if (!evaluatedTensor.has(p.termId)) evaluatedTensor.set(p.termId, p.tensorId);
    const xIds = new Set(xs.map((x) => x.id));
    const terms: TermSpec[] = [];
    for (const r of this.layers.regularizedWeights()) {
      const tensorId = evaluatedTensor.get(r.termId) ?? null;
      // Penalties of weights this objective does not train belong to another objective (or none).
      if (tensorId === null && !xIds.has(r.variable.val.id)) continue;
      terms.push({
        termId: r.termId,
        kind: 'weight-penalty',
        layer: r.layer,
        weight: r.variable.name,
        regularizer: r.info,
        tensorId,
        weightTensorId: r.variable.val.id,
        weightShape: [...r.variable.shape],
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
    const graph = buildLossGraph({
      objective: objective.index,
      step: stepNo,
      tape,
      xs: xs.map((x) => ({ tensorId: x.id, weightId: weights.get(x.id)?.weightId ?? x.name })),
      yTensorId: y.id,
      terms,
      opOwner,
      weights,
      source: this.frames.captureSite(),
    });
    const keep = new Set(graph.variables);
    objective.tracked = xs.filter((x) => keep.has(weights.get(x.id)?.weightId ?? x.name));

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
  ): void {
    const opt = this.optimizers.active();
    // Describing the optimizer is cheap but not free: redo it only when it, or its learning rate, changed.
    if (opt && (opt !== objective.optimizer || opt.learningRate !== objective.optimizerLr)) {
      objective.optimizer = opt;
      objective.optimizerLr = opt.learningRate;
      const info = describeOptimizer(opt);
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
    for (const r of regularized) {
      const value = evaluatedValues.get(r.termId) ?? (stats ? penaltyFromStats(r, stats) : undefined);
      if (value === undefined) continue;
      terms[r.termId] = value;
      if (inLoss.has(r.termId)) regularizationLoss += value;
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
        totalLoss: total,
        dataLoss: total - regularizationLoss,
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

/** The tfjs L1L2 penalty, l1·Σ|w| + l2·Σw², from the statistics the step already read. */
function penaltyFromStats(r: RegularizedWeight, stats: WeightSums): number | undefined {
  const sumSq = stats.sumSq.get(r.variable.val.id);
  const sumAbs = stats.sumAbs.get(r.variable.val.id);
  if (r.info.className !== 'L1L2') return undefined;
  if ((r.info.l2 !== 0 && sumSq === undefined) || (r.info.l1 !== 0 && sumAbs === undefined)) return undefined;
  return r.info.l1 * (sumAbs ?? 0) + r.info.l2 * (sumSq ?? 0);
}

function readFirst(t: Tensor): number {
  try {
    return t.dataSync()[0] as number;
  } catch {
    return Number.NaN;
  }
}
