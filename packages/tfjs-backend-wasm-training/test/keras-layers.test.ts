import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedBuffers, expectSameTrainingStep, oneHotLabels, type ModelCase } from './helpers/model-comparison';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { expectClose, loadWasmTfjs } from './helpers/wasm-tfjs';
import type { Tensor, Tf } from './helpers/tfjs';

type Layer = import('@tensorflow/tfjs').layers.Layer;

let tf: Tf;
const fellBack: string[] = [];

beforeAll(async () => {
  ({ tf } = await loadWasmTfjs((k) => fellBack.push(k)));
});

/** A sequential model over `inputShape` ending in a softmax over 3 classes; batch of 4. */
function stack(name: string, inputShape: number[], layers: (tf: Tf) => Layer[], input: 'floats' | 'ids' = 'floats'): ModelCase {
  return {
    name,
    build: (tf) => tf.sequential({ layers: [...layers(tf), tf.layers.dense({ units: 3, activation: 'softmax' })] }),
    batch: (tf, rng) => {
      const shape = [4, ...inputShape];
      const size = shape.reduce((a, b) => a * b, 1);
      const values = input === 'ids' ? Int32Array.from({ length: size }, () => rng.int(0, 29)) : rng.floats(size);
      const x = (): Tensor => tf.tensor(values, shape, input === 'ids' ? 'int32' : 'float32');
      return { x, y: oneHotLabels(tf, rng, 4, 3) };
    },
  };
}

/** Every layer family a Keras-style model commonly trains, each on wasm with no cpu fallback. */
const CASES: ModelCase[] = [
  stack('conv1d strided + maxPooling1d + conv1d valid + globalAveragePooling1d', [20, 4], (tf) => [
    tf.layers.conv1d({ inputShape: [20, 4], filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
    tf.layers.maxPooling1d({ poolSize: 2 }),
    tf.layers.conv1d({ filters: 5, kernelSize: 2 }),
    tf.layers.globalAveragePooling1d(),
  ]),
  stack('separableConv2d strided with depthMultiplier 2 + averagePooling2d', [12, 12, 3], (tf) => [
    tf.layers.separableConv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }),
    tf.layers.averagePooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
  ]),
  stack('conv2dTranspose strided + zeroPadding2d + cropping2D', [8, 8, 3], (tf) => [
    tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' }),
    tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
    tf.layers.zeroPadding2d({ padding: 1 }),
    tf.layers.cropping2D({ cropping: [[1, 0], [0, 1]] }),
    tf.layers.globalAveragePooling2d({}),
  ]),
  stack('depthwiseConv2d valid + batchNormalization + dropout (seeded) + globalMaxPooling2d', [10, 10, 3], (tf) => [
    tf.layers.depthwiseConv2d({ inputShape: [10, 10, 3], kernelSize: [3, 2], depthMultiplier: 2, strides: 2 }),
    tf.layers.batchNormalization(),
    tf.layers.dropout({ rate: 0.3, seed: 7 }),
    tf.layers.globalMaxPooling2d({}),
  ]),
  stack('embedding + LSTM (sequences) + GRU', [7], (tf) => [
    tf.layers.embedding({ inputShape: [7], inputDim: 30, outputDim: 8 }),
    tf.layers.lstm({ units: 6, returnSequences: true }),
    tf.layers.gru({ units: 5 }),
  ], 'ids'),
  stack('simpleRNN + layerNormalization + dense tanh', [5, 4], (tf) => [
    tf.layers.simpleRNN({ inputShape: [5, 4], units: 6 }),
    tf.layers.layerNormalization(),
    tf.layers.dense({ units: 5, activation: 'tanh' }),
  ]),
  stack('timeDistributed dense over a sequence + bidirectional LSTM', [6, 5], (tf) => [
    tf.layers.timeDistributed({ inputShape: [6, 5], layer: tf.layers.dense({ units: 4, activation: 'relu' }) }),
    tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3 }) as never, mergeMode: 'concat' }),
  ]),
];

describe('common Keras layers train on wasm, natively, matching cpu', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      await expectSameTrainingStep(tf, c, new SeededRandom(baseSeed() + 8000 + i), fellBack);
    });
  }

  // cpu's ResizeNearestNeighborGrad mixes up batch items (4.22), so the reference is the sum by hand.
  it('upSampling2d: the gradient of each input pixel is the sum over its 2×2 block', () => {
    const [b, h, w, c] = [3, 4, 5, 2];
    const rng = new SeededRandom(baseSeed() + 8999);
    const up = rng.floats(b * 2 * h * 2 * w * c);
    const want = new Float32Array(b * h * w * c);
    for (let n = 0; n < b; n++)
      for (let y = 0; y < 2 * h; y++)
        for (let x = 0; x < 2 * w; x++)
          for (let k = 0; k < c; k++) want[((n * h + (y >> 1)) * w + (x >> 1)) * c + k] += up[((n * 2 * h + y) * 2 * w + x) * c + k];
    fellBack.length = 0;
    const layer = tf.layers.upSampling2d({ size: [2, 2] });
    const got = tf.tidy(() => {
      const loss = (x: Tensor) => (layer.apply(x) as Tensor).mul(tf.tensor(up, [b, 2 * h, 2 * w, c])).sum();
      return tf.grad(loss)(tf.zeros([b, h, w, c])).dataSync() as Float32Array;
    });
    expectClose({ shape: [want.length], values: got }, { shape: [want.length], values: want }, 'upSampling2d gradient');
    expect(fellBack).toEqual([]);
  });
});

describe('training those layers leaks no wasm buffers', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      await expectNoLeakedBuffers(tf, c, new SeededRandom(baseSeed() + 8100 + i));
    });
  }
});
