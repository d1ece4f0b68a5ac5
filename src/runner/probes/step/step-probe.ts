// The step probe: hooks engine.gradients, groups steps by objective, and runs each step's capture, what-if and report.
import type { RunnerEventInput } from '../../../shared/protocol/runner-protocol';
import {
  readScalar,
  tapeTensor,
  type EngineInternals,
  type GradientsFn,
  type OptimizerLike,
  type Tensor,
  type Tf,
  type Variable,
} from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';
import { removablePenalties, withoutPenalties, type RemovedPenalty } from '../decay/decoupled-penalties';
import type { EffectiveDecay } from '../decay/effective-decay';
import { fromLayout, handTerms, layoutOf, readConstant, type HandTerm } from '../tape/hand-term-layout';
import { recognizeHandWritten, type Recognition } from '../tape/hand-written';
import type { LayerProbe } from '../hooks/layer-probe';
import type { OptimizerProbe } from '../hooks/optimizer-probe';
import { probeClock } from './probe-clock';
import { SiteProbe } from '../hooks/site-probe';
import { StepCapture } from './step-capture';
import { variableName } from '../hooks/describe-names';
import { addVariable, newObjective, type Objective } from './step-objective';
import { StepReport } from './step-report';
import { ancestorTensors } from '../tape/tape-graph';

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
    const callKey = xs
      .map((x) => x.id)
      .sort((a, b) => a - b)
      .join(',');
    const decay = this.options.decay ?? null;
    const decoupled = decay?.mode === 'decoupled';
    let removed: RemovedPenalty[] = [];
    const recording = this.shouldRecord(callKey);
    let objective: Objective | null = null;
    let trained: Variable[] = [];
    let stepNo = 0;
    let total = Number.NaN;
    const inLoss = new Set<string>();
    const evaluatedValues = new Map<string, number>();
    const handValues = new Map<string, number>();
    const opSites = recording ? this.sites.recordOps() : null;
    let recognitionMs = 0;

    this.layers.beginStep(recording);
    const wrapped = () => {
      const y = f();
      this.sites.stopRecording();
      const afterF = performance.now();
      const tape = self.state.activeTape ?? [];
      const { evaluated, opOwner } = this.layers.endStep();
      // What tfjs differentiates: the variables with a path to y. None (the factors are plain tensors, say): tfjs
      // refuses the step or returns no gradient, and nothing is trained; it is no step, whatever the script does next.
      const leadsToY = ancestorTensors(tape, [y.id]);
      trained = xs.filter((x) => leadsToY.has(x.id));
      if (trained.length === 0) {
        probeClock.add(afterF, 'afterLoss');
        return y;
      }
      objective = this.objectiveFor(callKey, trained, this.optimizers.running());
      stepNo = objective.steps + 1;
      decay?.beginStep(objective.index);
      // The first step of an objective is captured; one whose first step came unannounced (no ops recorded) is
      // captured again, fully, on its next recorded step.
      const capture = objective.tracked === null || (objective.recapture && recording);
      if (capture) objective.recapture = !recording;
      total = readScalar(y);
      const tensors = decoupled ? new Map<string, { tensor: Tensor; scale: number | null }>() : null;
      // A penalty reaches the minimized loss exactly when its tensor is an ancestor of y on this tape.
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
          variableOf: (t) => (t instanceof this.tf.Variable && t.trainable ? variableName(t) : null),
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
      if (capture) this.stepCapture.capture(objective, stepNo, tape, trained, y, evaluated, opOwner ?? new Map(), recognition, hand, opSites ?? new Map(), recognitionMs);
      if (tensors) {
        removed = removablePenalties(objective, this.layers.regularizedWeights(), evaluated, leadsToY, tensors, handValues);
        if (removed.length > 0) {
          const without = withoutPenalties(this.tf, y, removed);
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
    // TypeScript cannot see the callback's assignment.
    const stepObjective = objective as Objective | null;
    if (stepObjective === null) return result;

    // The optimizer running minimize() applies these gradients once we return; say so now, since a run that
    // stops at its step limit never gets there.
    const running = this.optimizers.running();
    if (stepNo === 1 && running) this.optimizers.noteUpdates(running, (stepObjective.tracked ?? trained).map(variableName));

    stepObjective.steps = stepNo;
    this.totalSteps++;
    this.stepReport.report(stepObjective, stepNo, trained, total, inLoss, evaluatedValues, handValues, removed, this.atStepLimit());
    probeClock.add(started, 'afterStep');
    if (this.atStepLimit()) {
      // Inside minimize() the step's update follows at once: its effective decay (and the what-if's decay) needs it.
      if (running && !this.limitPending) {
        this.limitPending = true;
        this.optimizers.onceAfterApply(() => this.reachLimit());
        setImmediate(() => this.reachLimit());
      } else if (!running) this.options.onStepLimit();
    }
    return result;
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
