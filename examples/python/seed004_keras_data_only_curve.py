"""Seed 004: "has the weight decay loss been included in model.fit's loss, and how do I see the loss without it?"

A small Keras CNN with an L2 kernel_regularizer on its conv layer, trained by model.fit. Keras adds
`sum(model.losses)` to the loss fit minimizes, so the printed loss includes the decay part.

Loss Lens's verdict: the L2 penalty reaches the minimized loss at every step (no finding about its reach); the
report splits each step's loss into total, data (`loss` − the penalty: the "loss_no_weight_decay" the user asked
for) and regularization, and measures the kernel's effective decay under Adam: `l2-with-adaptive-optimizer`.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
from keras import layers
from keras.regularizers import l2

keras.utils.set_random_seed(4)
x = np.random.rand(32, 16, 16, 3).astype('float32')
y = np.random.rand(32, 1).astype('float32')

input_tensor = keras.Input(shape=(16, 16, 3))
hidden = layers.Conv2D(8, 1, kernel_regularizer=l2(0.01))(input_tensor)
hidden = layers.GlobalAveragePooling2D()(hidden)
out = layers.Dense(1)(hidden)
model = keras.Model(input_tensor, out)
model.compile(loss='mse', optimizer='adam')
model.fit(x, y, batch_size=8, epochs=2, verbose=0)
