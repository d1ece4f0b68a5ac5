// The effective-decay probe: hooks optimizer updates and Variable.assign, and runs the shadows, the what-if's decay and the records.
import type { DecayApplier, TrainingPlan, WeightDecayMode } from '../../../shared/protocol/run-data';
import type { DecayRecordInput } from '../../../shared/protocol/runner-protocol';
import { variablePrototype, type OptimizerLike, type Tensor, type Tf, type Variable } from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';
import { DecayRecords } from './decay-records';
import { installFitPlanProbe } from '../hooks/fit-plan';
import { jsClassOf, optimizerInfo, type ApplyListener, type OptimizerProbe } from '../hooks/optimizer-probe';
import type { PenaltyGradientSpec, WeightTrack } from './penalized-weight';
import { probeClock } from '../step/probe-clock';
import { gradEntries, ShadowMeasure, type ApplyContext } from './shadow-measure';
import { rescaleShrink } from './weight-change';
import type { WeightSampler } from './weight-sample';
import type { WeightStats } from './weight-stats';

/** What the step probe says of one penalized weight after each step. */
export interface PenalizedWeightStep {
  variable: Variable;
  /** The penalties on it that reached the loss the optimizer minimized this step (empty: none did). */
  reaching: PenaltyGradientSpec[];
  /** Decoupled what-if: the L2 coefficients taken out of the loss this step, to decay the weight by after its update. */
  decoupledL2: number;
}

export interface EffectiveDecayOptions {
  mode: WeightDecayMode;
  /** False only for benchmarks: the what-if still runs, nothing is measured. */
  measure: boolean;
  emit: (record: DecayRecordInput) => void;
  /** Finds the user's line that applied a decoupled decay (absent: no line is given). */
  frames?: UserFrames | null;
  /** Where the training each model.fit / fitDataset plans goes (its epochs give the decay's timescale in epochs). */
  emitPlan?: (plan: TrainingPlan) => void;
}

/**
 * The effective decay of every penalized weight, measured under the optimizer that really trains it (issue 11).
 *
 * For each optimizer, two float64 shadows of its update run on a fixed sample of each penalized weight: one fed
 * the gradient the optimizer really got, one fed the data gradient alone (that gradient minus the analytic
 * gradient of the penalties that reached the minimized loss this step), each with its own state. The step's
 * effective decay is s = −⟨Δ_applied − Δ_data, w⟩/⟨w, w⟩, plus any multiplicative shrink the script applies to
 * the weight between its update and the next step (a decoupled decay written by hand, measured on the same
 * sample at the assignment). The first updates are checked against the real ones; an optimizer whose updates do
 * not match its shadow (a custom formula) gets no number, with the reason.
 *
 * Exact for SGD and momentum on every element read; an estimate for adaptive optimizers on weights larger than the
 * sample. A step's value is known only after its update, so it is sent when the next step starts (or at the end).
 */
export class EffectiveDecay {
  private readonly tracks = new Map<string, WeightTrack>();
  private readonly objectives = new Map<number, { ids: Set<number>; step: number }>();
  private readonly records: DecayRecords;
  private readonly shadowMeasure: ShadowMeasure;

  constructor(
    private readonly tf: Tf,
    private readonly optimizers: OptimizerProbe,
    private readonly sampler: WeightSampler,
    stats: WeightStats,
    private readonly options: EffectiveDecayOptions,
  ) {
    this.records = new DecayRecords(this.tracks, options.emit);
    this.shadowMeasure = new ShadowMeasure(this.tracks, this.records, sampler, stats, options);
  }

  get mode(): WeightDecayMode {
    return this.options.mode;
  }

  private listener(): ApplyListener<ApplyContext | null> {
    // A failure here must never break the script's training: the weights involved say why they have no number.
    let beforeMs = 0;
    return {
      before: (opt, grads) => {
        const started = performance.now();
        try {
          return this.shadowMeasure.before(opt, grads);
        } catch (err) {
          this.failed(err, gradEntries(grads).map(([n]) => n));
          return null;
        } finally {
          beforeMs = performance.now() - started;
          probeClock.add(started, 'decay');
        }
      },
      after: (ctx) => {
        if (!ctx) return;
        const started = performance.now();
        try {
          this.after(ctx);
        } catch (err) {
          this.failed(err, ctx.names);
        } finally {
          if (probeClock.keepSamples) probeClock.decayPerUpdate.push(beforeMs + performance.now() - started);
          probeClock.add(started, 'decay');
        }
      },
    };
  }

  private failed(err: unknown, names: string[]): void {
    const message = err instanceof Error ? err.message : String(err);
    for (const name of names) if (this.tracks.has(name)) this.records.unavailable(name, `measuring it failed (${message})`);
  }

  /** Hooks each optimizer's applyGradients, and `Variable.assign` to see a decay the script applies itself between steps. */
  install(): void {
    this.optimizers.onApply(this.listener());
    if (!this.options.measure) return;
    if (this.options.emitPlan) installFitPlanProbe(this.tf, this.options.frames, this.options.emitPlan);
    const probe = this;
    const proto = variablePrototype(this.tf);
    const original = proto.assign;
    proto.assign = function assign(this: Variable, value: Tensor) {
      // The optimizers' own updates (and the what-if's decay) are not the script's.
      if (probe.optimizers.updating()) return original.call(this, value);
      const at = probe.latestStepOf(this);
      if (!at) return original.call(this, value);
      let started = performance.now();
      const before = probe.sampler.read(this.name, this);
      probeClock.add(started, 'decay');
      original.call(this, value);
      started = performance.now();
      const after = before ? probe.sampler.read(this.name, this) : null;
      const shrink = before && after ? rescaleShrink(before, after) : null;
      // Inside an optimizer's own code (a subclass's applyGradients around tfjs's update), the optimizer applies it.
      const owner = probe.optimizers.ownCode();
      if (shrink !== null && shrink !== 0) probe.records.scriptShrank(at.objective, at.step, this.name, shrink, () => probe.applier(owner));
      else if (shrink === null && before && after && owner) probe.optimizers.noteOwnUpdate(owner);
      probeClock.add(started, 'decay');
    };
  }

  /** Who applied a shrink seen at Variable.assign: `owner`'s class, or the script; with the user's line that did it. */
  private applier(owner: OptimizerLike | null): DecayApplier {
    const source = this.options.frames?.captureSite() ?? null;
    return owner ? { by: 'optimizer', className: jsClassOf(owner) ?? optimizerInfo(owner).className, source } : { by: 'script', className: null, source };
  }

  /** A new step of `objective` starts: the steps before it are complete (their updates and any decay after them). */
  beginStep(objective: number): void {
    this.records.sendCompleted(objective);
  }

  /** After each step: the objective's variables and what each penalized weight's penalties did this step. */
  noteStep(objective: number, step: number, xs: readonly Variable[], penalized: readonly PenalizedWeightStep[]): void {
    let o = this.objectives.get(objective);
    if (!o) {
      o = { ids: new Set(xs.map((x) => x.id)), step };
      this.objectives.set(objective, o);
    }
    o.step = step;
    for (const p of penalized) {
      const name = p.variable.name;
      let t = this.tracks.get(name);
      if (!t) {
        t = { variable: p.variable, reaching: [], decoupledL2: 0, objective, step, pending: 0, everReached: false, unavailable: null, buffers: null };
        this.tracks.set(name, t);
      }
      t.variable = p.variable;
      t.reaching = p.reaching;
      if (p.reaching.length > 0) t.everReached = true;
      t.decoupledL2 = p.decoupledL2;
      t.objective = objective;
      t.step = step;
      t.pending++;
    }
  }

  /**
   * The run ends. `cut`: it ends right after an update (the step limit, a stop), so a decay the script applies
   * after its updates was not seen for the last step: that step reads null for those weights.
   */
  finish(cut: boolean): void {
    this.records.finish(cut);
  }

  private latestStepOf(v: Variable): { objective: number; step: number } | null {
    for (const [objective, o] of this.objectives) if (o.ids.has(v.id)) return { objective, step: o.step };
    return null;
  }

  private after(ctx: ApplyContext): void {
    this.shadowMeasure.after(ctx);
    if (this.options.mode === 'decoupled') this.decayDecoupled(ctx);
    for (const name of ctx.names) this.tracks.get(name)!.pending = 0;
  }

  /** The what-if: w ← w·(1 − lr·2·l2) after each update, with the learning rate of the optimizer that trains w (AdamW's convention). */
  private decayDecoupled(ctx: ApplyContext): void {
    const lr = typeof ctx.opt.learningRate === 'number' ? ctx.opt.learningRate : Number.NaN;
    const tf = this.tf;
    for (const name of ctx.names) {
      const t = this.tracks.get(name)!;
      if (t.decoupledL2 === 0 || !Number.isFinite(lr)) continue;
      const shrink = lr * 2 * t.decoupledL2;
      const v = t.variable;
      if (v.isDisposed) continue;
      // w − (lr·2·l2)·w rather than w·(1 − lr·2·l2): float32 cannot hold 1 − 1e-6 closer than 1e-7, a 10% error in the shrink.
      tf.tidy(() => v.assign(tf.sub(v, tf.mul(v, shrink))));
      this.records.addOutside(t.objective, t.step, name, shrink, { by: 'what-if', className: optimizerInfo(ctx.opt).className, source: null });
    }
  }
}
