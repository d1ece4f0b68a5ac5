"""A tf.function train step that builds the regularized total but differentiates the data loss (issue 23).

`total` adds `tf.add_n(model.losses)` to the data loss, and is what the loop logs; `tape.gradient` is called on
`loss`, the data loss alone, so the two L2 penalties never reach what the optimizer minimizes.

Loss Lens's verdict: `regularizer-not-in-loss`, naming the sum `total` that adds both penalties and is never
minimized ("Return `total` instead"), found by walking the traced FuncGraph back from `loss`; effective decay 0.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
import tensorflow as tf
from keras import layers, regularizers

keras.utils.set_random_seed(6)
x = tf.constant(np.random.rand(32, 6).astype('float32'))
y = tf.constant(np.random.rand(32, 1).astype('float32'))
model = keras.Sequential([
    keras.Input((6,)),
    layers.Dense(8, activation='relu', kernel_regularizer=regularizers.L2(1e-3)),
    layers.Dense(1, kernel_regularizer=regularizers.L2(1e-3)),
])
optimizer = keras.optimizers.SGD(learning_rate=0.05)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        total = loss + tf.add_n(model.losses)
    grads = tape.gradient(loss, model.trainable_variables)  # should be: tape.gradient(total, ...)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return total


for step in range(4):
    print(step, float(train_step(x, y)))
