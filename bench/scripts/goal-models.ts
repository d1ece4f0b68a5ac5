// The three models of bench/wasm-kernels.bench.mjs, trained with model.fit until Loss Lens stops the
// run (--steps): BENCH_MODEL=cnn | mobilenet | text. Synthetic data with fixed seeds, 8 batches of
// 64 repeated over epochs.
import * as tf from '@tensorflow/tfjs';

const L = tf.layers;
const which = process.env.BENCH_MODEL ?? 'cnn';
const BATCHES = 8;
const n = BATCHES * 64;

function oneHot(rows: number, classes: number) {
  return tf.oneHot(tf.randomUniform([rows], 0, classes, 'int32', 2), classes).toFloat();
}

let model: tf.Sequential;
let x: tf.Tensor;
let y: tf.Tensor;
if (which === 'cnn') {
  model = tf.sequential({
    layers: [
      L.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.flatten(),
      L.dense({ units: 384, activation: 'relu' }),
      L.dense({ units: 192, activation: 'relu' }),
      L.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  x = tf.randomUniform([n, 32, 32, 3], 0, 1, 'float32', 1);
  y = oneHot(n, 10);
} else if (which === 'mobilenet') {
  const layers: tf.layers.Layer[] = [
    L.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
    L.batchNormalization(),
    L.reLU({ maxValue: 6 }),
  ];
  for (const [filters, strides] of [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1]]) {
    layers.push(L.depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', useBias: false }), L.batchNormalization(), L.reLU({ maxValue: 6 }));
    layers.push(L.conv2d({ filters, kernelSize: 1, useBias: false }), L.batchNormalization(), L.reLU({ maxValue: 6 }));
  }
  layers.push(L.globalAveragePooling2d({}), L.dense({ units: 10, activation: 'softmax' }));
  model = tf.sequential({ layers });
  x = tf.randomUniform([n, 32, 32, 3], 0, 1, 'float32', 1);
  y = oneHot(n, 10);
} else {
  model = tf.sequential({
    layers: [
      L.embedding({ inputShape: [100], inputDim: 20000, outputDim: 64 }),
      L.globalAveragePooling1d(),
      L.dense({ units: 64, activation: 'relu' }),
      L.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  x = tf.randomUniform([n, 100], 0, 20000, 'int32', 1);
  y = oneHot(n, 2);
}
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
await model.fit(x, y, { epochs: 100_000, batchSize: 64, shuffle: false, verbose: 0 });
