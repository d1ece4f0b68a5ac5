"""Seed 001: "how to implement weight decay as in Caffe" — L2 through the loss under Adam vs decoupled decay.

Two copies of one small model: the first gets an L2 kernel_regularizer and trains with Adam (the penalty's
gradient is rescaled by Adam, so it is not the w ← w·(1 − λ) the user asked for); the second trains with AdamW,
whose `weight_decay` shrinks each kernel by lr·λ per step, as Caffe's decay does (biases excluded).

Loss Lens's verdict: `l2-with-adaptive-optimizer` on the first model's kernels (with their effective decay
measured step by step under Adam, uneven across weights); the second model's kernels show a decoupled decay of
lr·weight_decay per step, applied by AdamW, and no finding.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
import tensorflow as tf
from keras import layers, regularizers

keras.utils.set_random_seed(1)
x = np.random.rand(64, 10).astype('float32')
y = np.random.rand(64, 1).astype('float32')


def make_model(regularizer=None):
    return keras.Sequential([
        keras.Input((10,)),
        layers.Dense(32, activation='relu', kernel_regularizer=regularizer),
        layers.Dense(1, kernel_regularizer=regularizer),
    ])


def train(model, optimizer, steps=6):
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
            if model.losses:
                loss += tf.add_n(model.losses)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))


l2_model = make_model(regularizers.L2(5e-4))
train(l2_model, keras.optimizers.Adam(learning_rate=1e-3))

decoupled_model = make_model()
adamw = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=5e-4)
adamw.exclude_from_weight_decay(var_names=['bias'])
train(decoupled_model, adamw)
