"""`tf.GradientTape`: which tape was recording when a penalty was made, and what its `gradient` call minimized.

At `tape.gradient(loss, sources)` the penalties the tape recorded are added to the sources of the same backward
pass: a penalty the loss does not depend on gets no gradient (None), one it reaches gets ∂loss/∂penalty. The same
call works eagerly (through the tape) and inside a `tf.function` (through the FuncGraph), and costs one pass.
"""
from __future__ import annotations

import re
import threading
from typing import Any, List

import numpy as np

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

    from . import eager_trace
    from . import whatif as whatif_

    decoupled = session.options.get('weightDecay') == 'decoupled'

    Tape = backprop.GradientTape
    recipes = {}  # a `with tf.GradientTape()` line → what its recorded eager step found

    def enter(orig):
        def __enter__(self):
            out = orig(self)
            _local.tapes = active_tapes() + (id(self),)
            safely(session, 'record an eager step', _start_recording, self)
            return out
        return __enter__

    def _start_recording(tape):
        if not tf.executing_eagerly():
            return
        stale = getattr(_local, 'recording', None)
        if stale is not None and stale[0] not in active_tapes():
            eager_trace.stop(stale[1])  # a tape whose gradient never came: its notes end here
            _local.recording = None
        pos = frames.position(3)
        key = (pos['file'], pos['line']) if pos else None
        tape._loss_lens_key = key
        recipe = recipes.get(key)
        if key is not None and (recipe is None or not recipe.replayable):
            rec = eager_trace.start(frames)
            if rec is not None:
                _local.recording = (id(tape), rec)

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
                eager = None
                if graph is not None:
                    # Penalties written by hand into the traced loss (`loss + 1e-4 * tf.nn.l2_loss(w)`): summands that
                    # read variables and no input. They are in the loss by construction (∂loss/∂summand = 1).
                    hand = safely(session, 'read hand-written penalties', _hand_written, graph, target, tags, flat) or []
                    tags, scales = tags + hand, scales + [1.0] * len(hand)
                else:
                    eager = safely(session, 'read an eager step', _eager_recipe, self, target, tags, scales, flat)
                    if eager is not None:
                        hand = safely(session, 'read hand-written penalties', _replay, eager) or []
                        tags, scales = tags + hand, scales + [1.0] * len(hand)
                whatif = ([], {})
                if decoupled:
                    out = safely(session, 'take the penalties out of the loss (decoupled what-if)', whatif_.take_out, tf, registry,
                                 flat, grads, tags, scales)
                    if out is not None:
                        grads, whatif = out[0], out[1:]
                safely(session, 'read the minimized loss', _record, self, target, graph, tags, scales, grads, eager, whatif)
                if unconnected_gradients == tf.UnconnectedGradients.ZERO or unconnected_gradients == 'zero':
                    grads = [tf.zeros_like(s) if g is None else g for g, s in zip(grads, flat)]
                return tf.nest.pack_sequence_as(sources, grads)
        return gradient

    def _hand_written(graph, target, tags, sources):
        from . import graph_walk as gw
        from .hand_terms import captured_variables, hand_written_tags

        tagged = {t.tensor.op for t in tags}
        inside = gw.ancestors(tagged)  # a tagged penalty's own parts (an L1L2's l1 and l2 sums) are not hand-written
        return hand_written_tags(gw.summands(target), captured_variables(graph, sources), registry, frames,
                                 skip=lambda t: t is target or t.op in inside or bool(tagged & gw.ancestors([t.op])))

    def _eager_recipe(tape, target, tags, scales, sources):
        """The recipe of this tape's `with` line: made now from the notes if this step was recorded."""
        key = getattr(tape, '_loss_lens_key', None)
        recording = getattr(_local, 'recording', None)
        if recording is None or recording[0] != id(tape):
            return recipes.get(key)
        _local.recording = None
        eager_trace.stop(recording[1])
        recipe = safely(session, 'find eager penalties', _make_recipe, recording[1].records, target, tags, scales, sources)
        if recipe is not None and key is not None:
            recipes[key] = recipe
        return recipe

    def _make_recipe(records, target, tags, scales, sources):
        from . import graph_walk as gw
        from .hand_terms import hand_written_tags
        from .sources import named_site

        g = eager_trace.build(records, sources)
        loss = g.of(target)
        recipe = eager_trace.Recipe()
        if loss is None:
            return recipe
        tagged = {id(t.tensor) for t in tags}
        tagged_ops = {g.of(t.tensor).op for t in tags if g.of(t.tensor) is not None}
        inside = gw.ancestors(tagged_ops)  # a tagged penalty's own parts (an L1L2's l1 and l2 sums)
        skip = lambda t: id(t.real) in tagged or t.op in inside or bool(tagged_ops & gw.ancestors([t.op]))  # noqa: E731
        for tag in hand_written_tags(gw.summands(loss), g.variables, registry, frames, skip=skip):
            by_id = {registry.weight_of(v).id: v for v in g.variables.values()}
            pieces = [(by_id[p['weight']], p['form'], p['coefficient']) for p in tag.pieces]
            tag.tensor = tag.tensor.real  # this step's value when its form cannot be valued again (then recorded each step)
            recipe.hand.append((tag, pieces))
            recipe.replayable = recipe.replayable and eager_trace.value_of(pieces) is not None
        dropped = [(t, g.of(t.tensor)) for t, s in zip(tags, scales) if s is None]
        dropped = [(t, x) for t, x in dropped if x is not None]
        if dropped:
            anc = gw.ancestors([loss.op])
            sums = gw.sums_never_minimized([x for _, x in dropped], g, anc, gw.SumIndex())
            for t, x in dropped:
                op = sums.get(id(x))
                if op is not None:
                    recipe.summed_at[t.term_id] = named_site(frames.from_traceback(op.traceback))
        return recipe

    def _replay(recipe):
        """This step's hand-written penalties: the recipe's, valued from their variables before the update."""
        from .registry import PenaltyTag

        out = []
        for tag, pieces in recipe.hand:
            value = eager_trace.value_of(pieces) if recipe.replayable else tag.tensor
            out.append(PenaltyTag(np.float64(value) if recipe.replayable else value, tag.term_id, tag.kind, tag.layer, tag.weight, tag.regularizer,
                                  tag.pieces, tag.source))
        return out

    def _record(tape, target, graph, tags, scales, grads, eager=None, whatif=([], {})):
        site = frames.position(4)
        ctx = GradContext(target, graph, tags, scales, grads, site, _minimized(frames, target, site), tracker.fit_depth > 0)
        ctx = dedupe(ctx)
        ctx.removed, ctx.decoupled_l2 = set(whatif[0]), dict(whatif[1])
        if graph is not None and any(s is None for s in ctx.scales):
            ctx.summed_at = safely(session, 'find the sum a dropped penalty went into', _sums, ctx) or {}
        elif eager is not None:
            ctx.summed_at = dict(eager.summed_at)
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
