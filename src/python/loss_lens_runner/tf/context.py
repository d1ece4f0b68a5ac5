"""What a `tape.gradient` call (or a TF1 compute_gradients) tells a step: its minimized loss and its penalties."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional

from .registry import PenaltyTag


@dataclass
class GradContext:
    target: Any
    graph: Any  # None when eager
    penalties: List[PenaltyTag]
    #: ∂target/∂penalty as the step's autodiff gave it; None where the penalty does not reach the target.
    scales: List[Any]
    grads: List[Any] = field(default_factory=list)
    site: Optional[dict] = None
    minimized: Optional[dict] = None
    in_fit: bool = False
    #: A penalty id → the sum (named site) that adds it with the data loss but is not minimized (graph walks only).
    summed_at: dict = field(default_factory=dict)
    #: The decoupled what-if: the term ids it took out of the gradients, and the L2 coefficient per weight id.
    removed: set = field(default_factory=set)
    decoupled_l2: dict = field(default_factory=dict)


def dedupe(ctx: GradContext) -> GradContext:
    """One penalty per term id: when a step computed it twice (model.losses read for a log line and for the loss),
    the copy that reaches the loss speaks for it."""
    best: dict = {}
    for tag, scale in zip(ctx.penalties, ctx.scales):
        prev = best.get(tag.term_id)
        if prev is None or (prev[1] is None and scale is not None):
            best[tag.term_id] = (tag, scale)
    ctx.penalties = [t for t, _ in best.values()]
    ctx.scales = [s for _, s in best.values()]
    return ctx
