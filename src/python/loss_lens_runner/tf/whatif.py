"""The decoupled what-if for Python (`--weight-decay decoupled`): L1/L2 penalties out of the minimized loss, and
w ← w − (lr·2·l2)·w after each optimizer update (AdamW's convention, as the tfjs runner does).

The penalties leave the loss through the gradients: at `tape.gradient`, the analytic gradient of each removable
penalty that reached the loss (a Keras L1/L2 regularizer's output, or a hand-written term whose every piece is L1 or
L2), scaled by ∂loss/∂penalty as the step's own autodiff gave it, is taken off its weight's gradient. That works the
same eagerly, inside a `tf.function` and in Keras's `train_step`, and whatever the script does with the penalty
(model.losses summed by hand or by Keras), without rewriting the script's loss. The terms still reach (the analysis
sees what the script wrote); the step record leaves them out of the total and the regularization, as tfjs's does.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .registry import PenaltyTag, penalty_pieces


def removable_pieces(tag: PenaltyTag) -> Optional[List[dict]]:
    """The tag's pieces when the what-if can take it out of the loss (every piece L1 or L2 with a coefficient)."""
    if tag.kind == 'weight-penalty':
        if not tag.regularizer or tag.regularizer.get('className') != 'L1L2':
            return None
        pieces = penalty_pieces(tag.weight, tag.regularizer) or []
    elif tag.kind == 'hand-written':
        pieces = list(tag.pieces or [])
    else:
        return None
    if not pieces or any(p['form'] not in ('l1', 'l2') or p['coefficient'] is None for p in pieces):
        return None
    return pieces


def take_out(tf: Any, registry: Any, flat: List[Any], grads: List[Any], tags: List[PenaltyTag],
             scales: List[Any]) -> Tuple[List[Any], List[str], Dict[str, float]]:
    """(grads without the removable penalties, their term ids, the L2 coefficient taken out per weight id)."""
    index = {}
    for k, v in enumerate(flat):
        try:
            index[registry.weight_of(v).id] = k
        except Exception:
            continue  # not a variable (a tensor watched by hand): no weight to take a penalty from
    grads = list(grads)
    removed: List[str] = []
    l2: Dict[str, float] = {}
    for tag, scale in zip(tags, scales):
        pieces = removable_pieces(tag) if scale is not None else None
        if not pieces or any(p['weight'] not in index or grads[index[p['weight']]] is None for p in pieces):
            continue
        removed.append(tag.term_id)
        for p in pieces:
            k = index[p['weight']]
            g = tf.convert_to_tensor(grads[k])  # IndexedSlices (an embedding's) become dense: the penalty is
            w = tf.cast(tf.convert_to_tensor(flat[k]), g.dtype)
            part = 2.0 * p['coefficient'] * w if p['form'] == 'l2' else p['coefficient'] * tf.sign(w)
            grads[k] = g - tf.cast(scale, g.dtype) * part
            if p['form'] == 'l2':
                l2[p['weight']] = l2.get(p['weight'], 0.0) + float(p['coefficient'])
    return grads, removed, l2


def decay(tf: Any, variables: List[Any], coefficients: List[float], lr: Any) -> List[Any]:
    """w ← w − (lr·2·l2)·w on each variable (w − k·w, not w·(1 − k): float32 cannot hold 1 − 1e-6 closely)."""
    ops = []
    for v, c in zip(variables, coefficients):
        k = tf.cast(lr, v.dtype) * (2.0 * c)
        ops.append(v.assign_sub(tf.convert_to_tensor(v) * k))
    return ops


def measure(plan: Any, w1: List[Any], w2: List[Any], record: dict, appliers: dict) -> None:
    """The what-if's shrink of each weight it decayed, measured on the weight it was applied to (the update's
    result): −⟨w₂ − w₁, w₁⟩/⟨w₁, w₁⟩, added to the weight's decay this step, applied by 'what-if'."""
    import numpy as np

    from .shadows import shrink

    decayed = [(m, a) for m, a in zip(plan.measured, w1) if m.whatif]
    for (m, after_update), after_decay in zip(decayed, w2):
        w = np.asarray(after_update, dtype=np.float64)
        s = shrink(np.asarray(after_decay, dtype=np.float64) - w, w)
        if s is None:
            continue  # a zero weight: nothing to shrink
        if record['values'].get(m.wid, 0.0) is not None:
            record['values'][m.wid] = record['values'].get(m.wid, 0.0) + s
        record['decoupled'][m.wid] = record['decoupled'].get(m.wid, 0.0) + s
        appliers[m.wid] = {'by': 'what-if', 'className': plan.opt_info['className'], 'source': None}
