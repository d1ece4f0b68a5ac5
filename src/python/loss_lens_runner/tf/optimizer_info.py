"""The protocol's optimizer description for a Keras 3 optimizer, and why its decay may not be measurable."""
from __future__ import annotations

import math
from typing import Any, Optional

_KERAS_CLASSES = ('SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'Nadam', 'Ftrl', 'Lion',
                  'Lamb', 'Adafactor', 'LossScaleOptimizer', 'Muon')


def _plain(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v) if isinstance(v, float) or not math.isfinite(float(v)) else v
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return _plain(v.item())
    except Exception:
        pass
    return None


def class_names(opt: Any) -> tuple:
    """(Keras class the optimizer is, the user's subclass name when it is one)."""
    for cls in type(opt).__mro__:
        if cls.__name__ in _KERAS_CLASSES and cls.__module__.startswith('keras'):
            return cls.__name__, (None if cls is type(opt) else type(opt).__name__)
    return type(opt).__name__, None


def optimizer_info(opt: Any, lr: Optional[float] = None) -> dict:
    name, own = class_names(opt)
    try:
        import tensorflow as tf

        with tf.init_scope():  # inside a tf.function's trace the config reads variables: read them eagerly
            raw = opt.get_config()
    except Exception:
        raw = {}
    config = {k: _plain(v) for k, v in raw.items() if _plain(v) is not None or v is None}
    if lr is None and isinstance(config.get('learning_rate'), (int, float)):
        lr = float(config['learning_rate'])
    if lr is not None:
        config['learningRate'] = lr  # the key the analysis reads (tfjs's getConfig spelling)
    info: dict = {'className': name, 'config': config}
    if own:
        info['jsClass'] = own
    wd = getattr(opt, 'weight_decay', None)
    if wd is not None:
        info['decaySettings'] = {'weight_decay': _plain(wd)}
    return info


def unsupported_reason(opt: Any) -> Optional[str]:
    """Settings under which the update is no longer the formula the shadows follow."""
    for key in ('clipnorm', 'clipvalue', 'global_clipnorm'):
        if getattr(opt, key, None):
            return f'the optimizer clips gradients ({key}), which Loss Lens does not model'
    if getattr(opt, 'use_ema', False):
        return 'the optimizer keeps an EMA of the weights (use_ema), which Loss Lens does not model'
    if getattr(opt, 'gradient_accumulation_steps', None):
        return 'the optimizer accumulates gradients, which Loss Lens does not model'
    if getattr(opt, 'loss_scale_factor', None):
        return 'the optimizer scales the loss (loss_scale_factor), which Loss Lens does not model'
    return None
