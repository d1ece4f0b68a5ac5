"""Effective decay per penalized weight, per optimizer step, measured against float64 shadows of the update.

For each optimizer instance two shadows run on the measured weights: one fed the gradient Keras applied, one fed
the data gradient alone (that gradient minus the analytic gradient of the penalties that reached the minimized
loss, scaled by ∂loss/∂penalty as the step's own autodiff gave it). The step's decay through the loss is
s = −⟨Δ_full − Δ_data, w⟩/⟨w, w⟩; Keras's decoupled `weight_decay` is what the real update removed beyond the full
shadow, −⟨Δ_applied − Δ_full, w⟩/⟨w, w⟩. The first steps check the full shadow against the real update: a weight
whose update does not follow Keras's formula gets no number, with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from .shadows import make_shadow, shrink

CHECKED_STEPS = 3
TOLERANCE = 1e-2


@dataclass
class Measured:
    """One weight to measure this step: its pieces [(form, coefficient, penalty index)] that may reach the loss."""
    wid: str
    pieces: List[Tuple[str, Optional[float], int]]
    decoupled: bool
    #: The decoupled what-if's L2 coefficient on this weight (0: the what-if does not decay it).
    whatif: float = 0.0


def penalty_gradient(w: np.ndarray, form: str, c: float) -> Optional[np.ndarray]:
    if form == 'l2':
        return 2.0 * c * w
    if form == 'l1':
        return c * np.sign(w)
    if form == 'norm':
        n = float(np.sqrt(np.vdot(w, w)))
        return c * w / n if n else np.zeros_like(w)
    return None


@dataclass
class OptimizerMeter:
    class_name: str
    config: dict
    unsupported: Optional[str]
    full: object = None
    data: object = None
    checked: Dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.full = make_shadow(self.class_name, self.config)
        self.data = make_shadow(self.class_name, self.config)
        if self.full is None and self.unsupported is None:
            self.unsupported = f"Loss Lens has no model of {self.class_name}'s update"


class DecayMeter:
    def __init__(self) -> None:
        self.meters: Dict[int, OptimizerMeter] = {}
        self.unavailable: Dict[str, str] = {}
        self._said: set = set()

    def meter(self, index: int, class_name: str, config: dict, unsupported: Optional[str]) -> OptimizerMeter:
        m = self.meters.get(index)
        if m is None:
            m = self.meters[index] = OptimizerMeter(class_name, config, unsupported)
        return m

    def measure(self, meter: OptimizerMeter, measured: List[Measured], before: List[np.ndarray], after: List[np.ndarray],
                grads: List[np.ndarray], scales: List[Optional[float]], lr: float, iteration: int) -> dict:
        """One step's decay record fields: values, decoupled, unavailable (new reasons only)."""
        values: Dict[str, Optional[float]] = {}
        decoupled: Dict[str, float] = {}
        for m, w0, w1, g in zip(measured, before, after, grads):
            reason = self.unavailable.get(m.wid) or meter.unsupported
            if reason is None:
                reason = self._step(meter, m, w0, w1, g, scales, lr, iteration, values, decoupled)
            if reason is not None:
                self.unavailable.setdefault(m.wid, reason)
                values[m.wid] = None
        fresh = {k: v for k, v in self.unavailable.items() if k not in self._said}
        self._said.update(fresh)
        return {'values': values, 'decoupled': decoupled, 'unavailable': fresh}

    def _step(self, meter, m: Measured, w0, w1, g, scales, lr, iteration, values, decoupled) -> Optional[str]:
        w = w0.astype(np.float64)
        g = g.astype(np.float64)
        pen = np.zeros_like(w)
        for form, coefficient, k in m.pieces:
            scale = scales[k]
            if scale is None or scale == 0:
                continue  # this penalty did not reach the minimized loss this step
            if coefficient is None or penalty_gradient(w, form, coefficient) is None:
                return 'its penalty has a form whose gradient Loss Lens does not know'
            pen += scale * penalty_gradient(w, form, coefficient)
        d_full = meter.full.update(m.wid, w, g, lr, iteration)
        d_data = meter.data.update(m.wid, w, g - pen, lr, iteration)
        applied = w1.astype(np.float64) - w
        if not float(np.vdot(w, w)):
            values[m.wid] = None  # a zero weight (a bias at its first step): no fraction of it to measure
            return None
        dec = shrink(applied - d_full, w) if m.decoupled else 0.0
        n = meter.checked.get(m.wid, 0)
        if n < CHECKED_STEPS:
            meter.checked[m.wid] = n + 1
            residual = applied - d_full + dec * w
            scale = max(float(np.linalg.norm(applied)), 1e-12)
            if float(np.linalg.norm(residual)) > TOLERANCE * scale + 1e-6 * float(np.linalg.norm(w)):
                return f"its updates do not follow Keras's {meter.class_name} formula"
        s = shrink(d_full - d_data, w)
        values[m.wid] = s + dec
        if m.decoupled:
            decoupled[m.wid] = dec
        return None
