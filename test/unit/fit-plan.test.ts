import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetStepsPerEpoch, fitStepsPerEpoch, plannedEpochs } from '../../src/runner/probes/hooks/fit-plan';
import { optimizerInfo } from '../../src/runner/probes/hooks/optimizer-probe';
import type { OptimizerLike } from '../../src/runner/tfjs-internals';

type Tf = typeof import('@tensorflow/tfjs');
const require = createRequire(import.meta.url);
let tf: Tf;
beforeAll(async () => {
  tf = require('@tensorflow/tfjs') as Tf;
  await tf.setBackend('cpu');
});

describe('the training a fit / fitDataset call plans, from its arguments', () => {
  it('fit: ceil(samples / batchSize), 32 by default, on what a validationSplit leaves; a list or a map of inputs counts its first', () => {
    const x = tf.zeros([100, 3]);
    expect(fitStepsPerEpoch(x, {})).toBe(4);
    expect(fitStepsPerEpoch(x, { batchSize: 16 })).toBe(7);
    // tfjs trains on the first floor(100 · 0.8) = 80 samples.
    expect(fitStepsPerEpoch(x, { batchSize: 16, validationSplit: 0.2 })).toBe(5);
    // With validationData the split is not applied.
    expect(fitStepsPerEpoch(x, { batchSize: 16, validationSplit: 0.2, validationData: [x, x] })).toBe(7);
    expect(fitStepsPerEpoch([x, tf.zeros([100, 2])], { batchSize: 50 })).toBe(2);
    expect(fitStepsPerEpoch({ a: x, b: tf.zeros([100, 2]) }, { batchSize: 50 })).toBe(2);
    expect(fitStepsPerEpoch(undefined, {})).toBeNull();
  });

  it('epochs minus initialEpoch, 1 by default; fitDataset: batchesPerEpoch, else the dataset size when known', async () => {
    expect(plannedEpochs({})).toBe(1);
    expect(plannedEpochs({ epochs: 10, initialEpoch: 3 })).toBe(7);
    const ds = tf.data.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).batch(4);
    expect(datasetStepsPerEpoch(ds, {})).toBe(3);
    expect(datasetStepsPerEpoch(ds, { batchesPerEpoch: 2 })).toBe(2);
    expect(datasetStepsPerEpoch(tf.data.generator(function* () {
      yield 1;
    }), {})).toBeNull();
  });
});

describe('what an optimizer says of weight decay', () => {
  it("a user's AdamW: its JavaScript class, and the decay settings it holds (own fields, one level into a settings object)", () => {
    class AdamW extends tf.AdamOptimizer {
      readonly weightDecay: number;
      constructor(readonly settings: { learningRate: number; weightDecayRate?: number; weight_decay?: number }) {
        super(settings.learningRate, 0.9, 0.999, 1e-7);
        this.weightDecay = settings.weight_decay ?? 0;
      }
    }
    const info = optimizerInfo(new AdamW({ learningRate: 1e-3, weightDecayRate: 0.01 }) as unknown as OptimizerLike);
    expect(info).toMatchObject({ className: 'Adam', jsClass: 'AdamW', decaySettings: { weightDecay: 0, 'settings.weightDecayRate': 0.01 } });
  });

  it("tfjs's own optimizers say nothing: RMSProp's and Adamax's `decay` are not weight decay", () => {
    for (const opt of [tf.train.rmsprop(1e-3, 0.9), tf.train.adamax(1e-3, 0.9, 0.999, 1e-7, 0.01), tf.train.adam(1e-3), tf.train.sgd(0.1)]) {
      const info = optimizerInfo(opt as unknown as OptimizerLike);
      expect(info.jsClass, info.className).toBeUndefined();
      expect(info.decaySettings, info.className).toBeUndefined();
    }
  });
});
