import { beforeAll, describe, expect, it } from 'vitest';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { expectClose, loadWasmTfjs, onWasmAndCpu } from './helpers/wasm-tfjs';
import type { Tensor, Tf } from './helpers/tfjs';

type Rank4 = [number, number, number, number];
type Tensor4D = import('@tensorflow/tfjs').Tensor4D;

const CASES = 30;
let tf: Tf;

beforeAll(async () => {
  ({ tf } = await loadWasmTfjs());
});

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** Repeated axes are ill-defined in tfjs (cpu and wasm disagree): keep the first of each. */
const distinctAxes = (axes: number[], rank: number) =>
  axes.filter((a, i) => axes.findIndex((b) => (b + rank) % rank === (a + rank) % rank) === i);

describe('Tile on wasm matches cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 9000 + n;
    const rng = new SeededRandom(seed);
    const rank = rng.int(1, 5);
    const shape = Array.from({ length: rank }, () => rng.pick([1, 1, 2, 3, 5]));
    const reps = Array.from({ length: rank }, () => rng.pick([1, 1, 2, 3, 4]));
    const dtype = rng.pick(['float32', 'float32', 'int32', 'bool'] as const);
    const values = Array.from(rng.floats(size(shape)), (v) => (dtype === 'float32' ? v : dtype === 'int32' ? Math.round(v * 50) : Number(v > 0)));
    const label = `seed ${seed}: tile [${shape}] ${dtype} by [${reps}]`;
    it(label, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => tf.tile(tf.tensor(values, shape, dtype), reps));
      expectClose(wasm[0], cpu[0], label);
    });
  }
  it('the batch-norm gradient pattern: [1,1,1,C] over a whole activation', async () => {
    const rng = new SeededRandom(baseSeed() + 9100);
    const values = rng.floats(48);
    const { wasm, cpu } = await onWasmAndCpu(tf, () => tf.tile(tf.tensor4d(values, [1, 1, 1, 48]), [16, 9, 7, 1]));
    expectClose(wasm[0], cpu[0], 'tile [1,1,1,48]');
  });
});

describe('Sum and Mean on wasm match cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 9200 + n;
    const rng = new SeededRandom(seed);
    const rank = rng.int(1, 4);
    const shape = Array.from({ length: rank }, () => rng.int(1, 9));
    // Mostly leading axes (our path), sometimes others and negative or unsorted (stock path).
    const leading = rng.int(1, rank);
    const axis = rng.next() < 0.7
      ? Array.from({ length: leading }, (_, i) => i)
      : distinctAxes(Array.from({ length: rng.int(1, rank) }, () => rng.int(-rank, rank - 1)), rank);
    const keepDims = rng.next() < 0.3;
    const op = rng.pick(['sum', 'mean'] as const);
    const values = rng.floats(size(shape));
    const label = `seed ${seed}: ${op} [${shape}] over ${JSON.stringify(axis)}${keepDims ? ' keepDims' : ''}`;
    it(label, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => tf[op](tf.tensor(values, shape), axis, keepDims));
      expectClose(wasm[0], cpu[0], label);
    });
  }
});

describe('MaxPoolGrad on wasm matches cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 9300 + n;
    const rng = new SeededRandom(seed);
    const shape: Rank4 = [rng.int(1, 3), rng.int(2, 10), rng.int(2, 10), rng.int(1, 6)];
    const pool: [number, number] = [rng.int(1, Math.min(3, shape[1])), rng.int(1, Math.min(3, shape[2]))];
    const strides: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
    const pad = rng.pick(['same', 'valid'] as const);
    // Small integers make ties: both backends must send dy to the same (first) maximum.
    const ties = rng.next() < 0.5;
    const xv = Array.from(rng.floats(size(shape)), (v) => (ties ? Math.round(v * 2) : v));
    const label = `seed ${seed}: maxPool x [${shape}] window ${pool} strides ${strides} ${pad}${ties ? ' with ties' : ''}`;
    it(label, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        // Distinct upstream values per window, so a dy sent to the wrong input shows.
        const loss = (x: Tensor) => {
          const y = tf.maxPool(x as Tensor4D, pool, strides, pad);
          return y.mul(tf.range(1, 1 + size(y.shape)).reshape(y.shape)).sum();
        };
        return tf.grad(loss)(tf.tensor4d(xv, shape));
      });
      expectClose(wasm[0], cpu[0], label);
    });
  }
});

describe('GatherV2 on wasm matches cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 9400 + n;
    const rng = new SeededRandom(seed);
    const rank = rng.int(1, 4);
    const shape = Array.from({ length: rank }, () => rng.int(1, 6));
    const batchDims = rank > 1 && rng.next() < 0.25 ? 1 : 0;
    const axis = rng.int(batchDims, rank - 1);
    const indicesShape = [...shape.slice(0, batchDims), ...Array.from({ length: rng.int(0, 2) }, () => rng.int(1, 5))];
    const dtype = rng.pick(['float32', 'float32', 'int32', 'bool'] as const);
    const values = Array.from(rng.floats(size(shape)), (v) => (dtype === 'float32' ? v : dtype === 'int32' ? Math.round(v * 50) : Number(v > 0)));
    const ids = Array.from({ length: size(indicesShape) }, () => rng.int(0, shape[axis] - 1));
    const label = `seed ${seed}: gather [${shape}] ${dtype} axis ${axis} batchDims ${batchDims} indices [${indicesShape}]`;
    it(label, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () =>
        tf.gather(tf.tensor(values, shape, dtype), tf.tensor(ids, indicesShape, 'int32'), axis, batchDims));
      expectClose(wasm[0], cpu[0], label);
    });
  }
  it('rejects an index out of range, as cpu does', () => {
    expect(() => tf.gather(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor1d([0, 2], 'int32'))).toThrow('GatherV2: the index value 2 is not in [0, 1]');
  });
});

describe('Identity on wasm', () => {
  it('shares the data and outlives the tensor it came from', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.engine().runKernel('Identity', { x }) as Tensor;
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const before = tf.memory().numTensors;
    y.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
  });
});
