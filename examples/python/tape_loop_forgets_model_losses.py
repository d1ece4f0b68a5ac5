"""A custom GradientTape loop that never adds model.losses (issue 23).

Both Dense layers carry an L2 kernel_regularizer, but the loop differentiates the data loss alone: Keras computes
the penalties only when something reads `model.losses`, and nothing here does.

Loss Lens's verdict: `regularizer-not-in-loss` on both kernels (the penalties are never even evaluated: they decay
nothing); the loss curve is the data loss alone.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
import tensorflow as tf
from keras import layers, regularizers

keras.utils.set_random_seed(0)
x = np.random.rand(64, 8).astype('float32')
y = (x.sum(axis=1, keepdims=True) > 4).astype('float32')

model = keras.Sequential([
    keras.Input((8,)),
    layers.Dense(16, activation='relu', kernel_regularizer=regularizers.L2(1e-3)),
    layers.Dense(1, kernel_regularizer=regularizers.L2(1e-3)),
])
optimizer = keras.optimizers.SGD(learning_rate=0.1)
bce = keras.losses.BinaryCrossentropy(from_logits=True)

for step in range(5):
    with tf.GradientTape() as tape:
        loss = bce(y, model(x, training=True))  # should be: bce(...) + tf.add_n(model.losses)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
print('final loss', float(loss))
