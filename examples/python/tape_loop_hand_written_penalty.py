"""An eager GradientTape loop whose loss has weight decay written by hand (issue 23).

The penalty is not a Keras regularizer: `wd * tf.add_n([tf.nn.l2_loss(w) ...])` over every trainable weight, plus an
L1 term on the first kernel, added to the data loss that `tape.gradient` differentiates. No `tf.function`: the step
runs eagerly, so there is no graph to walk; Loss Lens notes the ops of the first step while the tape records.

Loss Lens's verdict: two `hand-written` terms that reach the minimized loss, with their lines (`decay`, `sparse`):
`wd·l2_loss(w)` is L2 wd/2 = 2.5e-3 on each of the four weights (Σw² convention), `1e-4·Σ|w|` is L1 1e-4 on the first
kernel. The loss splits into data and regularization; the measured decay per SGD step is lr·wd = 5e-4 on each weight
(a little more on the first kernel, from the L1). One finding, `decay-on-bias-or-norm`: the comprehension over
`model.trainable_weights` decays the two biases too (`if 'kernel' in w.name` would leave them out).
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
import tensorflow as tf
from keras import layers

keras.utils.set_random_seed(5)
x = tf.constant(np.random.rand(32, 6).astype('float32'))
y = tf.constant(np.random.rand(32, 1).astype('float32'))
model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation='tanh'), layers.Dense(1)])
optimizer = keras.optimizers.SGD(learning_rate=0.1)
wd = 5e-3

for step in range(4):
    with tf.GradientTape() as tape:
        ce = tf.reduce_mean(tf.square(model(x, training=True) - y))
        decay = wd * tf.add_n([tf.nn.l2_loss(w) for w in model.trainable_weights])
        sparse = 1e-4 * tf.reduce_sum(tf.abs(model.layers[0].kernel))
        loss = ce + decay + sparse
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
    print(step, float(loss))
