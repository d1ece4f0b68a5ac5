// A small CNN trained with model.fit, which does add every layer's penalty to the loss.
// What Loss Lens points out here is subtler: L2 on the kernels with Adam is not weight
// decay (Loshchilov & Hutter), the batch-norm gamma is decayed too, and the last dense
// kernel has no decay while the others do.
import * as tf from '@tensorflow/tfjs';

const IMAGE = 16;
const CLASSES = 10;
const l2 = (l2: number) => tf.regularizers.l2({ l2 });

function convBlock(filters: number, first = false) {
  return [
    tf.layers.conv2d({
      ...(first ? { inputShape: [IMAGE, IMAGE, 3] } : {}),
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelRegularizer: l2(5e-4),
    }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
  ];
}

const model = tf.sequential();
for (const layer of [...convBlock(16, true), ...convBlock(32)]) model.add(layer);
model.add(tf.layers.batchNormalization({ gammaRegularizer: l2(5e-4) }));
model.add(tf.layers.flatten());
model.add(tf.layers.dense({ units: 64, activation: 'relu', kernelRegularizer: l2(5e-4) }));
model.add(tf.layers.dense({ units: CLASSES, activation: 'softmax' }));

model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const xs = tf.randomUniform([256, IMAGE, IMAGE, 3], 0, 1, 'float32', 7);
const ys = tf.oneHot(tf.randomUniform([256], 0, CLASSES, 'int32', 8), CLASSES).toFloat();

await model.fit(xs, ys, {
  epochs: 5,
  batchSize: 32,
  callbacks: { onEpochEnd: (epoch, logs) => console.log(`epoch ${epoch} loss ${logs?.loss.toFixed(4)}`) },
});
