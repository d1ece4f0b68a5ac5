// The same loop done right: the loss handed to optimizer.minimize() is the data loss
// plus every layer's penalty (model.calculateLosses()), so the L2 terms really decay the
// weights. With plain SGD each step multiplies a decayed kernel by (1 - 2·lr·l2).
import * as tf from '@tensorflow/tfjs';

const NUM_CLASSES = 4;
const FEATURES = 32;

function makeData(n: number) {
  return tf.tidy(() => {
    const x = tf.randomNormal([n, FEATURES], 0, 1, 'float32', 1);
    const w = tf.randomNormal([FEATURES, NUM_CLASSES], 0, 1, 'float32', 2);
    const labels = tf.argMax(tf.matMul(x, w), 1);
    return { x, y: tf.oneHot(labels, NUM_CLASSES).toFloat() };
  });
}

const model = tf.sequential();
const decay = () => tf.regularizers.l2({ l2: 1e-3 });
model.add(tf.layers.dense({
  inputShape: [FEATURES], units: 64, activation: 'relu', kernelRegularizer: decay(),
}));
model.add(tf.layers.dense({
  units: 64, activation: 'relu', kernelRegularizer: decay(),
}));
model.add(tf.layers.dense({
  units: NUM_CLASSES, kernelRegularizer: decay(),
}));

const optimizer = tf.train.sgd(0.1);
const { x, y } = makeData(512);

for (let epoch = 0; epoch < 50; epoch++) {
  const loss = optimizer.minimize(() => {
    const logits = model.apply(x) as tf.Tensor;
    const dataLoss = tf.losses.softmaxCrossEntropy(y, logits);
    return tf.add(dataLoss, tf.addN(model.calculateLosses())) as tf.Scalar;
  }, true);
  console.log(`epoch ${epoch} loss ${loss?.dataSync()[0].toFixed(4)}`);
  loss?.dispose();
}
