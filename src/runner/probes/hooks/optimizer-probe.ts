import type { OptimizerInfo, OptimizerWeights } from '../../../shared/protocol/run-data';
import { optimizerPrototype, type OptimizerLike, type Tf } from '../../tfjs-internals';
import { classNameOf, nameOf } from './describe-names';

const OPTIMIZER_CLASSES = [
  'Optimizer',
  'SGDOptimizer',
  'MomentumOptimizer',
  'AdamOptimizer',
  'AdamaxOptimizer',
  'RMSPropOptimizer',
  'AdagradOptimizer',
  'AdadeltaOptimizer',
] as const;

type Plain = OptimizerInfo['config'][string];
const isPlain = (v: unknown): v is Plain => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null;

/** Names people give a weight-decay setting: weightDecay, weight_decay, wd, weightDecayRate, decoupledWeightDecay, decay, lambda. */
const DECAY_KEY = /^(weight_?decay(_?rate)?|wd|decoupled_?weight_?decay|decay(_?rate)?|l2_?decay|lambda)$/i;
/** tfjs's own `decay` settings are not weight decay: RMSProp's moving-average discount, Adamax's learning-rate decay. */
const TFJS_DECAY: Record<string, string> = { RMSProp: 'decay', Adamax: 'decay' };

/**
 * Settings of an optimizer that name a weight decay: getConfig()'s keys, the instance's own fields, and one level into
 * a plain object it keeps (`settings.weightDecayRate`). A user's AdamW often reads its rate into a field and reports
 * none of it in getConfig(); the fields are what it will use, the nested object what the caller passed.
 */
function decaySettingsOf(opt: OptimizerLike, className: string, config: Record<string, unknown>): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  const own = TFJS_DECAY[className];
  const consider = (key: string, name: string, v: unknown) => {
    if (!DECAY_KEY.test(name) || name === own) return;
    if (isPlain(v)) out[key] = v;
    else if (v === undefined) out[key] = null;
  };
  for (const [k, v] of Object.entries(config)) consider(k, k, v);
  for (const k of Object.keys(opt)) {
    const v = (opt as unknown as Record<string, unknown>)[k];
    consider(k, k, v);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      for (const [kk, vv] of Object.entries(v as Record<string, unknown>)) consider(`${k}.${kk}`, kk, vv);
    }
  }
  return out;
}

/** What the report says of an optimizer: its class and the plain values of its getConfig(). */
export function optimizerInfo(opt: OptimizerLike): OptimizerInfo {
  const config: OptimizerInfo['config'] = {};
  let got: unknown = {};
  try {
    got = opt.getConfig();
  } catch {
    // A custom optimizer without getConfig still has a class.
  }
  // Only plain values travel (a custom getConfig may return anything, or nothing); NaN and ±Infinity travel as strings.
  const raw = (typeof got === 'object' && got !== null ? got : {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(raw)) if (isPlain(v)) config[k] = v;
  if (config.learningRate === undefined && typeof opt.learningRate === 'number') config.learningRate = opt.learningRate;
  const className = classNameOf(opt, 'Optimizer');
  const jsClass = jsClassOf(opt);
  const decaySettings = decaySettingsOf(opt, className, raw);
  return {
    className,
    config,
    ...(jsClass && jsClass !== className && jsClass !== `${className}Optimizer` ? { jsClass } : {}),
    ...(Object.keys(decaySettings).length ? { decaySettings } : {}),
  };
}

/** The JavaScript class of an optimizer (`AdamW` for a user's subclass of tf.AdamOptimizer). */
export function jsClassOf(opt: OptimizerLike): string | null {
  const name = (opt as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : null;
}

/** Code that runs around every applyGradients of a built-in optimizer: `before` sees the gradients, `after` the updated weights. */
export interface ApplyListener<T> {
  before(opt: OptimizerLike, grads: unknown): T;
  after(token: T): void;
}

/**
 * Knows which optimizer is driving the current step: `minimize` reaches the gradient tape through
 * `computeGradients`; a loop of `variableGrads` + `applyGradients` is only seen after the step.
 */
export class OptimizerProbe {
  private current: OptimizerLike | null = null;
  private last: OptimizerLike | null = null;
  /** Each optimizer instance that trained something, and the weights it updates. */
  private readonly trainers = new Map<OptimizerLike, { index: number; weights: Set<string>; lr: number | undefined; ownUpdate: boolean }>();
  private emit: ((update: OptimizerWeights) => void) | null = null;
  private readonly listeners: Array<ApplyListener<unknown>> = [];
  private readonly afterApply: Array<() => void> = [];
  private depth = 0;
  /** Innermost last: an optimizer's own code, or null for the script's loss function that computeGradients calls. */
  private readonly inOwnCode: Array<OptimizerLike | null> = [];
  /** tfjs's own optimizer prototypes (hooked); anything between an instance and them is a user's subclass. */
  private readonly tfjsPrototypes = new Set<object>();
  private readonly wrapped = new WeakSet<object>();

  constructor(private readonly tf: Tf) {}

  /** Runs `fn` marked as `opt`'s own code (see ownCode). */
  private asOwnCode<T>(opt: OptimizerLike | null, fn: () => T): T {
    this.inOwnCode.push(opt);
    try {
      return fn();
    } finally {
      this.inOwnCode.pop();
    }
  }

  /**
   * Wraps the `applyGradients` of each user subclass between `opt` and tfjs's classes, once per class, so that what
   * it does around tfjs's update (a decoupled decay) is known to be the optimizer's. Seen first at its computeGradients
   * or minimize; a loop that only calls applyGradients is seen from its second call on.
   */
  private wrapSubclasses(opt: OptimizerLike): void {
    const probe = this;
    for (let proto = Object.getPrototypeOf(opt) as Record<string, unknown> | null; proto && !this.tfjsPrototypes.has(proto); proto = Object.getPrototypeOf(proto)) {
      if (this.wrapped.has(proto) || !Object.prototype.hasOwnProperty.call(proto, 'applyGradients')) continue;
      this.wrapped.add(proto);
      const original = proto.applyGradients as (this: OptimizerLike, ...a: unknown[]) => unknown;
      if (typeof original !== 'function') continue;
      proto.applyGradients = function applyGradients(this: OptimizerLike, ...args: unknown[]) {
        return probe.asOwnCode(this, () => original.apply(this, args));
      };
    }
  }

  /** Where weight-to-optimizer updates go (the step probe wires its telemetry here). */
  onUpdate(emit: (update: OptimizerWeights) => void): void {
    this.emit = emit;
  }

  /**
   * Records that `opt` updates these weights (variable names). Says so when its weight set grows or its
   * configuration changes; the weight list travels only when it changed.
   */
  noteUpdates(opt: OptimizerLike, names: Iterable<string>): void {
    let t = this.trainers.get(opt);
    if (!t) {
      t = { index: this.trainers.size, weights: new Set(), lr: undefined, ownUpdate: false };
      this.trainers.set(opt, t);
    }
    let grew = false;
    for (const n of names) {
      if (!t.weights.has(n)) {
        t.weights.add(n);
        grew = true;
      }
    }
    // Cheap on every step: only a new weight or a new learning rate is news.
    if (!this.emit || (!grew && opt.learningRate === t.lr)) return;
    t.lr = opt.learningRate;
    this.emit({ index: t.index, optimizer: this.describe(opt, t.ownUpdate), ...(grew ? { weights: [...t.weights] } : {}) });
  }

  private describe(opt: OptimizerLike, ownUpdate: boolean): OptimizerInfo {
    return { ...optimizerInfo(opt), ...(ownUpdate ? { ownUpdate } : {}) };
  }

  /**
   * `opt` wrote a weight it trains with an update of its own formula (not tfjs's, not a plain rescale): said once,
   * so that a decay folded into that update is not taken for no decay at all.
   */
  noteOwnUpdate(opt: OptimizerLike): void {
    const t = this.trainers.get(opt);
    if (!t || t.ownUpdate) return;
    t.ownUpdate = true;
    this.emit?.({ index: t.index, optimizer: this.describe(opt, true) });
  }

  /**
   * The optimizer whose own code is running outside tfjs's update formula right now: inside its `minimize`, or
   * inside a subclass's own `applyGradients` (an AdamW that decays after `super.applyGradients`). Null between
   * steps, where the script's own code runs.
   */
  ownCode(): OptimizerLike | null {
    return this.inOwnCode.at(-1) ?? null;
  }

  /** Runs around each applyGradients (the effective-decay probe). */
  onApply<T>(listener: ApplyListener<T>): void {
    this.listeners.push(listener as ApplyListener<unknown>);
  }

  /** Runs `fn` once, right after the next applyGradients returns (a step limit waits for the step's update). */
  onceAfterApply(fn: () => void): void {
    this.afterApply.push(fn);
  }

  /** True while an optimizer applies its gradients (its own assignments are not the script's). */
  updating(): boolean {
    return this.depth > 0;
  }

  /** The optimizer running `minimize` / `computeGradients` right now, if any (it will apply this step's gradients). */
  running(): OptimizerLike | null {
    return this.current;
  }

  install(): void {
    const probe = this;
    for (const name of OPTIMIZER_CLASSES) {
      const proto = optimizerPrototype(this.tf, name);
      if (proto) this.tfjsPrototypes.add(proto);
    }
    const base = optimizerPrototype(this.tf, 'Optimizer');
    if (base && typeof base.minimize === 'function') {
      const minimize = base.minimize as (this: OptimizerLike, ...a: unknown[]) => unknown;
      base.minimize = function minimize_(this: OptimizerLike, ...args: unknown[]) {
        probe.wrapSubclasses(this);
        return probe.asOwnCode(this, () => minimize.apply(this, args));
      };
      Object.defineProperty(base.minimize, 'name', { value: 'minimize' });
    }
    if (base) {
      const original = base.computeGradients as (this: OptimizerLike, ...a: unknown[]) => unknown;
      base.computeGradients = function computeGradients(this: OptimizerLike, ...args: unknown[]) {
        probe.wrapSubclasses(this);
        const outer = probe.current;
        probe.current = this;
        probe.last = this;
        try {
          // The loss function it differentiates is the script's code, not the optimizer's.
          return probe.asOwnCode(null, () => original.apply(this, args));
        } finally {
          probe.current = outer;
        }
      };
    }
    for (const name of OPTIMIZER_CLASSES) {
      const proto = optimizerPrototype(this.tf, name);
      if (!proto || !Object.prototype.hasOwnProperty.call(proto, 'applyGradients')) continue;
      const original = proto.applyGradients as (this: OptimizerLike, ...a: unknown[]) => unknown;
      proto.applyGradients = function applyGradients(this: OptimizerLike, ...args: unknown[]) {
        probe.last = this;
        probe.wrapSubclasses(this);
        probe.noteUpdates(this, gradientNames(args[0]));
        // A subclass's own applyGradients calling super's: the outer call is the update.
        if (probe.depth > 0) return original.apply(this, args);
        const tokens = probe.listeners.map((l) => l.before(this, args[0]));
        probe.depth++;
        try {
          return original.apply(this, args);
        } finally {
          try {
            probe.listeners.forEach((l, i) => l.after(tokens[i]));
          } finally {
            probe.depth--;
            for (const fn of probe.afterApply.splice(0)) fn();
          }
        }
      };
    }
  }

  /** The optimizer of the step under way, else the one that last applied gradients. */
  active(): OptimizerLike | null {
    return this.current ?? this.last;
  }
}

/** Variable names of what applyGradients received: a NamedTensorMap, or a list of `{ name, tensor }`. */
function gradientNames(grads: unknown): string[] {
  if (Array.isArray(grads)) return grads.map((g) => nameOf((g as { name?: unknown } | null)?.name, '')).filter((n) => n !== '');
  if (grads && typeof grads === 'object') return Object.keys(grads).filter((k) => (grads as Record<string, unknown>)[k] != null);
  return [];
}
