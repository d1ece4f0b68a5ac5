import { beforeAll, describe, expect, it } from 'vitest';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { expectClose, loadWasmTfjs, onWasmAndCpu } from './helpers/wasm-tfjs';
import type { Tensor, Tf } from './helpers/tfjs';

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await loadWasmTfjs());
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A random shape of rank 1–4 whose size runs past the kernels' 16-, 8- and 4-element blocks. */
function randomShape(rng: SeededRandom): number[] {
  const rank = rng.int(1, 4);
  return Array.from({ length: rank }, () => rng.int(1, 9));
}

/** Values with exact ties against the comparison scalars (0 and 6, like relu6's gradient). */
function values(rng: SeededRandom, n: number): Float32Array {
  const v = rng.floats(n).map((x) => x * 8);
  for (let i = 0; i < n; i += 5) v[i] = rng.pick([0, 6, -0]);
  return v;
}

const COMPARE = ['greaterEqual', 'lessEqual', 'greater', 'less', 'equal', 'notEqual'] as const;

describe('comparisons, LogicalAnd and Select on wasm match cpu', () => {
  for (let n = 0; n < 36; n++) {
    const seed = baseSeed() + 8000 + n;
    const rng = new SeededRandom(seed);
    const op = COMPARE[n % COMPARE.length];
    const shape = randomShape(rng);
    // Same shapes, a scalar on either side, or a broadcast the stock kernel keeps.
    const form = rng.pick(['same', 'scalar-b', 'scalar-a', 'rank-0', 'broadcast'] as const);
    const otherShape = form === 'same' ? shape : form === 'broadcast' ? shape.map((d, i) => (i === 0 ? 1 : d)) : form === 'rank-0' ? [] : [1];
    const [aShape, bShape] = form === 'scalar-a' ? [otherShape, shape] : [shape, otherShape];
    const av = values(rng, size(aShape));
    const bv = values(rng, size(bShape));
    const cv = values(rng, size(shape));
    it(`seed ${seed}: ${op} ${JSON.stringify(aShape)} vs ${JSON.stringify(bShape)}, then logicalAnd and where`, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const a = tf.tensor(av, aShape);
        const b = tf.tensor(bv, bShape);
        const mask = (tf[op] as (x: Tensor, y: Tensor) => Tensor)(a, b);
        const other = tf.greaterEqual(tf.tensor(cv, shape), 0);
        const both = tf.logicalAnd(mask, other);
        const scalarAnd = tf.logicalAnd(both, tf.scalar(true, 'bool'));
        const t = tf.tensor(cv, shape);
        const e = tf.neg(t);
        const picked = both.shape.length === t.shape.length && both.size === t.size ? tf.where(both, t, e) : tf.zeros(shape);
        return [mask.cast('int32'), both.cast('int32'), scalarAnd.cast('int32'), picked];
      });
      for (let i = 0; i < cpu.length; i++) expectClose(wasm[i], cpu[i], `seed ${seed} output ${i}`, 0);
    });
  }
});

describe('relu6 (clipByValue 0..6) and its gradient on wasm match cpu', () => {
  it('at ties and in between', async () => {
    const rng = new SeededRandom(baseSeed() + 8100);
    const shape = [7, 5, 5, 13];
    const xv = values(rng, size(shape));
    const dyv = rng.floats(size(shape));
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const x = tf.tensor(xv, shape);
      const { value, grad } = tf.valueAndGrad((t: Tensor) => tf.clipByValue(t, 0, 6).mul(tf.tensor(dyv, shape)).sum())(x);
      return [value, grad];
    });
    expectClose(wasm[0], cpu[0], 'value');
    expectClose(wasm[1], cpu[1], 'gradient', 0);
  });
});

describe('FusedBatchNorm on wasm matches cpu', () => {
  for (let n = 0; n < 12; n++) {
    const seed = baseSeed() + 8200 + n;
    const rng = new SeededRandom(seed);
    const channels = rng.int(1, 19);
    const shape = [...randomShape(rng).slice(0, 3), channels];
    const withScale = rng.next() < 0.7;
    const withOffset = rng.next() < 0.7;
    const perChannel = rng.next() < 0.8;
    const xv = rng.floats(size(shape)).map((v) => 3 + 10 * v);
    const stat = (k: number) => (perChannel ? rng.floats(channels).map((v) => k + v) : rng.floats(1).map((v) => k + v));
    const mean = stat(3);
    const variance = stat(2);
    const scale = stat(1);
    const shift = stat(0);
    it(`seed ${seed}: x ${JSON.stringify(shape)}${withScale ? ' scale' : ''}${withOffset ? ' offset' : ''}${perChannel ? '' : ' scalar statistics'}`, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const s = perChannel ? [channels] : [1];
        return tf.batchNorm(tf.tensor(xv, shape), tf.tensor(mean, s), tf.tensor(variance, s),
          withOffset ? tf.tensor(shift, s) : undefined, withScale ? tf.tensor(scale, s) : undefined, 1e-3);
      });
      expectClose(wasm[0], cpu[0], `seed ${seed}`);
    });
  }
});

const BINARY = ['add', 'sub', 'mul', 'div'] as const;

describe('Add, Sub, Multiply and RealDiv (stock XNNPACK: ours measured no faster) on every broadcast form, and same-dtype Cast, match cpu', () => {
  for (let n = 0; n < 40; n++) {
    const seed = baseSeed() + 8300 + n;
    const rng = new SeededRandom(seed);
    const op = BINARY[n % BINARY.length];
    const shape = randomShape(rng);
    const channels = shape[shape.length - 1];
    // Same shape, a scalar, a last-axis vector (with or without leading 1s), on either side, or
    // a broadcast the stock kernel keeps; int32 goes to the stock kernel too.
    const form = rng.pick(['same', 'scalar', 'rank-0', 'channels', 'channels-1s', 'other', 'leading-1s'] as const);
    const other =
      form === 'same' ? shape
        : form === 'scalar' ? [1]
        : form === 'rank-0' ? []
        : form === 'channels' ? [channels]
        : form === 'channels-1s' ? [...shape.slice(0, -1).map(() => 1), channels]
        : form === 'leading-1s' ? [1, ...shape]
        : shape.map((d, i) => (i === 0 ? 1 : d));
    const flip = rng.next() < 0.5;
    const [aShape, bShape] = flip ? [other, shape] : [shape, other];
    const dtype = rng.next() < 0.1 ? 'int32' : 'float32';
    // No zeros: a divisor of 0 gives Inf/NaN, compared elsewhere.
    const nonZero = (k: number) => rng.floats(k).map((v) => (dtype === 'int32' ? Math.sign(v || 1) * (1 + Math.floor(Math.abs(v) * 9)) : v + Math.sign(v || 1) * 0.1));
    const av = nonZero(size(aShape));
    const bv = nonZero(size(bShape));
    it(`seed ${seed}: ${op} ${dtype} ${JSON.stringify(aShape)} ∘ ${JSON.stringify(bShape)}`, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () =>
        (tf[op] as (x: Tensor, y: Tensor) => Tensor)(tf.tensor(av, aShape, dtype), tf.tensor(bv, bShape, dtype)));
      expectClose(wasm[0], cpu[0], `seed ${seed}`, dtype === 'int32' ? 0 : 1e-6);
    });
  }

  it('a cast to the same dtype shares the buffer and survives the original being disposed', async () => {
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const x = tf.tensor([1.5, -2, 3], [3]);
      const y = tf.cast(x, 'float32');
      x.dispose();
      return [y.add(1), tf.cast(tf.tensor([1, 2], [2], 'int32'), 'float32')];
    });
    expectClose(wasm[0], cpu[0], 'same dtype');
    expectClose(wasm[1], cpu[1], 'int32 → float32');
  });
});

describe('batch norm gradients on wasm (our one-pass kernel) match cpu (tfjs\'s composite gradient)', () => {
  for (let n = 0; n < 14; n++) {
    const seed = baseSeed() + 8400 + n;
    const rng = new SeededRandom(seed);
    // Channels in fours take our kernel; the others, and rank-4 statistics, take tfjs's gradient.
    const channels = n % 5 === 4 ? rng.int(1, 7) : 4 * rng.int(1, 5);
    const shape = [...randomShape(rng).slice(0, 3), channels];
    const xv = rng.floats(size(shape)).map((v) => 2 + 3 * v);
    const dyv = rng.floats(size(shape));
    const mean = rng.floats(channels).map((v) => 2 + v);
    const variance = rng.floats(channels).map((v) => 1.5 + v);
    const scale = rng.floats(channels).map((v) => 1 + v / 2);
    const shift = rng.floats(channels);
    // Always with a scale: tfjs 4.22 cannot differentiate batchNorm without one on any backend.
    it(`seed ${seed}: x ${JSON.stringify(shape)}`, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const f = (x: Tensor, m: Tensor, v: Tensor, o: Tensor, s: Tensor) =>
          tf.batchNorm(x, m, v, o, s, 1e-3).mul(tf.tensor(dyv, shape)).sum();
        return tf.grads(f)([tf.tensor(xv, shape), tf.tensor(mean, [channels]), tf.tensor(variance, [channels]), tf.tensor(shift, [channels]), tf.tensor(scale, [channels])]);
      });
      for (let i = 0; i < 5; i++) expectClose(wasm[i], cpu[i], `seed ${seed} gradient ${['x', 'mean', 'variance', 'offset', 'scale'][i]}`);
    });
  }

  it('trains tf.layers.batchNormalization the same on wasm and cpu (moments, moving statistics, gamma and beta)', async () => {
    const rng = new SeededRandom(baseSeed() + 8500);
    const xv = rng.floats(6 * 5 * 5 * 8);
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const layer = tf.layers.batchNormalization({ gammaInitializer: 'ones', betaInitializer: 'zeros' });
      const x = tf.tensor(xv, [6, 5, 5, 8]);
      const weights = () => layer.trainableWeights.map((w) => w.read());
      layer.build([6, 5, 5, 8]);
      const { grads } = tf.variableGrads(() => (layer.apply(x, { training: true }) as Tensor).square().mul(tf.range(0, 1200).reshape([6, 5, 5, 8]).div(1200)).sum(), weights() as never);
      return Object.values(grads);
    });
    for (let i = 0; i < cpu.length; i++) expectClose(wasm[i], cpu[i], `weight ${i}`);
  });
});

describe('which batch norm gradient runs', () => {
  it('ours on wasm when the channels come in fours, tfjs\'s composite otherwise', async () => {
    const kernelsFor = async (channels: number) => {
      const x = tf.randomNormal([3, 5, channels]);
      const stats = [tf.zeros([channels]), tf.ones([channels]), tf.zeros([channels]), tf.ones([channels])];
      const info = await tf.profile(() => {
        tf.grads((a: Tensor, m: Tensor, v: Tensor, o: Tensor, s: Tensor) => tf.batchNorm(a, m, v, o, s, 1e-3).sum())([x, ...stats]);
      });
      return info.kernelNames;
    };
    expect(await kernelsFor(8)).toContain('LossLensFusedBatchNormGrad');
    expect(await kernelsFor(6)).not.toContain('LossLensFusedBatchNormGrad');
  });
});
