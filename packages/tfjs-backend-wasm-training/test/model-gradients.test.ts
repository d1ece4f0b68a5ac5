import { beforeAll, describe, it } from 'vitest';
import { expectNoLeakedBuffers, expectSameTrainingStep, oneHotLabels, type ModelCase } from './helpers/model-comparison';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { loadWasmTfjs } from './helpers/wasm-tfjs';
import type { Tf } from './helpers/tfjs';

let tf: Tf;
const fellBack: string[] = [];

beforeAll(async () => {
  ({ tf } = await loadWasmTfjs((k) => fellBack.push(k)));
});

const CASES: ModelCase[] = [
  {
    name: 'CNN: conv 3×3 same, max-pool, conv 3×3 stride 2 valid, dense',
    build: (tf) => tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 12, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    }),
    batch: (tf, rng) => {
      const xv = rng.floats(6 * 12 * 12 * 3);
      return { x: () => tf.tensor4d(xv, [6, 12, 12, 3]), y: oneHotLabels(tf, rng, 6, 10) };
    },
  },
  {
    name: 'MobileNet-style block: conv s2 + BN + relu6, depthwise + BN, pointwise, depthwise s2 ×2, global pool',
    build: (tf) => tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
        tf.layers.batchNormalization(),
        tf.layers.reLU({ maxValue: 6 }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }),
        tf.layers.batchNormalization(),
        tf.layers.reLU({ maxValue: 6 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false }),
        tf.layers.batchNormalization(),
        tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2 }),
        tf.layers.reLU({ maxValue: 6 }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 5, activation: 'softmax' }),
      ],
    }),
    batch: (tf, rng) => {
      const xv = rng.floats(4 * 16 * 16 * 3);
      return { x: () => tf.tensor4d(xv, [4, 16, 16, 3]), y: oneHotLabels(tf, rng, 4, 5) };
    },
  },
  {
    name: 'text model: Embedding, flatten, dense relu, dense softmax',
    build: (tf) => tf.sequential({
      layers: [
        tf.layers.embedding({ inputShape: [10], inputDim: 60, outputDim: 12 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 16, activation: 'relu' }),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    }),
    batch: (tf, rng) => {
      const ids = Array.from({ length: 8 * 10 }, () => rng.int(0, 59));
      return { x: () => tf.tensor2d(ids, [8, 10], 'int32'), y: oneHotLabels(tf, rng, 8, 4) };
    },
  },
];

describe('whole-model gradients on wasm match cpu after one training step', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      await expectSameTrainingStep(tf, c, new SeededRandom(baseSeed() + 7000 + i), fellBack);
    });
  }
});

describe('the training kernels free what they allocate', () => {
  for (const [i, c] of CASES.entries()) {
    it(`${c.name}: the wasm backend holds as many buffers after a step as before`, async () => {
      await expectNoLeakedBuffers(tf, c, new SeededRandom(baseSeed() + 7100 + i));
    });
  }
});
