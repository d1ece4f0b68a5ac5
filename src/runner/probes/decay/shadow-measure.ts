// The penalties' share of each optimizer update, measured on two float64 shadows of the optimizer (full and data gradient).
import type { WeightDecayMode } from '../../../shared/protocol/run-data';
import type { OptimizerLike, Tensor, Variable } from '../../tfjs-internals';
import type { DecayRecords } from './decay-records';
import { optimizerInfo } from '../hooks/optimizer-probe';
import { subtractPenaltyGradient, type WeightTrack } from './penalized-weight';
import { decayFraction, shadowConfig, ShadowOptimizer } from './shadow-optimizer';
import { mismatchOf } from './weight-change';
import type { WeightSampler } from './weight-sample';
import type { WeightStats } from './weight-stats';

const ADAPTIVE: ReadonlySet<string> = new Set(['Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta']);

/** The first updates of every weight under each optimizer are checked against the shadow's own: a custom formula shows there. */
const CROSS_CHECKS = 3;

interface Shadows {
  className: string;
  full: ShadowOptimizer;
  data: ShadowOptimizer;
  checksLeft: Map<string, number>;
  mismatch: string | null;
}

/** One applyGradients call, from just before it to just after. */
export interface ApplyContext {
  opt: OptimizerLike;
  names: string[];
  variables: Map<string, Variable>;
  shadows: Shadows | null;
  before: Map<string, Float64Array>;
  full: Map<string, Float64Array> | null;
  data: Map<string, Float64Array> | null;
}

export class ShadowMeasure {
  private readonly shadows = new Map<OptimizerLike, Shadows | null>();

  constructor(
    private readonly tracks: ReadonlyMap<string, WeightTrack>,
    private readonly records: DecayRecords,
    private readonly sampler: WeightSampler,
    private readonly stats: WeightStats,
    private readonly options: { readonly mode: WeightDecayMode; readonly measure: boolean },
  ) {}

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

  /** Before an update: the tracked weights it touches, and (when measuring) their sampled values and both shadows' steps. */
  before(opt: OptimizerLike, grads: unknown): ApplyContext {
    const entries = gradEntries(grads);
    const ctx: ApplyContext = { opt, names: [], variables: new Map(), shadows: null, before: new Map(), full: null, data: null };
    for (const [name] of entries) {
      const t = this.tracks.get(name);
      if (!t) continue;
      ctx.names.push(name);
      ctx.variables.set(name, t.variable);
    }
    if (!this.options.measure) return ctx;
    const shadows = this.shadowsFor(opt);
    ctx.shadows = shadows;
    if (!shadows) {
      this.unmodelled(opt, ctx.names);
      return ctx;
    }
    if (typeof opt.learningRate === 'number') shadows.full.config.learningRate = shadows.data.config.learningRate = opt.learningRate;
    const byName = new Map(entries);
    const full = new Map<string, Float64Array>();
    const data = new Map<string, Float64Array>();
    for (const name of ctx.names) {
      const sample = this.sample(name, this.tracks.get(name)!, shadows, byName.get(name)!);
      if (!sample) continue;
      ctx.before.set(name, sample.w);
      full.set(name, sample.g);
      data.set(name, sample.data);
    }
    // Both shadows advance once per applyGradients, as tfjs's counters (Adam's β powers) do.
    ctx.full = shadows.full.step(full);
    ctx.data = shadows.data.step(data);
    return ctx;
  }

  /**
   * With no penalty gradient ever on a weight (the what-if took them all out) its penalty share is exactly 0, under
   * any optimizer: nothing to shadow. As written, every penalized weight is shadowed from its first update on.
   */
  private exactZero(t: WeightTrack): boolean {
    return this.options.mode === 'decoupled' && !t.everReached;
  }

  /** An optimizer with no shadow: its weights get no number (or their exact 0). */
  private unmodelled(opt: OptimizerLike, names: readonly string[]): void {
    const className = optimizerInfo(opt).className;
    for (const name of names) {
      const t = this.tracks.get(name)!;
      if (this.exactZero(t)) this.records.record(t.objective, t.step).inUpdate.set(name, 0);
      else this.records.unavailable(name, `Loss Lens has no model of ${className}'s update`);
    }
  }

  /**
   * One weight's sample before the update: its values, its gradient, and its data gradient (the gradient minus the
   * analytic gradient of the penalties that reached the loss). Null when it is not measured this update (an exact
   * 0, or the reason it has no number, is recorded).
   */
  private sample(name: string, t: WeightTrack, shadows: Shadows, gradient: Tensor): { w: Float64Array; g: Float64Array; data: Float64Array } | null {
    if (t.unavailable) return null;
    if (this.exactZero(t)) {
      this.records.record(t.objective, t.step).inUpdate.set(name, 0);
      return null;
    }
    if (shadows.mismatch) {
      this.records.unavailable(name, shadows.mismatch);
      return null;
    }
    if (t.pending > 1) {
      this.records.unavailable(name, `gradients of ${t.pending} steps were applied in one update (gradient accumulation): the penalty's share of it is not measured`);
      return null;
    }
    // Adaptive optimizers: a few elements (small data gradients) can carry most of the decay; on a weight larger
    // than the sample, the sample is stratified on its first gradient before any shadow state exists.
    if (ADAPTIVE.has(shadows.full.config.kind) && this.sampler.sampling(name, t.variable.size) === 'uniform' && !shadows.checksLeft.has(name)) {
      this.sampler.stratify(name, gradient);
    }
    const k = this.sampler.sampledSize(name, t.variable.size);
    if (t.buffers?.w.length !== k) t.buffers = { w: new Float64Array(k), g: new Float64Array(k), data: new Float64Array(k), after: new Float64Array(k) };
    const b = t.buffers;
    const w = this.sampler.read(name, t.variable, b.w);
    const g = this.sampler.read(name, gradient, b.g);
    if (!w || !g || w.length !== g.length || g.length !== k) {
      this.records.unavailable(name, 'its values could not be read on this backend');
      return null;
    }
    b.data.set(g);
    if (t.pending === 1 && !subtractPenaltyGradient(t, this.stats, w, b.data)) {
      this.records.unavailable(name, 'one of its penalties has a form whose gradient Loss Lens does not know');
      return null;
    }
    return { w, g, data: b.data };
  }

  /** After the update: each measured weight's penalty share, once its first updates have matched the shadow's. */
  after(ctx: ApplyContext): void {
    if (ctx.shadows && ctx.full && ctx.data) this.measure(ctx, ctx.shadows, ctx.full, ctx.data);
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
          for (const other of ctx.names) this.records.unavailable(other, shadows.mismatch);
          continue;
        }
      }
      const fraction = decayFraction(dFull, data.get(name)!, w, this.sampler.weightsOf(name));
      // Centered RMSProp takes √(ms − mg² − ε): fed a tiny data gradient alone, tfjs's own formula is NaN from then on.
      if (!Number.isFinite(fraction) && finite(dFull) && finite(w)) {
        this.records.unavailable(name, `the update ${shadows.className} would make from the data gradient alone is not a number (tfjs's own formula)`);
        continue;
      }
      this.records.record(t.objective, t.step).inUpdate.set(name, fraction);
    }
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
