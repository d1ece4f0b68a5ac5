// Benchmark workload: a small CNN (the kind in examples/) trained with model.fit.
import * as tf from '@tensorflow/tfjs';

const STEPS = Number(process.env.BENCH_STEPS ?? 150);
const WARMUP = 5;
const model = tf.sequential();
model.add(tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelRegularizer: tf.regularizers.l2({ l2: 5e-4 }) }));
model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelRegularizer: tf.regularizers.l2({ l2: 5e-4 }) }));
model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
model.add(tf.layers.flatten());
model.add(tf.layers.dense({ units: 64, activation: 'relu', kernelRegularizer: tf.regularizers.l2({ l2: 5e-4 }) }));
model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
// BENCH_OPTIMIZER=adam: the same CNN under Adam (the effective-decay bench runs both; its shadows differ per optimizer).
model.compile({ optimizer: process.env.BENCH_OPTIMIZER === 'adam' ? tf.train.adam(1e-3) : tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
// A fixed set of batches, repeated over epochs, so long runs do not hold STEPS batches in memory.
const BATCHES = Math.min(STEPS + WARMUP, 20);
const x = tf.randomUniform([BATCHES * 32, 16, 16, 3], 0, 1, 'float32', 7);
const y = tf.oneHot(tf.randomUniform([BATCHES * 32], 0, 10, 'int32', 8), 10).toFloat();
const times: number[] = [];
await model.fit(x, y, {
  epochs: Math.ceil((STEPS + WARMUP) / BATCHES),
  batchSize: 32,
  shuffle: false,
  verbose: 0,
  callbacks: { onBatchEnd: () => void times.push(performance.now()) },
});
const measured = times.slice(WARMUP, WARMUP + STEPS + 1);
console.log(`BENCH_STEPS_PER_S ${((measured.length - 1) / ((measured.at(-1)! - measured[0]) / 1000)).toFixed(4)}`);
