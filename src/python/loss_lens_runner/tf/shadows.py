"""Float64 shadows of Keras 3's optimizer updates, run on the penalized weights to measure their effective decay.

Each shadow keeps its own slots per weight, as Keras does, and returns the step's Δ (without Keras's decoupled
`weight_decay`, which the measurement takes as what the real update did beyond the shadow's Δ). Keras's formulas
(keras/src/optimizers/*.py, 3.12), written here in numpy from their documented update rules.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

import numpy as np

#: Keras class names with a shadow here.
SHADOWED = ('SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad')


def _num(config: dict, key: str, default: float) -> float:
    v = config.get(key, default)
    return default if v is None else float(v)


class Shadow:
    """update(key, w, g, lr, t) → Δw for one weight; `t` is the optimizer's own iteration count before the step."""

    def __init__(self, class_name: str, config: dict):
        self.class_name = class_name
        self.config = config
        self.slots: Dict[str, Dict[str, np.ndarray]] = {}
        self._update = self._pick(class_name)

    def _slot(self, key: str, name: str, like: np.ndarray, init: float = 0.0) -> np.ndarray:
        per = self.slots.setdefault(key, {})
        if name not in per:
            per[name] = np.full(like.shape, init, dtype=np.float64)
        return per[name]

    def update(self, key: str, w: np.ndarray, g: np.ndarray, lr: float, t: int) -> np.ndarray:
        return self._update(key, w, g, lr, t)

    def _pick(self, name: str) -> Callable:
        c = self.config
        if name == 'SGD':
            mom, nesterov = _num(c, 'momentum', 0.0), bool(c.get('nesterov', False))

            def sgd(key, w, g, lr, t):
                if mom == 0:
                    return -lr * g
                m = self._slot(key, 'm', g)
                m[...] = m * mom - lr * g
                return (m * mom - lr * g) if nesterov else m.copy()

            return sgd
        if name in ('Adam', 'AdamW'):
            b1, b2, eps = _num(c, 'beta_1', 0.9), _num(c, 'beta_2', 0.999), _num(c, 'epsilon', 1e-7)
            amsgrad = bool(c.get('amsgrad', False))

            def adam(key, w, g, lr, t):
                step = t + 1
                alpha = lr * np.sqrt(1 - b2**step) / (1 - b1**step)
                m, v = self._slot(key, 'm', g), self._slot(key, 'v', g)
                m += (g - m) * (1 - b1)
                v += (g * g - v) * (1 - b2)
                if amsgrad:
                    vh = self._slot(key, 'vhat', g)
                    np.maximum(vh, v, out=vh)
                    return -(m * alpha) / (np.sqrt(vh) + eps)
                return -(m * alpha) / (np.sqrt(v) + eps)

            return adam
        if name == 'RMSprop':
            rho, mom, eps = _num(c, 'rho', 0.9), _num(c, 'momentum', 0.0), _num(c, 'epsilon', 1e-7)
            centered = bool(c.get('centered', False))

            def rmsprop(key, w, g, lr, t):
                v = self._slot(key, 'v', g)
                v[...] = rho * v + (1 - rho) * g * g
                if centered:
                    a = self._slot(key, 'avg', g)
                    a[...] = rho * a + (1 - rho) * g
                    denom = v - a * a + eps
                else:
                    denom = v + eps
                inc = lr * g / np.sqrt(denom)
                if mom > 0:
                    m = self._slot(key, 'm', g)
                    m[...] = mom * m + inc
                    return -m.copy()
                return -inc

            return rmsprop
        if name == 'Adagrad':
            init, eps = _num(c, 'initial_accumulator_value', 0.1), _num(c, 'epsilon', 1e-7)

            def adagrad(key, w, g, lr, t):
                acc = self._slot(key, 'acc', g, init)
                acc += g * g
                return -lr * g / np.sqrt(acc + eps)

            return adagrad
        raise KeyError(name)


def make_shadow(class_name: str, config: dict) -> Optional[Shadow]:
    return Shadow(class_name, config) if class_name in SHADOWED else None


def shrink(delta: np.ndarray, w: np.ndarray) -> Optional[float]:
    """s = −⟨Δ, w⟩/⟨w, w⟩: the fraction of w that Δ removes along w; None for a zero weight (nothing to shrink)."""
    ww = float(np.vdot(w, w))
    return None if ww == 0 else -float(np.vdot(delta, w)) / ww
