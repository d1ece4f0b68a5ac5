import type { OptimizerInfo, OptimizerWeights } from '../../shared/protocol/run-data';
import { optimizerPrototype, type OptimizerLike, type Tf } from '../tfjs-internals';
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

/** What the report says of an optimizer: its class and the plain values of its getConfig(). */
export function optimizerInfo(opt: OptimizerLike): OptimizerInfo {
  const config: OptimizerInfo['config'] = {};
  let raw: unknown = {};
  try {
    raw = opt.getConfig();
  } catch {
    // A custom optimizer without getConfig still has a class.
  }
  // Only plain values travel (a custom getConfig may return anything, or nothing); NaN and ±Infinity travel as strings.
  if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) config[k] = v;
    }
  }
  if (config.learningRate === undefined && typeof opt.learningRate === 'number') config.learningRate = opt.learningRate;
  return { className: classNameOf(opt, 'Optimizer'), config };
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
  private readonly trainers = new Map<OptimizerLike, { index: number; weights: Set<string>; lr: number | undefined }>();
  private emit: ((update: OptimizerWeights) => void) | null = null;
  private readonly listeners: Array<ApplyListener<unknown>> = [];
  private readonly afterApply: Array<() => void> = [];
  private depth = 0;

  constructor(private readonly tf: Tf) {}

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
      t = { index: this.trainers.size, weights: new Set(), lr: undefined };
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
    this.emit({ index: t.index, optimizer: optimizerInfo(opt), ...(grew ? { weights: [...t.weights] } : {}) });
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
    const base = optimizerPrototype(this.tf, 'Optimizer');
    if (base) {
      const original = base.computeGradients as (this: OptimizerLike, ...a: unknown[]) => unknown;
      base.computeGradients = function computeGradients(this: OptimizerLike, ...args: unknown[]) {
        const outer = probe.current;
        probe.current = this;
        probe.last = this;
        try {
          return original.apply(this, args);
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
