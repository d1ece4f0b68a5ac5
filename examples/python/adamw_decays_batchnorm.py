"""AdamW decaying batch-norm scales and biases because nothing is excluded (issue 23).

Keras 3's AdamW applies its decoupled `weight_decay` to every trainable variable unless
`optimizer.exclude_from_weight_decay(...)` names it: here the BatchNormalization gamma/beta and the biases too.

Loss Lens's verdict: `decay-on-bias-or-norm` on the batch-norm gamma and beta and on each bias (the measured
decoupled shrink lr·weight_decay per step, applied by AdamW); the kernels' decay is measured as `decoupled`.
Fix: `optimizer.exclude_from_weight_decay(var_names=['gamma', 'beta', 'bias'])` before training.
"""
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
from keras import layers

keras.utils.set_random_seed(7)
x = np.random.rand(64, 12).astype('float32')
y = np.random.randint(0, 3, size=(64,))

model = keras.Sequential([
    keras.Input((12,)),
    layers.Dense(16),
    layers.BatchNormalization(),
    layers.Activation('relu'),
    layers.Dense(3),
])
optimizer = keras.optimizers.AdamW(learning_rate=1e-2, weight_decay=0.05)
model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x, y, batch_size=16, epochs=1, verbose=0)
