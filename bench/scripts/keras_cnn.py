"""The Python overhead bench's workload: a small Keras CNN (16×16×3, conv16, conv32, dense64, L2 on the conv
kernels), batch 32, model.fit. Prints one `BENCH {...}` line: the median step time after warm-up, from
on_train_batch_end timestamps, so the process start and TensorFlow's import are left out of it."""
import json
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
from keras import layers, regularizers

WARMUP, STEPS = 10, 80
keras.utils.set_random_seed(0)
x = np.random.rand(32 * (WARMUP + STEPS), 16, 16, 3).astype('float32')
y = np.random.randint(0, 10, size=(len(x),))
model = keras.Sequential([
    keras.Input((16, 16, 3)),
    layers.Conv2D(16, 3, activation='relu', kernel_regularizer=regularizers.L2(1e-4)),
    layers.Conv2D(32, 3, activation='relu', kernel_regularizer=regularizers.L2(1e-4)),
    layers.Flatten(),
    layers.Dense(64, activation='relu'),
    layers.Dense(10),
])
model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


class Clock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.stamps = []

    def on_train_batch_end(self, batch, logs=None):
        self.stamps.append(time.perf_counter())


clock = Clock()
model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[clock])
steps = np.diff(clock.stamps[WARMUP:]) * 1000
print('BENCH ' + json.dumps({'medianStepMs': float(np.median(steps)), 'steps': len(steps)}), file=sys.stderr, flush=True)
