// L2 under Adam is not weight decay, and here is by how much. Three dense layers with the same
// kernelRegularizer (L2 1e-3) trained with Adam through model.fit: Loss Lens measures how much the
// penalty really shrinks each kernel per step, against what plain SGD with that L2 would (2·lr·l2),
// and "Loss Lens: Compare with Decoupled Weight Decay" runs the AdamW-style alternative beside it.
// Seeded (initializers and data, no shuffling), so both runs start from the same weights.
import * as tf from '@tensorflow/tfjs';

const FEATURES = 24;
const CLASSES = 4;
const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
const decay = () => tf.regularizers.l2({ l2: 1e-3 });

const model = tf.sequential();
model.add(tf.layers.dense({ inputShape: [FEATURES], units: 48, activation: 'relu', kernelInitializer: seeded(1), kernelRegularizer: decay() }));
model.add(tf.layers.dense({ units: 48, activation: 'relu', kernelInitializer: seeded(2), kernelRegularizer: decay() }));
model.add(tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: seeded(3), kernelRegularizer: decay() }));
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });

const x = tf.randomNormal([512, FEATURES], 0, 1, 'float32', 11);
const teacher = tf.randomNormal([FEATURES, CLASSES], 0, 1, 'float32', 12);
const y = tf.oneHot(tf.argMax(tf.matMul(x, teacher), 1), CLASSES).toFloat();

await model.fit(x, y, {
  epochs: 4,
  batchSize: 32,
  shuffle: false,
  callbacks: { onEpochEnd: (epoch, logs) => console.log(`epoch ${epoch} loss ${logs?.loss.toFixed(4)}`) },
});
