// The step probe: hooks engine.gradients, groups steps by objective, and runs each step's capture, what-if and report.
import type { RunnerEventInput } from '../../../shared/protocol/runner-protocol';
import type { SourcePosition } from '../../../shared/protocol/run-data';
import {
  readScalar,
  type EngineInternals,
  type GradientsFn,
  type OptimizerLike,
  type TapeNode,
  type Tensor,
  type Tf,
  type Variable,
} from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';
import { removablePenalties, withoutPenalties } from '../decay/decoupled-penalties';
import type { EffectiveDecay } from '../decay/effective-decay';
import { variableName } from '../hooks/describe-names';
import type { LayerProbe } from '../hooks/layer-probe';
import type { OptimizerProbe } from '../hooks/optimizer-probe';
import { SiteProbe } from '../hooks/site-probe';
import { ancestorTensors } from '../tape/tape-graph';
import { probeClock } from './probe-clock';
import { StepCapture } from './step-capture';
import { newStepContext, type StepContext } from './step-context';
import { addVariable, newObjective, type Objective } from './step-objective';
import { noteLayerPenalties, readHandWritten, type HandInLoss } from './step-penalties';
import { StepReport } from './step-report';

/** A gradients call before its loss is built: its variable list's key, and the op sites it records (if it does). */
interface CallRecording {
  key: string;
  recording: boolean;
  opSites: Map<number, SourcePosition | null> | null;
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
 * variables are steps (one that differentiates none is not); they are grouped by the variables each really
 * differentiates (a GAN has two objectives).
 */
export class StepProbe {
  /** The objectives of each call's variable list (its sorted variable ids). */
  private readonly byCall = new Map<string, Objective[]>();
  private objectiveCount = 0;
  private totalSteps = 0;
  private readonly sites: SiteProbe;
  private readonly stepCapture: StepCapture;
  private readonly stepReport: StepReport;
  /** The step limit was reached inside minimize(): the run ends once that step's update is applied. */
  private limitPending = false;

  constructor(
    private readonly tf: Tf,
    private readonly engine: EngineInternals,
    private readonly layers: LayerProbe,
    private readonly optimizers: OptimizerProbe,
    frames: UserFrames,
    private readonly options: StepProbeOptions,
  ) {
    this.sites = new SiteProbe(engine, frames, () => layers.insideLayer());
    this.stepCapture = new StepCapture(tf, layers, frames, this.sites, options.emit);
    this.stepReport = new StepReport(tf, layers, optimizers, options.emit, options.decay);
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
      return probe.step(original, this, f, xs.filter((x): x is Variable => x instanceof probe.tf.Variable), dy, allowNoGradients);
    } satisfies GradientsFn;
  }

  /** Every optimizer step the script made, whatever its objective: `--steps` counts these. */
  stepsTaken(): number {
    return this.totalSteps;
  }

  /**
   * The objective of a step: among those of the same call (the same variable list), the one whose variables
   * overlap most with those the step really differentiates; a new one when none does. Two models trained by two
   * `minimize` calls without a varList pass every trainable variable both times, but each step reaches only its
   * own model's: two objectives. Two heads on a shared trunk overlap; they are still two objectives when another
   * optimizer trains each (an optimizer switched mid-run, training the same variables, stays one objective; so
   * does a step that reaches only some of its objective's variables, like a mixture of experts).
   */
  private objectiveFor(callKey: string, trained: Variable[], trainer: OptimizerLike | null): Objective {
    const list = this.byCall.get(callKey) ?? [];
    let best: Objective | null = null;
    let bestOverlap = 0;
    for (const o of list) {
      let overlap = 0;
      for (const v of trained) if (o.variableIds.has(v.id)) overlap++;
      const sameSet = overlap === trained.length && overlap === o.variableIds.size;
      const otherTrainer = trainer !== null && o.trainer !== null && trainer !== o.trainer;
      if (overlap > bestOverlap && (sameSet || !otherTrainer)) [best, bestOverlap] = [o, overlap];
    }
    if (!best) {
      best = newObjective(this.objectiveCount++, this.options.startedAt, trained, trainer);
      list.push(best);
      this.byCall.set(callKey, list);
    } else if (bestOverlap < trained.length) {
      for (const v of trained) if (!best.variableIds.has(v.id)) addVariable(best, v);
    }
    return best;
  }

  /**
   * Whether to record op owners and sites (costly) during this call: on a call never seen, and while one of its
   * objectives still waits for a full capture. The objective itself is known only once the loss is built.
   */
  private shouldRecord(callKey: string): boolean {
    const list = this.byCall.get(callKey);
    return !list || list.some((o) => o.tracked === null || o.recapture);
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
    const call = this.beginCall(xs);
    let context: StepContext | null = null;
    const wrapped = () => {
      const y = f();
      this.sites.stopRecording();
      const afterF = performance.now();
      context = this.openStep(call, self.state.activeTape ?? [], xs, y);
      const minimized = context ? this.lossToMinimize(context) : y;
      probeClock.add(afterF, 'afterLoss');
      return minimized;
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
    // TypeScript cannot see the callback's assignment.
    const stepContext = context as StepContext | null;
    if (stepContext !== null) this.closeStep(stepContext, started);
    return result;
  }

  /** Before the script's loss function runs: the call's key, and whether this call records op owners and sites. */
  private beginCall(xs: Variable[]): CallRecording {
    const key = xs
      .map((x) => x.id)
      .sort((a, b) => a - b)
      .join(',');
    const recording = this.shouldRecord(key);
    const opSites = recording ? this.sites.recordOps() : null;
    this.layers.beginStep(recording);
    return { key, recording, opSites };
  }

  /**
   * Once the loss is built: the step's objective and its context, with the layer penalties it computed; null when
   * it trains nothing.
   */
  private openStep(call: CallRecording, tape: readonly TapeNode[], xs: Variable[], y: Tensor): StepContext | null {
    const { evaluated, opOwner } = this.layers.endStep();
    // What tfjs differentiates: the variables with a path to y. None (the factors are plain tensors, say): tfjs
    // refuses the step or returns no gradient, and nothing is trained; it is no step, whatever the script does next.
    const leadsToY = ancestorTensors(tape, [y.id]);
    const trained = xs.filter((x) => leadsToY.has(x.id));
    if (trained.length === 0) return null;
    const objective = this.objectiveFor(call.key, trained, this.optimizers.running());
    this.options.decay?.beginStep(objective.index);
    // The first step of an objective is captured; one whose first step came unannounced (no ops recorded) is
    // captured again, fully, on its next recorded step.
    const capture = objective.tracked === null || (objective.recapture && call.recording);
    if (capture) objective.recapture = !call.recording;
    const stepNo = objective.steps + 1;
    const context = newStepContext({ objective, stepNo, trained, tape, y, total: readScalar(y), leadsToY, capture, evaluated, opOwner, opSites: call.opSites });
    noteLayerPenalties(context);
    return context;
  }

  /**
   * The scalar tfjs differentiates: y, or under the decoupled what-if y without the L1/L2 penalties that reach it.
   * Reads the hand-written penalties first, and captures the objective's first step.
   */
  private lossToMinimize(context: StepContext): Tensor {
    const decoupled = this.options.decay?.mode === 'decoupled';
    const handInLoss: HandInLoss | null = decoupled ? new Map() : null;
    readHandWritten(context, this.tf, handInLoss);
    if (context.capture) this.stepCapture.capture(context);
    if (!handInLoss) return context.y;
    const { objective, evaluated, leadsToY, handValues, y } = context;
    context.removed = removablePenalties(objective, this.layers.regularizedWeights(), evaluated, leadsToY, handInLoss, handValues);
    return context.removed.length > 0 ? withoutPenalties(this.tf, y, context.removed) : y;
  }

  /** After tfjs computed the gradients: the optimizer's weights, the step count, the report, then the step limit. */
  private closeStep(context: StepContext, started: number): void {
    const { objective, stepNo } = context;
    // The optimizer running minimize() applies these gradients once we return; say so now, since a run that
    // stops at its step limit never gets there.
    const running = this.optimizers.running();
    if (stepNo === 1 && running) this.optimizers.noteUpdates(running, (objective.tracked ?? context.trained).map(variableName));

    objective.steps = stepNo;
    this.totalSteps++;
    context.isLast = this.atStepLimit();
    this.stepReport.report(context);
    probeClock.add(started, 'afterStep');
    if (!context.isLast) return;
    // Inside minimize() the step's update follows at once: its effective decay (and the what-if's decay) needs it.
    if (running && !this.limitPending) {
      this.limitPending = true;
      this.optimizers.onceAfterApply(() => this.reachLimit());
      setImmediate(() => this.reachLimit());
    } else if (!running) this.options.onStepLimit();
  }

  private atStepLimit(): boolean {
    return this.stepsTaken() >= this.options.stepLimit;
  }

  private reachLimit(): void {
    if (!this.limitPending) return;
    this.limitPending = false;
    this.options.onStepLimit();
  }
}
