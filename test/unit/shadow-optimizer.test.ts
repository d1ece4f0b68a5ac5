import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { optimizerInfo } from '../../src/runner/probes/hooks/optimizer-probe';
import { decayFraction, shadowConfig, ShadowOptimizer, type ShadowConfig } from '../../src/runner/probes/decay/shadow-optimizer';
import type { OptimizerLike, Tf } from '../../src/runner/tfjs-internals';
import { SeededRandom } from '../helpers/seeded-random';

const require = createRequire(import.meta.url);
let tf: Tf;
beforeAll(async () => {
  tf = require('@tensorflow/tfjs') as Tf;
  await tf.setBackend('cpu');
});

const OPTIMIZERS: Array<[string, () => unknown]> = [
  ['sgd', () => tf.train.sgd(0.1)],
  ['momentum', () => tf.train.momentum(0.05, 0.9)],
  ['nesterov', () => tf.train.momentum(0.05, 0.8, true)],
  ['adam', () => tf.train.adam(0.01, 0.85, 0.99, 1e-6)],
  ['adamax', () => tf.train.adamax(0.02, 0.9, 0.999, 1e-7, 0.01)],
  ['rmsprop', () => tf.train.rmsprop(0.01, 0.9, 0.5)],
  ['rmsprop centered', () => tf.train.rmsprop(0.01, 0.8, 0.3, 1e-6, true)],
  ['adagrad', () => tf.train.adagrad(0.1, 0.2)],
  ['adadelta', () => tf.train.adadelta(1, 0.9, 1e-6)],
];

describe('shadow optimizers follow tfjs 4.22 update for update', () => {
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: the shadow's updates equal what tfjs applies, over several steps and two weights`, () => {
      const rng = new SeededRandom(name.length * 7919);
      // tfjs declares learningRate protected; the runner reads it as the probe does.
      const opt = make() as OptimizerLike;
      const config = shadowConfig(optimizerInfo(opt));
      expect(config, 'a config for every built-in optimizer').not.toBeNull();
      const shadow = new ShadowOptimizer(config!);
      const sizes = { [`w_${name}_a`]: 12, [`w_${name}_b`]: 5 };
      const vars = Object.fromEntries(Object.entries(sizes).map(([n, size]) => [n, tf.variable(tf.tensor1d(rng.floats(size)), true, n)]));
      for (let step = 0; step < 6; step++) {
        const grads = Object.fromEntries(Object.entries(sizes).map(([n, size]) => [n, rng.floats(size).map((g) => g * (step + 1))]));
        const before = Object.fromEntries(Object.entries(vars).map(([n, v]) => [n, v.dataSync().slice()]));
        (opt as unknown as { applyGradients(g: Record<string, unknown>): void }).applyGradients(
          Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.tensor1d(g)])),
        );
        const deltas = shadow.step(new Map(Object.entries(grads).map(([n, g]) => [n, Float64Array.from(g)])));
        for (const [n, v] of Object.entries(vars)) {
          const after = v.dataSync();
          const real = Array.from(after, (x, i) => x - before[n][i]);
          const ours = Array.from(deltas.get(n)!);
          const scale = Math.max(...real.map(Math.abs), 1e-12);
          for (let i = 0; i < real.length; i++) expect(Math.abs(ours[i] - real[i]) / scale, `${n} step ${step} [${i}]`).toBeLessThan(1e-4);
        }
      }
    });
  }

  it('knows no custom optimizer', () => {
    expect(shadowConfig({ className: 'MyOptimizer', config: { learningRate: 0.1 } })).toBeNull();
    expect(shadowConfig({ className: 'SGD', config: {} })).toBeNull();
  });
});

/** A penalty's gradient for L2 `l2` (tfjs's l2·Σw², no ½): 2·l2·w. */
const l2Grad = (w: Float64Array, l2: number) => w.map((x) => 2 * l2 * x);

function decayOver(config: ShadowConfig, steps: number, dataGrad: (step: number) => Float64Array, w0: Float64Array, l2: number): number[] {
  const full = new ShadowOptimizer(config);
  const data = new ShadowOptimizer(config);
  const w = Float64Array.from(w0);
  const out: number[] = [];
  for (let t = 0; t < steps; t++) {
    const gd = dataGrad(t);
    const pen = l2Grad(w, l2);
    const applied = full.step(new Map([['w', gd.map((g, i) => g + pen[i])]])).get('w')!;
    const dataOnly = data.step(new Map([['w', gd]])).get('w')!;
    out.push(decayFraction(applied, dataOnly, w));
    for (let i = 0; i < w.length; i++) w[i] += applied[i];
  }
  return out;
}

const base: ShadowConfig = { kind: 'SGD', learningRate: 0.1, momentum: 0, useNesterov: false, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, rmsDecay: 0.9, lrDecay: 0, rho: 0.95, centered: false, initialAccumulatorValue: 0.1 };

describe('effective decay from the two shadows', () => {
  it('plain SGD: exactly 2·lr·l2 per step, whatever the data gradient', () => {
    const rng = new SeededRandom(3);
    const s = decayOver(base, 20, () => Float64Array.from(rng.floats(50)), Float64Array.from(rng.floats(50)), 1e-3);
    for (const x of s) expect(x).toBeCloseTo(2 * 0.1 * 1e-3, 12);
  });

  it('momentum m: rises towards 2·lr·l2/(1 − m), ten times SGD at m = 0.9', () => {
    const rng = new SeededRandom(4);
    const s = decayOver({ ...base, kind: 'Momentum', momentum: 0.9, learningRate: 1e-3 }, 200, () => new Float64Array(40), Float64Array.from(rng.floats(40)), 1e-3);
    const sgd = 2 * 1e-3 * 1e-3;
    expect(s[0]).toBeCloseTo(sgd, 12);
    expect(s[199] / sgd).toBeGreaterThan(9.9);
    expect(s[199] / sgd).toBeLessThan(10.01);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThanOrEqual(s[i - 1] * (1 - 1e-9));
  });

  it('Adam: the same L2 decays a tiny-gradient weight far more than a large-gradient one, and more than SGD would', () => {
    const rng = new SeededRandom(5);
    const w0 = Float64Array.from(rng.floats(64));
    const adam = { ...base, kind: 'Adam' as const, learningRate: 1e-3 };
    const big = decayOver(adam, 30, () => Float64Array.from(rng.floats(64)).map((g) => g * 10), w0, 1e-4);
    const tiny = decayOver(adam, 30, () => Float64Array.from(rng.floats(64)).map((g) => g * 1e-6), w0, 1e-4);
    const sgd = 2 * 1e-3 * 1e-4;
    expect(tiny.at(-1)! / big.at(-1)!).toBeGreaterThan(1e3);
    expect(tiny.at(-1)!).toBeGreaterThan(sgd);
    expect(big.at(-1)!).toBeLessThan(sgd);
  });
});
