import { beforeAll, describe, expect, it } from 'vitest';
import { baseSeed, SeededRandom } from '../helpers/seeded-random';
import { expectClose, loadWasmTfjs } from '../helpers/wasm-tfjs';
import type { Tensor, Tf } from '../../src/runner/tfjs-internals';

type LayersModel = import('@tensorflow/tfjs').LayersModel;
type Layers = Tf['layers'];

let tf: Tf;
const fellBack: string[] = [];

beforeAll(async () => {
  ({ tf } = await loadWasmTfjs((k) => fellBack.push(k)));
});

interface ModelCase {
  name: string;
  build(L: Layers): LayersModel;
  /** Input and one-hot target for a batch, from plain arrays. */
  batch(rng: SeededRandom): { x: () => Tensor; y: () => Tensor };
}

const oneHot = (rng: SeededRandom, rows: number, classes: number) => {
  const labels = Array.from({ length: rows }, () => rng.int(0, classes - 1));
  return () => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
};

const CASES: ModelCase[] = [
  {
    name: 'CNN: conv 3×3 same, max-pool, conv 3×3 stride 2 valid, dense',
    build: (L) => tf.sequential({
      layers: [
        L.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        L.maxPooling2d({ poolSize: 2 }),
        L.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu' }),
        L.flatten(),
        L.dense({ units: 10, activation: 'softmax' }),
      ],
    }),
    batch: (rng) => {
      const xv = rng.floats(6 * 12 * 12 * 3);
      return { x: () => tf.tensor4d(xv, [6, 12, 12, 3]), y: oneHot(rng, 6, 10) };
    },
  },
  {
    name: 'MobileNet-style block: conv s2 + BN + relu6, depthwise + BN, pointwise, depthwise s2, global pool',
    build: (L) => tf.sequential({
      layers: [
        L.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
        L.batchNormalization(),
        L.reLU({ maxValue: 6 }),
        L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }),
        L.batchNormalization(),
        L.reLU({ maxValue: 6 }),
        L.conv2d({ filters: 16, kernelSize: 1, useBias: false }),
        L.batchNormalization(),
        L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2 }),
        L.reLU({ maxValue: 6 }),
        L.globalAveragePooling2d({}),
        L.dense({ units: 5, activation: 'softmax' }),
      ],
    }),
    batch: (rng) => {
      const xv = rng.floats(4 * 16 * 16 * 3);
      return { x: () => tf.tensor4d(xv, [4, 16, 16, 3]), y: oneHot(rng, 4, 5) };
    },
  },
  {
    name: 'text model: Embedding, flatten, dense relu, dense softmax',
    build: (L) => tf.sequential({
      layers: [
        L.embedding({ inputShape: [10], inputDim: 60, outputDim: 12 }),
        L.flatten(),
        L.dense({ units: 16, activation: 'relu' }),
        L.dense({ units: 4, activation: 'softmax' }),
      ],
    }),
    batch: (rng) => {
      const ids = Array.from({ length: 8 * 10 }, () => rng.int(0, 59));
      return { x: () => tf.tensor2d(ids, [8, 10], 'int32'), y: oneHot(rng, 8, 4) };
    },
  },
];

/**
 * Gradients of every trainable weight for one batch, and the weights after one SGD step
 * (not Adam: it would turn float noise in a near-zero gradient into a full step).
 */
async function oneStep(model: LayersModel, x: Tensor, y: Tensor, initial: Tensor[]) {
  model.setWeights(initial);
  const weights = model.trainableWeights.map((w) => w.read());
  const grads = tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as Tensor).mean() as never);
    return weights.map((w) => grads[(w as unknown as { name: string }).name]);
  });
  const gradValues = grads.map((g) => ({ shape: g.shape.slice(), values: g.dataSync() as Float32Array }));
  tf.dispose(grads);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  await model.trainOnBatch(x, y);
  const after = model.getWeights().map((w) => ({ shape: w.shape.slice(), values: w.dataSync() as Float32Array }));
  return { grads: gradValues, after };
}

describe('whole-model gradients on wasm match cpu', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const rng = new SeededRandom(baseSeed() + 7000 + i);
      const data = c.batch(rng);
      const model = c.build(tf.layers);
      // Both backends start from these values (read to plain arrays: no tensor crosses backends).
      const initial = model.getWeights().map((w) => ({ shape: w.shape.slice(), values: w.dataSync().slice() }));
      const run = async () => {
        const x = data.x();
        const y = data.y();
        const start = initial.map((w) => tf.tensor(w.values, w.shape));
        const result = await oneStep(model, x, y, start);
        tf.dispose([x, y, ...start]);
        return result;
      };
      fellBack.length = 0;
      const wasm = await run();
      expect(fellBack, 'kernels that fell back to cpu').toEqual([]);
      await tf.setBackend('cpu');
      let cpu;
      try {
        cpu = await run();
      } finally {
        await tf.setBackend('wasm');
      }
      const names = model.trainableWeights.map((w) => w.name);
      wasm.grads.forEach((g, k) => expectClose(g, cpu.grads[k], `${c.name}: gradient of ${names[k]} (seed ${baseSeed() + 7000 + i})`));
      wasm.after.forEach((w, k) => expectClose(w, cpu.after[k], `${c.name}: weight ${k} after one SGD step`));
    });
  }
});
