"""`tf.GradientTape`: which tape was recording when a penalty was made, and what its `gradient` call minimized.

At `tape.gradient(loss, sources)` the penalties the tape recorded are added to the sources of the same backward
pass: a penalty the loss does not depend on gets no gradient (None), one it reaches gets ∂loss/∂penalty. The same
call works eagerly (through the tape) and inside a `tf.function` (through the FuncGraph), and costs one pass.
"""
from __future__ import annotations

import re
import threading
from typing import Any, List

from .context import GradContext, dedupe
from .patching import Patches, reentry, safely
from .sources import UserFrames, assigned_name

_local = threading.local()
_CALL = re.compile(r'\.gradient\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*[,)]')


def active_tapes() -> tuple:
    return tuple(getattr(_local, 'tapes', ()))


def _minimized(frames: UserFrames, target: Any, site: Any) -> Any:
    """Where the minimized scalar was built: its op's creation line inside a graph; eagerly the gradient call's
    line, with the name it passes (`tape.gradient(loss, ...)` → `loss`)."""
    import linecache

    try:
        pos = frames.from_traceback(target.op.traceback)
        if pos is not None:
            return {**pos, 'name': assigned_name(pos)}
    except Exception:
        pass
    if site is None:
        return None
    m = _CALL.search(linecache.getline(site['file'], site['line']))
    if not m:
        return {**site, 'name': None}
    # The name's last assignment above the call, within the same block of code (a loop body): where it was built.
    name = m.group(1)
    assign = re.compile(r'^\s*' + name + r'\s*(?:[-+*/]?=)(?!=)')
    for line in range(site['line'] - 1, max(0, site['line'] - 60), -1):
        if assign.match(linecache.getline(site['file'], line)):
            return {**site, 'line': line, 'name': name}
    return {**site, 'name': name}


def install(patches: Patches, tf: Any, registry: Any, tracker: Any, session: Any, frames: UserFrames) -> None:
    from tensorflow.python.eager import backprop

    Tape = backprop.GradientTape

    def enter(orig):
        def __enter__(self):
            out = orig(self)
            _local.tapes = active_tapes() + (id(self),)
            return out
        return __enter__

    def exit_(orig):
        def __exit__(self, *exc):
            _local.tapes = tuple(t for t in active_tapes() if t != id(self))
            return orig(self, *exc)
        return __exit__

    def gradient(orig):
        def gradient(self, target, sources, output_gradients=None, unconnected_gradients=tf.UnconnectedGradients.NONE):
            with reentry('tape-gradient') as outer:
                if not outer or not tf.is_tensor(target) or target.shape.rank not in (0, None):
                    return orig(self, target, sources, output_gradients, unconnected_gradients)
                graph = None if tf.executing_eagerly() else target.graph
                tags = [t for t in registry.take_penalties(graph) if id(self) in getattr(t, 'tapes', ()) and t.tensor is not target]
                flat: List[Any] = tf.nest.flatten(sources)
                result = orig(self, target, flat + [t.tensor for t in tags], output_gradients, tf.UnconnectedGradients.NONE)
                grads, scales = list(result[:len(flat)]), list(result[len(flat):])
                if graph is not None:
                    # Penalties written by hand into the traced loss (`loss + 1e-4 * tf.nn.l2_loss(w)`): summands that
                    # read variables and no input. They are in the loss by construction (∂loss/∂summand = 1).
                    hand = safely(session, 'read hand-written penalties', _hand_written, graph, target, tags, flat) or []
                    tags, scales = tags + hand, scales + [1.0] * len(hand)
                safely(session, 'read the minimized loss', _record, self, target, graph, tags, scales, grads)
                if unconnected_gradients == tf.UnconnectedGradients.ZERO or unconnected_gradients == 'zero':
                    grads = [tf.zeros_like(s) if g is None else g for g, s in zip(grads, flat)]
                return tf.nest.pack_sequence_as(sources, grads)
        return gradient

    def _hand_written(graph, target, tags, sources):
        from . import graph_walk as gw
        from .hand_terms import captured_variables, hand_written_tags

        tagged = {t.tensor.op for t in tags}
        return hand_written_tags(gw.summands(target), captured_variables(graph, sources), registry, frames,
                                 skip=lambda t: t is target or bool(tagged & gw.ancestors([t.op])))

    def _record(tape, target, graph, tags, scales, grads):
        site = frames.position(4)
        ctx = GradContext(target, graph, tags, scales, grads, site, _minimized(frames, target, site), tracker.fit_depth > 0)
        ctx = dedupe(ctx)
        if graph is not None and any(s is None for s in ctx.scales):
            ctx.summed_at = safely(session, 'find the sum a dropped penalty went into', _sums, ctx) or {}
        tracker.remember(ctx)

    def _sums(ctx):
        """Inside a tf.function: the sum that adds a dropped penalty to the data loss, where the FuncGraph has one
        (`total = loss + tf.add_n(model.losses)` built, `tape.gradient(loss, ...)` called)."""
        from . import graph_walk as gw
        from .sources import named_site

        anc = gw.ancestors([ctx.target.op])
        dropped = [t.tensor for t, s in zip(ctx.penalties, ctx.scales) if s is None]
        sums = gw.sums_never_minimized(dropped, ctx.graph, anc, gw.SumIndex())
        out = {}
        for t, s in zip(ctx.penalties, ctx.scales):
            op = sums.get(id(t.tensor)) if s is None else None
            if op is not None:
                out[t.term_id] = named_site(frames.from_traceback(op.traceback))
        return out

    patches.wrap(Tape, '__enter__', enter)
    patches.wrap(Tape, '__exit__', exit_)
    patches.wrap(Tape, 'gradient', gradient)
