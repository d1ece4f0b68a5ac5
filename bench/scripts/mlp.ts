// Benchmark workload: a fast-stepping MLP trained with model.fit, where probe overhead shows most.
import * as tf from '@tensorflow/tfjs';

const STEPS = Number(process.env.BENCH_STEPS ?? 150);
const WARMUP = 5;
const model = tf.sequential();
model.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelRegularizer: tf.regularizers.l2({ l2: 1e-4 }) }));
model.add(tf.layers.dense({ units: 256, activation: 'relu', kernelRegularizer: tf.regularizers.l2({ l2: 1e-4 }) }));
model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
// A fixed set of batches, repeated over epochs, so long runs do not hold STEPS batches in memory.
const BATCHES = Math.min(STEPS + WARMUP, 20);
const x = tf.randomNormal([BATCHES * 64, 784], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([BATCHES * 64], 0, 10, 'int32', 2), 10).toFloat();
const times: number[] = [];
await model.fit(x, y, {
  epochs: Math.ceil((STEPS + WARMUP) / BATCHES),
  batchSize: 64,
  shuffle: false,
  verbose: 0,
  callbacks: { onBatchEnd: () => void times.push(performance.now()) },
});
const measured = times.slice(WARMUP, WARMUP + STEPS + 1);
console.log(`BENCH_STEPS_PER_S ${((measured.length - 1) / ((measured.at(-1)! - measured[0]) / 1000)).toFixed(4)}`);
