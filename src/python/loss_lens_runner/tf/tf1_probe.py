"""TF1 graphs through `tf.compat.v1`: the minimized loss where compute_gradients takes it, the penalties of the
graph's collections and of the loss's own sum, and the values of each `session.run` of the train op.

A penalty is a scalar that depends on variables and no input (a `'losses'` or REGULARIZATION_LOSSES entry, or a
summand of the minimized loss); it reaches the loss when its op is among the loss's ancestors. A dropped one is
named with the sum that adds it to the data loss and is never minimized (`tf.add_n(tf.get_collection('losses'))`).
"""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from . import graph_walk as gw
from .context import GradContext
from .hand_terms import hand_written_tags
from .patching import Patches, reentry, safely
from .registry import PenaltyTag
from .sources import UserFrames, named_site

#: TF1 optimizer classes → the Keras update formula they follow (same update; the epsilon of TF1's Adam is 1e-8).
TF1_CLASSES = {'GradientDescentOptimizer': 'SGD', 'MomentumOptimizer': 'SGD', 'AdamOptimizer': 'Adam'}


def _variables(graph: Any) -> Dict[str, Any]:
    out = {}
    for v in graph.get_collection('variables') + graph.get_collection('trainable_variables'):
        out[v.op.name] = v
    return out


def _penalty_tags(graph: Any, loss: Any, registry: Any, frames: UserFrames) -> List[PenaltyTag]:
    candidates = list(graph.get_collection('regularization_losses')) + list(graph.get_collection('losses')) + gw.summands(loss)
    return hand_written_tags(candidates, _variables(graph), registry, frames, skip=lambda t: t is loss)


def build_context(loss: Any, registry: Any, frames: UserFrames) -> GradContext:
    graph = loss.graph
    tags = _penalty_tags(graph, loss, registry, frames)
    anc = gw.ancestors([loss.op])
    index = gw.SumIndex()
    scales = [1.0 if gw.reaches(t.tensor, loss, anc, index) else None for t in tags]
    dropped = [t.tensor for t, s in zip(tags, scales) if s is None]
    sums = gw.sums_never_minimized(dropped, graph, anc, index) if dropped else {}
    summed = {}
    for t in tags:
        s = sums.get(id(t.tensor))
        if s is not None:
            summed[t.term_id] = named_site(frames.from_traceback(s.traceback))
    site = frames.position(4)
    return GradContext(loss, graph, tags, scales, [], site, named_site(frames.from_traceback(loss.op.traceback)), False, summed)


class _Plan:
    def __init__(self, ctx, pairs, opt, tracker, tf):
        self.ctx, self.pairs, self.opt = ctx, pairs, opt
        self.weights = [tracker.registry.weight_of(v) for v, _ in pairs]
        self.norms = [tf.sqrt(tf.reduce_sum(tf.square(tf.cast(v, tf.float64)))) for v, _ in pairs]
        self.last_after = None
        self.iteration = 0


def install(patches: Patches, tf: Any, registry: Any, tracker: Any, session: Any, frames: UserFrames) -> None:
    from tensorflow.python.client import session as tf_session
    from tensorflow.python.training import optimizer as v1_optimizer

    by_grad: Dict[int, GradContext] = {}
    train_ops: Dict[Any, _Plan] = {}

    def compute_gradients(orig):
        def compute_gradients(self, loss, *args, **kwargs):
            out = orig(self, loss, *args, **kwargs)
            if not tf.executing_eagerly() and tf.is_tensor(loss):
                ctx = safely(session, 'read the minimized loss', build_context, loss, registry, frames)
                if ctx is not None:
                    for g, _ in out:
                        if g is not None:
                            by_grad[id(g)] = ctx
            return out
        return compute_gradients

    def apply_gradients(orig):
        def apply_gradients(self, grads_and_vars, *args, **kwargs):
            grads_and_vars = list(grads_and_vars)
            op = orig(self, grads_and_vars, *args, **kwargs)
            with reentry('tf1-apply') as outer:
                ctx = next((by_grad[id(g)] for g, _ in grads_and_vars if id(g) in by_grad), None)
                if outer and ctx is not None and not tf.executing_eagerly():
                    pairs = [(v, g) for g, v in grads_and_vars if g is not None]
                    plan = safely(session, 'plan a step', _Plan, ctx, pairs, self, tracker, tf)
                    if plan is not None:
                        train_ops[op] = plan
            return op
        return apply_gradients

    def run(orig):
        def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
            plans = [train_ops[f] for f in _flat(tf, fetches) if f in train_ops]
            if not plans:
                return orig(self, fetches, feed_dict, options, run_metadata)
            plan = plans[0]
            # The step's gradients are computed for the update anyway: fetching them costs a copy, not a pass.
            extra = [plan.ctx.target] + [t.tensor for t in plan.ctx.penalties] + [g for _, g in plan.pairs]
            if plan.last_after is None:
                plan.last_after = safely(session, 'read the weights', orig, self, [v for v, _ in plan.pairs])
            result, values = orig(self, (fetches, extra), feed_dict, options, run_metadata)
            after = safely(session, 'read the weights', orig, self, (plan.norms, [v for v, _ in plan.pairs]))
            if after is not None and plan.last_after is not None:
                safely(session, 'record a step', _finish, plan, values, after)
            return result
        return run

    def _finish(plan: _Plan, values: List[Any], after: Any) -> None:
        norms, w1 = after
        w0, plan.last_after = plan.last_after, w1
        plan.iteration += 1
        _emit_tf1_step(tracker, plan, values, norms, w0, w1)

    def variable_call(orig):
        def __call__(cls, *args, **kwargs):
            v = orig(cls, *args, **kwargs)
            pos = frames.position(2)
            if pos is not None:
                registry.variable_sources[id(v)] = pos
            return v
        return __call__

    from tensorflow.python.ops import variables as tf_variables

    patches.wrap(tf_variables.VariableMetaclass, '__call__', variable_call)
    patches.wrap(v1_optimizer.Optimizer, 'compute_gradients', compute_gradients)
    patches.wrap(v1_optimizer.Optimizer, 'apply_gradients', apply_gradients)
    patches.wrap(tf_session.BaseSession, 'run', run)


def _flat(tf: Any, fetches: Any) -> List[Any]:
    try:
        return [f for f in tf.nest.flatten(fetches) if hasattr(f, 'type') or hasattr(f, 'op')]
    except Exception:
        return []


def _emit_tf1_step(tracker: Any, plan: _Plan, values: List[Any], norms: List[Any], w0: List[Any], w1: List[Any]) -> None:
    """TF1 steps take the same records as Keras's: the plan is built the Keras way, with a TF1 optimizer's info."""
    from .decay_meter import Measured
    from .steps import StepPlan

    opt = plan.opt
    tf1_name = type(opt).__name__
    lr = getattr(opt, '_learning_rate', None)
    lr = float(lr) if isinstance(lr, (int, float)) else None
    keras_name = TF1_CLASSES.get(tf1_name)
    config: dict = {'learningRate': lr}
    if tf1_name == 'MomentumOptimizer':
        config.update(momentum=float(opt._momentum), nesterov=bool(opt._use_nesterov))
    if tf1_name == 'AdamOptimizer':
        config.update(beta_1=float(opt._beta1), beta_2=float(opt._beta2), epsilon=float(opt._epsilon))
    info = {'className': keras_name or tf1_name, 'config': config}
    if keras_name:
        info['jsClass'] = tf1_name
    with tracker.lock:
        if id(opt) not in tracker.optimizers:
            tracker.optimizers[id(opt)] = len(tracker.optimizers)
    index = tracker.optimizers[id(opt)]
    meter = tracker.meter.meter(index, keras_name or tf1_name, config, None if keras_name else f"Loss Lens has no model of {tf1_name}'s update")
    ctx = plan.ctx
    measured, idx = [], []
    for i, w in enumerate(plan.weights):
        pieces = [(p['form'], p['coefficient'], k) for k, t in enumerate(ctx.penalties) for p in (t.pieces or []) if p['weight'] == w.id]
        if pieces:
            measured.append(Measured(w.id, pieces, False))
            idx.append(i)
    terms = [(t, True, s is not None, None if s is not None else ctx.summed_at.get(t.term_id)) for t, s in zip(ctx.penalties, ctx.scales)]
    sp = StepPlan(tracker.objective_of(plan.weights), index, info, plan.weights, terms, ctx.penalties, ctx.scales, measured,
                  [], [], ctx.site, ctx.minimized, meter)
    n = len(ctx.penalties)
    grads = [np.asarray(values[1 + n + i]) for i in idx]
    b = [np.asarray(values[0]), *[np.asarray(v) for v in values[1:1 + n]], *[np.asarray(1.0 if s else 0.0) for s in ctx.scales],
         np.asarray(lr if lr is not None else np.nan), np.asarray(plan.iteration - 1), *[np.asarray(w0[i]) for i in idx], *grads]
    a = [np.asarray(x) for x in norms] + [np.asarray(w1[i]) for i in idx]
    tracker.finish(sp, b, a)
