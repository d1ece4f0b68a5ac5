/**
 * The tests' own float64 re-implementation of tfjs 4.22's optimizers, written apart from the runner's shadows (one
 * closure per element, state in plain arrays) so that the effective decay the runner reports can be checked against an
 * independent computation. Each `update(i, g)` returns element i's Δ for this step; `endStep()` advances the
 * optimizer-wide counters (Adam's β powers, Adamax's iteration), as tfjs does once per applyGradients.
 */
export interface ReferenceOptimizer {
  update(key: string, i: number, g: number): number;
  endStep(): void;
}

type Config = Record<string, unknown>;
const num = (c: Config, k: string, fallback: number) => (typeof c[k] === 'number' ? (c[k] as number) : fallback);

export function referenceOptimizer(className: string, config: Config): ReferenceOptimizer {
  const state = new Map<string, number[]>();
  const slot = (key: string, i: number, size: number, init = 0): number[] => {
    const k = `${key}#${i}`;
    let s = state.get(k);
    if (!s) state.set(k, (s = new Array(size).fill(init)));
    return s;
  };
  const lr = num(config, 'learningRate', Number.NaN);
  switch (className) {
    case 'SGD':
      return { update: (_k, _i, g) => -lr * g, endStep: () => {} };
    case 'Momentum': {
      const m = num(config, 'momentum', 0);
      const nesterov = config.useNesterov === true;
      return {
        update(key, i, g) {
          const s = slot(key, i, 1);
          s[0] = m * s[0] + g;
          return nesterov ? -lr * (g + m * s[0]) : -lr * s[0];
        },
        endStep: () => {},
      };
    }
    case 'Adam': {
      const b1 = num(config, 'beta1', 0.9);
      const b2 = num(config, 'beta2', 0.999);
      const eps = num(config, 'epsilon', 1e-7);
      let t = 1;
      return {
        update(key, i, g) {
          const s = slot(key, i, 2);
          s[0] = b1 * s[0] + (1 - b1) * g;
          s[1] = b2 * s[1] + (1 - b2) * g * g;
          // tfjs's bias correction: 1 − βᵗ with t counted from 1.
          const mHat = s[0] / (1 - b1 ** t);
          const vHat = s[1] / (1 - b2 ** t);
          return -lr * (mHat / (Math.sqrt(vHat) + eps));
        },
        endStep: () => void t++,
      };
    }
    case 'Adamax': {
      const b1 = num(config, 'beta1', 0.9);
      const b2 = num(config, 'beta2', 0.999);
      const eps = num(config, 'epsilon', 1e-7);
      const decay = num(config, 'decay', 0);
      let t = 1;
      return {
        update(key, i, g) {
          const s = slot(key, i, 2);
          s[0] = b1 * s[0] + (1 - b1) * g;
          s[1] = Math.max(b2 * s[1], Math.abs(g));
          const rate = lr / (1 + decay * (t - 1));
          return -(rate / (1 - b1 ** t)) * (s[0] / (s[1] + eps));
        },
        endStep: () => void t++,
      };
    }
    case 'RMSProp': {
      const rho = num(config, 'decay', 0.9);
      const m = num(config, 'momentum', 0);
      const eps = num(config, 'epsilon', 1e-7);
      const centered = config.centered === true;
      return {
        update(key, i, g) {
          const s = slot(key, i, 3);
          s[0] = rho * s[0] + (1 - rho) * g * g;
          // tfjs: sqrt(ms − (mg² + ε)) when centered, sqrt(ms + ε) when not.
          let denominator: number;
          if (centered) {
            s[1] = rho * s[1] + (1 - rho) * g;
            denominator = Math.sqrt(s[0] - (s[1] * s[1] + eps));
          } else denominator = Math.sqrt(s[0] + eps);
          s[2] = m * s[2] + (lr * g) / denominator;
          return -s[2];
        },
        endStep: () => {},
      };
    }
    case 'Adagrad': {
      const init = num(config, 'initialAccumulatorValue', 0.1);
      return {
        update(key, i, g) {
          const s = slot(key, i, 1, init);
          s[0] += g * g;
          return (-lr * g) / Math.sqrt(s[0] + 1e-7);
        },
        endStep: () => {},
      };
    }
    case 'Adadelta': {
      const rho = num(config, 'rho', 0.95);
      const eps = num(config, 'epsilon', 1e-7);
      return {
        update(key, i, g) {
          const s = slot(key, i, 2);
          // The step divides by the running mean of g² from before this gradient (tfjs 4.22).
          const before = s[0];
          s[0] = rho * s[0] + (1 - rho) * g * g;
          const u = (Math.sqrt(s[1] + eps) / Math.sqrt(before + eps)) * g;
          s[1] = rho * s[1] + (1 - rho) * u * u;
          return -lr * u;
        },
        endStep: () => {},
      };
    }
    default:
      throw new Error(`no reference for ${className}`);
  }
}
