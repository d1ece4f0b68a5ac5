import type { PenaltyForm, WeightDecayMode } from '../../shared/protocol/run-data';
import type { DecayRecordInput } from '../../shared/protocol/runner-protocol';
import type { OptimizerLike, Tensor, Tf, Variable } from '../tfjs-internals';
import { optimizerInfo, type ApplyListener, type OptimizerProbe } from './optimizer-probe';
import { probeClock } from './probe-clock';
import { decayFraction, shadowConfig, ShadowOptimizer } from './shadow-optimizer';
import type { WeightStats } from './weight-stats';
import type { WeightSampler } from './weight-sample';

/** One penalty on a weight that reached the minimized loss this step, in tfjs's convention (L2 c·Σw², L1 c·Σ|w|, norm c·‖w‖). */
export interface PenaltyGradientSpec {
  form: PenaltyForm;
  coefficient: number | null;
}

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
}

const ADAPTIVE: ReadonlySet<string> = new Set(['Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta']);

/** The first updates of every weight under each optimizer are checked against the shadow's own: a custom formula shows there. */
const CROSS_CHECKS = 3;

interface Track {
  variable: Variable;
  reaching: PenaltyGradientSpec[];
  decoupledL2: number;
  objective: number;
  step: number;
  /** Steps that differentiated this weight since its last update (more than one: gradient accumulation). */
  pending: number;
  /** Some penalty on it reached the minimized loss in some step so far (until then both shadows are the same). */
  everReached: boolean;
  unavailable: string | null;
  /** Sample buffers reused from step to step: the weight before its update, its gradient, the data gradient, after. */
  buffers: { w: Float64Array; g: Float64Array; data: Float64Array; after: Float64Array } | null;
}

interface Shadows {
  className: string;
  full: ShadowOptimizer;
  data: ShadowOptimizer;
  checksLeft: Map<string, number>;
  mismatch: string | null;
}

interface StepRecord {
  objective: number;
  step: number;
  /** The penalty's share of the optimizer's update (s), per weight; null: not measurable this step. */
  inUpdate: Map<string, number | null>;
  /** Shrink applied to the weight outside the optimizer's update before the next step (a decoupled decay). */
  outside: Map<string, number>;
}

interface ApplyContext {
  opt: OptimizerLike;
  names: string[];
  variables: Map<string, Variable>;
  shadows: Shadows | null;
  before: Map<string, Float64Array>;
  full: Map<string, Float64Array> | null;
  data: Map<string, Float64Array> | null;
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
  private readonly tracks = new Map<string, Track>();
  private readonly shadows = new Map<OptimizerLike, Shadows | null>();
  private readonly records = new Map<string, StepRecord>();
  private readonly objectives = new Map<number, { ids: Set<number>; step: number }>();
  private readonly unavailableSent = new Map<string, string>();
  private readonly pendingUnavailable = new Map<string, string>();
  /** Weights the script shrank itself outside the optimizer at least once. */
  private readonly shrunkOutside = new Set<string>();

  constructor(
    private readonly tf: Tf,
    private readonly optimizers: OptimizerProbe,
    private readonly sampler: WeightSampler,
    private readonly stats: WeightStats,
    private readonly options: EffectiveDecayOptions,
  ) {}

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
          return this.before(opt, grads);
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
    for (const name of names) if (this.tracks.has(name)) this.unavailable(name, `measuring it failed (${message})`);
  }

  /** Hooks each optimizer's applyGradients, and `Variable.assign` to see a decay the script applies itself between steps. */
  install(): void {
    this.optimizers.onApply(this.listener());
    if (!this.options.measure) return;
    const probe = this;
    const proto = this.tf.Variable.prototype as unknown as { assign: (this: Variable, v: Tensor) => void };
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
      probeClock.add(started, 'decay');
      if (shrink !== null && shrink !== 0) {
        const r = probe.record(at.objective, at.step);
        r.outside.set(this.name, (r.outside.get(this.name) ?? 0) + shrink);
        probe.shrunkOutside.add(this.name);
      }
    };
  }

  /** A new step of `objective` starts: the steps before it are complete (their updates and any decay after them). */
  beginStep(objective: number): void {
    for (const [key, r] of this.records) {
      if (r.objective !== objective) continue;
      this.records.delete(key);
      this.send(r, false);
    }
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
    for (const r of this.records.values()) this.send(r, cut);
    this.records.clear();
    if (this.pendingUnavailable.size > 0) {
      const any = [...this.tracks.values()][0];
      this.options.emit({ objective: any?.objective ?? 0, step: any?.step ?? 0, values: {}, unavailable: Object.fromEntries(this.pendingUnavailable) });
      this.pendingUnavailable.clear();
    }
  }

  private latestStepOf(v: Variable): { objective: number; step: number } | null {
    for (const [objective, o] of this.objectives) if (o.ids.has(v.id)) return { objective, step: o.step };
    return null;
  }

  private record(objective: number, step: number): StepRecord {
    const key = `${objective}:${step}`;
    let r = this.records.get(key);
    if (!r) {
      r = { objective, step, inUpdate: new Map(), outside: new Map() };
      this.records.set(key, r);
    }
    return r;
  }

  private unavailable(name: string, reason: string): void {
    const t = this.tracks.get(name);
    if (t) t.unavailable = reason;
    if (this.unavailableSent.get(name) === reason) return;
    this.unavailableSent.set(name, reason);
    this.pendingUnavailable.set(name, reason);
  }

  private send(r: StepRecord, cut: boolean): void {
    const values: Record<string, number | null> = {};
    for (const [name, s] of r.inUpdate) {
      const outside = r.outside.get(name);
      if (s === null || this.tracks.get(name)?.unavailable) values[name] = null;
      else if (outside === undefined && cut && this.shrunkOutside.has(name)) values[name] = null;
      else values[name] = s + (outside ?? 0);
    }
    // Weights without a penalty that the script decays itself.
    for (const [name, outside] of r.outside) if (!r.inUpdate.has(name)) values[name] = outside;
    const unavailable = this.pendingUnavailable.size ? Object.fromEntries(this.pendingUnavailable) : undefined;
    this.pendingUnavailable.clear();
    if (Object.keys(values).length === 0 && !unavailable) return;
    this.options.emit({ objective: r.objective, step: r.step, values, ...(unavailable ? { unavailable } : {}) });
  }

  private shadowsFor(opt: OptimizerLike): Shadows | null {
    if (this.shadows.has(opt)) return this.shadows.get(opt)!;
    const info = optimizerInfo(opt);
    const config = shadowConfig(info);
    const s = config
      ? { className: info.className, full: new ShadowOptimizer({ ...config }), data: new ShadowOptimizer({ ...config }), checksLeft: new Map<string, number>(), mismatch: null }
      : null;
    this.shadows.set(opt, s);
    return s;
  }

  private before(opt: OptimizerLike, grads: unknown): ApplyContext {
    const entries = gradEntries(grads);
    const ctx: ApplyContext = { opt, names: [], variables: new Map(), shadows: null, before: new Map(), full: null, data: null };
    for (const [name] of entries) {
      const t = this.tracks.get(name);
      if (!t) continue;
      ctx.names.push(name);
      ctx.variables.set(name, t.variable);
    }
    if (!this.options.measure) return ctx;
    // With no penalty gradient ever on a weight (the what-if took them all out) its penalty share is exactly 0, under
    // any optimizer: nothing to shadow. As written, every penalized weight is shadowed from its first update on.
    const exactZero = (t: Track) => this.options.mode === 'decoupled' && !t.everReached;
    const shadows = this.shadowsFor(opt);
    ctx.shadows = shadows;
    if (!shadows) {
      const className = optimizerInfo(opt).className;
      for (const name of ctx.names) {
        const t = this.tracks.get(name)!;
        if (exactZero(t)) this.record(t.objective, t.step).inUpdate.set(name, 0);
        else this.unavailable(name, `Loss Lens has no model of ${className}'s update`);
      }
      return ctx;
    }
    if (typeof opt.learningRate === 'number') shadows.full.config.learningRate = shadows.data.config.learningRate = opt.learningRate;
    const byName = new Map(entries);
    const full = new Map<string, Float64Array>();
    const data = new Map<string, Float64Array>();
    for (const name of ctx.names) {
      const t = this.tracks.get(name)!;
      if (t.unavailable) continue;
      if (exactZero(t)) {
        this.record(t.objective, t.step).inUpdate.set(name, 0);
        continue;
      }
      if (shadows.mismatch) {
        this.unavailable(name, shadows.mismatch);
        continue;
      }
      if (t.pending > 1) {
        this.unavailable(name, `gradients of ${t.pending} steps were applied in one update (gradient accumulation): the penalty's share of it is not measured`);
        continue;
      }
      // Adaptive optimizers: a few elements (small data gradients) can carry most of the decay; on a weight larger
      // than the sample, the sample is stratified on its first gradient before any shadow state exists.
      if (ADAPTIVE.has(shadows.full.config.kind) && this.sampler.sampling(name, t.variable.size) === 'uniform' && !shadows.checksLeft.has(name)) {
        this.sampler.stratify(name, byName.get(name)!);
      }
      const k = this.sampler.sampledSize(name, t.variable.size);
      if (t.buffers?.w.length !== k) t.buffers = { w: new Float64Array(k), g: new Float64Array(k), data: new Float64Array(k), after: new Float64Array(k) };
      const b = t.buffers;
      const w = this.sampler.read(name, t.variable, b.w);
      const g = this.sampler.read(name, byName.get(name)!, b.g);
      if (!w || !g || w.length !== g.length || g.length !== k) {
        this.unavailable(name, 'its values could not be read on this backend');
        continue;
      }
      // The data gradient: what the optimizer got, minus the analytic gradient of the penalties that reached the loss.
      b.data.set(g);
      if (t.pending === 1 && !this.subtractPenaltyGradient(t, w, b.data)) {
        this.unavailable(name, 'one of its penalties has a form whose gradient Loss Lens does not know');
        continue;
      }
      ctx.before.set(name, w);
      full.set(name, g);
      data.set(name, b.data);
    }
    // Both shadows advance once per applyGradients, as tfjs's counters (Adam's β powers) do.
    ctx.full = shadows.full.step(full);
    ctx.data = shadows.data.step(data);
    return ctx;
  }

  private after(ctx: ApplyContext): void {
    if (ctx.shadows && ctx.full && ctx.data) this.measure(ctx, ctx.shadows, ctx.full, ctx.data);
    if (this.options.mode === 'decoupled') this.decayDecoupled(ctx);
    for (const name of ctx.names) this.tracks.get(name)!.pending = 0;
  }

  private measure(ctx: ApplyContext, shadows: Shadows, full: Map<string, Float64Array>, data: Map<string, Float64Array>): void {
    for (const [name, w] of ctx.before) {
      const t = this.tracks.get(name)!;
      if (t.unavailable) continue;
      const dFull = full.get(name)!;
      const left = shadows.checksLeft.get(name) ?? CROSS_CHECKS;
      if (left > 0) {
        shadows.checksLeft.set(name, left - 1);
        const after = this.sampler.read(name, t.variable, t.buffers?.after);
        const error = after ? mismatchOf(w, after, dFull) : null;
        if (error !== null) {
          shadows.mismatch =
            `the updates of this ${shadows.className} do not follow tfjs's ${shadows.className} formula ` +
            `(relative difference ${error.toPrecision(2)}: a custom optimizer or a subclass?)`;
          for (const other of ctx.names) this.unavailable(other, shadows.mismatch);
          continue;
        }
      }
      const fraction = decayFraction(dFull, data.get(name)!, w, this.sampler.weightsOf(name));
      // Centered RMSProp takes √(ms − mg² − ε): fed a tiny data gradient alone, tfjs's own formula is NaN from then on.
      if (!Number.isFinite(fraction) && finite(dFull) && finite(w)) {
        this.unavailable(name, `the update ${shadows.className} would make from the data gradient alone is not a number (tfjs's own formula)`);
        continue;
      }
      this.record(t.objective, t.step).inUpdate.set(name, fraction);
    }
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
      const r = this.record(t.objective, t.step);
      r.outside.set(name, (r.outside.get(name) ?? 0) + shrink);
    }
  }

  /**
   * Subtracts from `g` the analytic gradient of the penalties that reached the loss, on the sampled elements; false
   * for a form whose gradient is not known.
   */
  private subtractPenaltyGradient(t: Track, w: Float64Array, g: Float64Array): boolean {
    for (const spec of t.reaching) {
      const c = spec.coefficient;
      if (c === null || spec.form === 'unknown') return false;
      if (spec.form === 'l2') for (let i = 0; i < w.length; i++) g[i] -= 2 * c * w[i];
      // tfjs differentiates |w| as step(w, −1): −1 at 0.
      else if (spec.form === 'l1') for (let i = 0; i < w.length; i++) g[i] -= w[i] > 0 ? c : -c;
      else if (spec.form === 'norm') {
        const sumSq = this.stats.measure([t.variable], []).sumSq.get(t.variable.id);
        const norm = sumSq === undefined ? Number.NaN : Math.sqrt(sumSq);
        if (!(norm > 0)) return false;
        for (let i = 0; i < w.length; i++) g[i] -= (c * w[i]) / norm;
      }
    }
    return true;
  }
}

/** [name, gradient] of what applyGradients received: a NamedTensorMap, or a list of `{ name, tensor }`. */
export function gradEntries(grads: unknown): Array<[string, Tensor]> {
  if (Array.isArray(grads)) {
    return grads
      .filter((g): g is { name: string; tensor: Tensor } => typeof g?.name === 'string' && g.tensor != null)
      .map((g) => [g.name, g.tensor]);
  }
  if (grads && typeof grads === 'object') {
    return Object.entries(grads as Record<string, Tensor | null>).filter((e): e is [string, Tensor] => e[1] != null);
  }
  return [];
}

function finite(xs: Float64Array): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) return false;
  return true;
}

/** An upper bound of the spacing of float32 numbers around |x| (at most twice it): no log2 per element. */
function ulp32(x: number): number {
  return Math.abs(x) * 1.2e-7 + 1.4e-45;
}

/**
 * How far the real update (after − before, in float32) is from the shadow's: null when they agree within 1% plus
 * the float32 rounding of the weights, else the relative difference.
 */
export function mismatchOf(before: Float64Array, after: Float64Array, shadow: Float64Array): number | null {
  let err = 0;
  let scale = 0;
  let rounding = 0;
  for (let i = 0; i < before.length; i++) {
    const real = after[i] - before[i];
    const d = real - shadow[i];
    err += d * d;
    scale += shadow[i] * shadow[i];
    const u = 2 * (ulp32(before[i]) + ulp32(after[i]));
    rounding += u * u;
  }
  if (!Number.isFinite(err)) return Number.isFinite(scale) ? Number.POSITIVE_INFINITY : null;
  if (err <= 1e-4 * scale + rounding) return null;
  return Math.sqrt(err / Math.max(scale, 1e-300));
}

/**
 * When `after` is `before` multiplied by one factor c (up to float32 rounding), the shrink 1 − c; else null (the
 * assignment was not a rescaling: a checkpoint load, a copy, a clip of some elements).
 */
export function rescaleShrink(before: Float64Array, after: Float64Array): number | null {
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < before.length; i++) {
    dot += before[i] * after[i];
    norm += before[i] * before[i];
  }
  if (!(norm > 0)) return null;
  const c = dot / norm;
  let residual = 0;
  let rounding = 0;
  for (let i = 0; i < before.length; i++) {
    const d = after[i] - c * before[i];
    residual += d * d;
    const u = ulp32(after[i]);
    rounding += u * u;
  }
  return residual <= rounding + 1e-14 * norm ? 1 - c : null;
}
