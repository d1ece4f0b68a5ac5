import type { OptimizerInfo } from '../../shared/protocol/run-data';
import { optimizerPrototype, type OptimizerLike, type Tf } from '../tfjs-internals';

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
  let raw: Record<string, unknown> = {};
  try {
    raw = opt.getConfig();
  } catch {
    // A custom optimizer without getConfig still has a class.
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null) config[k] = v;
  }
  if (config.learningRate === undefined && typeof opt.learningRate === 'number') config.learningRate = opt.learningRate;
  return { className: opt.getClassName?.() ?? opt.constructor?.name ?? 'Optimizer', config };
}

/**
 * Knows which optimizer is driving the current step: `minimize` reaches the gradient tape through
 * `computeGradients`; a loop of `variableGrads` + `applyGradients` is only seen after the step.
 */
export class OptimizerProbe {
  private current: OptimizerLike | null = null;
  private last: OptimizerLike | null = null;

  constructor(private readonly tf: Tf) {}

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
        return original.apply(this, args);
      };
    }
  }

  /** The optimizer of the step under way, else the one that last applied gradients. */
  active(): OptimizerLike | null {
    return this.current ?? this.last;
  }
}
