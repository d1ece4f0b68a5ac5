"""A custom training step inside `tf.function` that adds `model.losses` correctly, under RMSprop.

Loss Lens's verdict: both L2 penalties reach the minimized loss at every step (found by walking the traced
FuncGraph from `loss` back to each regularizer's output); `l2-with-adaptive-optimizer` on the two kernels (RMSprop
rescales the penalty's gradient too), with their effective decay measured under RMSprop.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
import tensorflow as tf
from keras import layers, regularizers

keras.utils.set_random_seed(5)
x = tf.constant(np.random.rand(32, 6).astype('float32'))
y = tf.constant(np.random.rand(32, 1).astype('float32'))

model = keras.Sequential([
    keras.Input((6,)),
    layers.Dense(8, activation='tanh', kernel_regularizer=regularizers.L2(1e-3)),
    layers.Dense(1, kernel_regularizer=regularizers.L2(1e-3)),
])
optimizer = keras.optimizers.RMSprop(learning_rate=1e-3)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        data_loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        loss = data_loss + tf.add_n(model.losses)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


for step in range(5):
    loss = train_step(x, y)
print('final loss', float(loss))
