"""Effective decay under Keras's own update rules, against the tests' re-implementation (reference_optimizers.py).

The loop runs in this process under the probes: before each update the test keeps the weights, the gradient Keras
applies and the data gradient (its own autodiff of the data loss alone at the same weights); the reference runs
twice, once on each, and s = −⟨Δ_full − Δ_data, w⟩/⟨w, w⟩ (+ lr·λ for a decoupled weight_decay) must be what the
probes measured at every step.
"""
import numpy as np
import pytest
import keras
import tensorflow as tf

from helpers import assert_valid
from loss_lens_runner import tf as probes
from loss_lens_runner.session import MemorySession
from reference_optimizers import reference

L2 = 1e-3
CASES = {
    'sgd': ('SGD', {'learning_rate': 0.1}),
    'momentum': ('SGD', {'learning_rate': 0.05, 'momentum': 0.9}),
    'nesterov': ('SGD', {'learning_rate': 0.05, 'momentum': 0.9, 'nesterov': True}),
    'adam': ('Adam', {'learning_rate': 1e-2}),
    'adamw': ('AdamW', {'learning_rate': 1e-2, 'weight_decay': 0.1}),
    'rmsprop': ('RMSprop', {'learning_rate': 1e-2}),
    'rmsprop-centered-momentum': ('RMSprop', {'learning_rate': 1e-2, 'centered': True, 'momentum': 0.5}),
    'adagrad': ('Adagrad', {'learning_rate': 0.1}),
}


def run_measured(name, cfg, steps=6):
    session = MemorySession(__file__, {'steps': 10_000})
    inst = probes.install(session)
    keras.utils.set_random_seed(11)
    x = tf.constant(np.random.rand(24, 5).astype('float32'))
    y = tf.constant(np.random.rand(24, 2).astype('float32'))
    reg = keras.regularizers.L2(L2)
    # Kernels of very different scale under one coefficient: adaptive optimizers decay them unevenly.
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation='tanh', kernel_regularizer=reg),
                              keras.layers.Dense(2, kernel_regularizer=reg, kernel_initializer=keras.initializers.RandomNormal(stddev=3.0))])
    opt = getattr(keras.optimizers, name)(**cfg)
    kept = []
    try:
        model(x)
        variables = model.trainable_variables
        for _ in range(steps):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(x) - y)) + tf.add_n(model.losses)
            grads = tape.gradient(loss, variables)
            with tf.GradientTape() as data_tape:
                data = tf.reduce_mean(tf.square(model(x) - y))
            data_grads = data_tape.gradient(data, variables)
            kept.append(([v.numpy().astype(np.float64) for v in variables], [g.numpy().astype(np.float64) for g in grads],
                         [g.numpy().astype(np.float64) for g in data_grads], int(opt.iterations.numpy())))
            opt.apply_gradients(zip(grads, variables))
    finally:
        inst.uninstall()
    return session, model, kept


def expected_decay(name, cfg, kept, kernels):
    full, data = reference(name, cfg), reference(name, cfg)
    out = []
    for ws, gs, ds, t in kept:
        step = {}
        for k in kernels:
            w, g, d = ws[k].ravel(), gs[k].ravel(), ds[k].ravel()
            df = np.array([full(k, i, g[i], t) for i in range(w.size)])
            dd = np.array([data(k, i, d[i], t) for i in range(w.size)])
            s = -float(np.dot(df - dd, w)) / float(np.dot(w, w))
            step[k] = s + cfg['learning_rate'] * cfg.get('weight_decay', 0.0)
        out.append(step)
    return out


@pytest.mark.parametrize('case', list(CASES))
def test_measured_effective_decay_matches_the_reference_update_at_every_step(case):
    name, cfg = CASES[case]
    session, model, kept = run_measured(name, cfg)
    assert_valid({'schemaChecked': session.schema_checked, 'invalid': session.invalid, 'events': session.events})
    variables = model.trainable_variables
    kernels = [i for i, v in enumerate(variables) if v.name == 'kernel']
    ids = [v.path for v in variables]
    records = [e['record'] for e in session.events if e['type'] == 'decay']
    assert len(records) == len(kept)
    for measured, want in zip(records, expected_decay(name, cfg, kept, kernels)):
        for k in kernels:
            assert measured['values'][ids[k]] == pytest.approx(want[k], rel=2e-3, abs=1e-9), (case, ids[k])
    if name == 'SGD' and not cfg.get('momentum'):
        # Exactly 2·lr·l2 (lr as Keras holds it: float32).
        assert all(r['values'][ids[k]] == pytest.approx(2 * cfg['learning_rate'] * L2, rel=1e-7) for r in records for k in kernels)
    steps = [e['record'] for e in session.events if e['type'] == 'step']
    assert [s['step'] for s in steps] == list(range(1, len(kept) + 1))
    for s, (ws, _, _, _) in zip(steps, kept):
        penalty = sum(L2 * float(np.sum(ws[k] ** 2)) for k in kernels)
        assert s['regularizationLoss'] == pytest.approx(penalty, rel=1e-5)


def test_uninstall_restores_keras_and_tensorflow():
    from keras.src.optimizers.base_optimizer import BaseOptimizer
    from tensorflow.python.eager import backprop

    before = (BaseOptimizer.apply, backprop.GradientTape.gradient)
    inst = probes.install(MemorySession(__file__, {'steps': 10}))
    assert BaseOptimizer.apply is not before[0]
    inst.uninstall()
    assert (BaseOptimizer.apply, backprop.GradientTape.gradient) == before
