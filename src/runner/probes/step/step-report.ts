// What each step reports: its loss split and weight norms, its optimizer when that changed, and its penalized weights to the decay probe.
import type { RegularizerInfo } from '../../../shared/protocol/run-data';
import type { RunnerEventInput } from '../../../shared/protocol/runner-protocol';
import type { OptimizerLike, Tf, Variable } from '../../tfjs-internals';
import type { EffectiveDecay, PenalizedWeightStep } from '../decay/effective-decay';
import type { PenaltyGradientSpec } from '../decay/penalized-weight';
import { WeightStats, type WeightSums } from '../decay/weight-stats';
import type { LayerProbe, RegularizedWeight } from '../hooks/layer-probe';
import { optimizerInfo, type OptimizerProbe } from '../hooks/optimizer-probe';
import type { StepContext } from './step-context';
import type { Objective } from './step-objective';

/** A step's loss split: each penalty's value, and the regularization inside the scalar the optimizer minimized. */
interface LossSplit {
  terms: Record<string, number>;
  /** The minimized scalar (the what-if's removed penalties taken out), and the penalties' share of it. */
  minimized: number;
  regularizationLoss: number;
  removedIds: Set<string>;
}

export class StepReport {
  private readonly weightStats: WeightStats;

  constructor(
    tf: Tf,
    private readonly layers: LayerProbe,
    private readonly optimizers: OptimizerProbe,
    private readonly emit: (event: RunnerEventInput) => void,
    private readonly decay: EffectiveDecay | null | undefined,
  ) {
    this.weightStats = new WeightStats(tf);
  }

  /** Sends the step's record (and its optimizer when that changed), and tells the decay probe about its penalized weights. */
  report(context: StepContext): void {
    const { objective, stepNo, trained, total, isLast } = context;
    const opt = this.optimizers.active();
    this.noteOptimizer(objective, opt);

    const tracked = (objective.tracked ?? []).filter((v) => !v.isDisposed);
    // Penalties of this objective: on the weights it trains, or computed in its step.
    const xIds = new Set(trained.map((x) => x.id));
    const regularized = this.layers
      .regularizedWeights()
      .filter((r) => !r.variable.val.isDisposed && (xIds.has(r.variable.val.id) || context.evaluatedValues.has(r.termId)));
    const measure = objective.norms.shouldMeasure(stepNo, isLast, Number.isFinite(total));
    const stats = measure ? this.measureWeights(objective, stepNo, tracked, regularized) : null;
    const split = lossSplit(context, regularized, stats);
    const norms = stats ? weightNorms(tracked, stats) : {};
    const now = performance.now();
    this.emit({
      type: 'step',
      record: {
        objective: objective.index,
        step: stepNo,
        totalLoss: split.minimized,
        dataLoss: split.minimized - split.regularizationLoss,
        regularizationLoss: split.regularizationLoss,
        terms: split.terms,
        inLoss: [...context.inLoss],
        weightNorms: norms,
        learningRate: typeof opt?.learningRate === 'number' ? opt.learningRate : null,
        wallMs: now - objective.lastEnd,
      },
    });
    objective.norms.stepTook(now - objective.lastEnd);
    objective.lastEnd = now;
    this.decay?.noteStep(objective.index, stepNo, trained, penalizedWeights(objective, trained, regularized, context.inLoss, split.removedIds));
  }

  /** Sends the objective's optimizer when it changed. Describing it is cheap but not free: redone only when it, or its learning rate, changed. */
  private noteOptimizer(objective: Objective, opt: OptimizerLike | null): void {
    if (!opt || (opt === objective.optimizer && opt.learningRate === objective.optimizerLr)) return;
    objective.optimizer = opt;
    objective.optimizerLr = opt.learningRate;
    const info = optimizerInfo(opt);
    const signature = JSON.stringify(info);
    if (signature === objective.optimizerSignature) return;
    objective.optimizerSignature = signature;
    this.emit({ type: 'optimizer', objective: objective.index, optimizer: info });
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

/** Each penalty's value this step (a layer penalty not computed: from the weight statistics), and the regularization in the minimized scalar. */
function lossSplit(context: StepContext, regularized: readonly RegularizedWeight[], stats: WeightSums | null): LossSplit {
  const { inLoss, evaluatedValues, removed } = context;
  const terms: Record<string, number> = {};
  let regularizationLoss = 0;
  // The what-if took these out of the scalar it minimized: they count neither in the total nor as regularization.
  const removedIds = new Set(removed.map((r) => r.termId));
  const minimized = context.total - removed.reduce((sum, r) => sum + r.value, 0);
  for (const r of regularized) {
    const value = evaluatedValues.get(r.termId) ?? (stats ? penaltyFromStats(r, stats) : undefined);
    if (value === undefined) continue;
    terms[r.termId] = value;
    if (inLoss.has(r.termId) && !removedIds.has(r.termId)) regularizationLoss += value;
  }
  for (const [id, value] of context.handValues) {
    terms[id] = value;
    if (inLoss.has(id) && !removedIds.has(id)) regularizationLoss += value;
  }
  return { terms, minimized, regularizationLoss, removedIds };
}

/** ‖w‖ of each tracked weight that was measured, by weight name. */
function weightNorms(tracked: readonly Variable[], stats: WeightSums): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of tracked) {
    const s = stats.sumSq.get(v.id);
    if (s !== undefined) out[v.name] = Math.sqrt(s);
  }
  return out;
}

/** Each penalized weight this objective trains, with the penalties that reached its minimized loss this step. */
function penalizedWeights(objective: Objective, xs: Variable[], regularized: RegularizedWeight[], inLoss: Set<string>, removed: Set<string>): PenalizedWeightStep[] {
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
