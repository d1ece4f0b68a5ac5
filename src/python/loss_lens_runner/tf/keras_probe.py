"""Keras 3 (and tf.keras, the same Keras in TF 2.20): layers, their regularizers' outputs, add_loss, optimizers, fit."""
from __future__ import annotations

import math
import sys
from typing import Any

from .patching import Patches, reentry, safely
from .registry import PenaltyTag, regularizer_info
from .tape_probe import active_tapes


def install(patches: Patches, tf: Any, registry: Any, tracker: Any, session: Any) -> None:
    from keras.src.layers.layer import Layer
    from keras.src.optimizers.base_optimizer import BaseOptimizer
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    # Layer.__new__, not __init__: Keras reads each layer class's __init__ signature to record its arguments.
    def new(orig):
        def __new__(cls, *args, **kwargs):
            obj = orig(cls, *args, **kwargs)
            safely(session, 'find where a layer was created', registry.note_layer_created, obj)
            return obj
        return __new__

    def add_weight(orig):
        def add_weight(self, *args, **kwargs):
            variable = orig(self, *args, **kwargs)
            safely(session, 'record a weight', registry.add_layer_weight, self, variable, getattr(variable, 'regularizer', None))
            return variable
        return add_weight

    def regularization_losses(orig):
        def _get_regularization_losses(self):
            out = orig(self)
            safely(session, "tag a layer's penalties", _tag_weights, self, out)
            return out
        return _get_regularization_losses

    def _tag_weights(layer, out):
        tapes = active_tapes()
        regularized = [v for v in layer.trainable_weights if getattr(v, 'regularizer', None) is not None]
        for v, t in zip(regularized, out):
            w = registry.weight_of(v)
            tag = PenaltyTag(t, f'penalty:{w.id}', 'weight-penalty', w.layer, w.id, w.regularizer or regularizer_info(v.regularizer))
            tag.tapes = tapes
            registry.tag(tag)

    def add_loss(orig):
        def add_loss(self, loss):
            safely(session, 'tag an added loss', _tag_added, self, loss, sys._getframe(1))
            return orig(self, loss)
        return add_loss

    def _tag_added(layer, loss, caller):
        if not tf.is_tensor(loss):
            return
        activity = caller.f_code.co_name == '__call__' and getattr(layer, 'activity_regularizer', None) is not None
        rec = registry.layer_record(layer)
        if activity:
            rec.activity = regularizer_info(layer.activity_regularizer)
            registry.layers_version += 1
            tag = PenaltyTag(loss, f'activity:{rec.name}', 'activity-penalty', rec.name, None, rec.activity)
        else:
            tag = PenaltyTag(loss, f'hand:{rec.name}/add_loss', 'hand-written', rec.name, None,
                             {'className': 'HandWritten', 'l1': 0.0, 'l2': 0.0}, [], registry.frames.position(3))
            tag.source = None if tag.source is None else {**tag.source, 'name': None}
        tag.tapes = active_tapes()
        registry.tag(tag)

    def apply(orig):
        def apply(self, grads, trainable_variables=None):
            with reentry('optimizer-apply') as outer:
                if not outer:
                    return orig(self, grads, trainable_variables)
                grads = list(grads)
                variables = list(trainable_variables) if trainable_variables is not None else list(getattr(self, '_trainable_variables', []))
                ctx = tracker.context_for(grads)
                pairs = [(v, g) for v, g in zip(variables, grads) if g is not None]
                if ctx is None or not pairs:
                    return orig(self, grads, trainable_variables)
                run = lambda: orig(self, grads, trainable_variables)  # noqa: E731
                planned = safely(session, 'plan a step', tracker.plan, self, ctx, pairs)
                if planned is None:
                    return run()
                return tracker.step(self, planned, pairs, run, ctx.target)
        return apply

    def fit(orig):
        def fit(self, x=None, y=None, batch_size=None, epochs=1, *args, **kwargs):
            safely(session, 'read the training plan', _plan, self, x, batch_size, epochs, kwargs)
            if getattr(self, 'jit_compile', False):
                # XLA cannot run the probes' py_functions: the step runs as compiled TensorFlow instead.
                self.jit_compile = False
                self.train_function = None  # made again, without XLA, if an earlier fit made it
                session.notice('info', 'Loss Lens runs model.fit without XLA (jit_compile=False): its probes read values through py_function.')
            tracker.fit_depth += 1
            try:
                return orig(self, x, y, batch_size, epochs, *args, **kwargs)
            finally:
                tracker.fit_depth -= 1
                tracker.flush()
        return fit

    def _plan(model, x, batch_size, epochs, kwargs):
        steps = kwargs.get('steps_per_epoch')
        if steps is None:
            n = None
            if hasattr(x, 'cardinality'):
                c = int(x.cardinality())
                n, batch_size = (c, 1) if c >= 0 else (None, batch_size)
            elif hasattr(x, 'shape') or isinstance(x, (list, tuple)):
                first = x[0] if isinstance(x, (list, tuple)) and x and hasattr(x[0], 'shape') else x
                n = int(first.shape[0]) if hasattr(first, 'shape') else len(first)
                n = n - int(n * float(kwargs.get('validation_split') or 0.0))
            steps = None if n is None else math.ceil(n / (batch_size or 32))
        weights = [registry.weight_of(v).id for v in model.trainable_weights] if model.built else []
        tracker.plans_waiting.append({'method': 'fit', 'epochs': int(epochs) - int(kwargs.get('initial_epoch') or 0),
                                      'stepsPerEpoch': steps, 'weights': weights, 'source': registry.frames.position(4)})

    patches.wrap(Layer, '__new__', new)
    patches.wrap(Layer, 'add_weight', add_weight)
    patches.wrap(Layer, '_get_regularization_losses', regularization_losses)
    patches.wrap(Layer, 'add_loss', add_loss)
    patches.wrap(BaseOptimizer, 'apply', apply)
    patches.wrap(TensorFlowTrainer, 'fit', fit)
