"""One optimizer step, from the gradient that fed it to its records: loss split, penalties' reach, norms, decay.

A step is found where a Keras optimizer applies gradients; the gradient call that produced them (a
`tape.gradient`, Keras's own train step, or a TF1 compute_gradients) says what was minimized and which penalties
reached it. Eagerly the values are read at once; inside a `tf.function` the plan is built while it traces and two
py_functions read the values when it runs (before the update and after it), so the records come from the real run.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from .context import GradContext
from .decay_meter import DecayMeter, Measured
from . import whatif
from .events import loss_graph
from .optimizer_info import optimizer_info, unsupported_reason
from .registry import PenaltyTag, Registry, WeightRecord, penalty_pieces


@dataclass
class StepPlan:
    objective: int
    opt_index: int
    opt_info: dict
    weights: List[WeightRecord]
    terms: List[tuple]  # (tag, evaluated, reaches, summed_at)
    values: List[PenaltyTag]  # evaluated penalties, in the order their values are read
    scales: List[Any]
    measured: List[Measured]
    measured_vars: List[Any]
    measured_grads: List[Any]
    site: Optional[dict]
    minimized: Optional[dict]
    meter: Any
    removed: frozenset = frozenset()  # term ids the decoupled what-if took out of the gradients


def _np(x: Any) -> np.ndarray:
    return np.asarray(x.numpy() if hasattr(x, 'numpy') else x)


class StepTracker:
    def __init__(self, session: Any, registry: Registry, tf: Any):
        self.session = session
        self.registry = registry
        self.tf = tf
        self.lock = threading.RLock()
        self.by_grad: Dict[int, GradContext] = {}
        self.latest: Dict[int, GradContext] = {}
        self.objectives: Dict[frozenset, int] = {}
        self.step_counts: Dict[int, int] = {}
        self.optimizers: Dict[int, int] = {}
        self.optimizer_weights: Dict[int, set] = {}
        self.graph_signature: Dict[int, tuple] = {}
        self.sent_layers = -1
        self.meter = DecayMeter()
        self.function_depth = 0
        self.pending_steps = 0
        self.plans_waiting: List[dict] = []  # training plans of model.fit calls, sent before their first step
        self.fit_depth = 0
        self.started = time.perf_counter()
        self.last_step: Dict[int, float] = {}

    # ---- gradient contexts -------------------------------------------------------------------------------------------
    def remember(self, ctx: GradContext) -> None:
        with self.lock:
            if len(self.by_grad) > 4096:
                self.by_grad.clear()
            for g in ctx.grads:
                if g is not None:
                    self.by_grad[id(g)] = ctx
            self.latest[id(ctx.graph)] = ctx

    def context_for(self, grads: List[Any]) -> Optional[GradContext]:
        with self.lock:
            for g in grads:
                ctx = self.by_grad.get(id(g))
                if ctx is not None:
                    return ctx
            graph = None if self.tf.executing_eagerly() else self.tf.compat.v1.get_default_graph()
            return self.latest.get(id(graph))

    # ---- planning ------------------------------------------------------------------------------------------------------
    def objective_of(self, weights: List[WeightRecord]) -> int:
        key = frozenset(w.id for w in weights)
        if key not in self.objectives:
            self.objectives[key] = len(self.objectives)
        return self.objectives[key]

    def plan(self, opt: Any, ctx: GradContext, pairs: List[tuple]) -> StepPlan:
        weights = [self.registry.weight_of(v) for v, _ in pairs]
        trained = {w.id for w in weights}
        tags = list(ctx.penalties)
        scales = list(ctx.scales)
        seen = {t.term_id for t in tags}
        terms = [(t, True, s is not None, None if s is not None else ctx.summed_at.get(t.term_id)) for t, s in zip(tags, scales)]
        # Penalties of the trained weights that the step never computed (a loop that never reads model.losses).
        for rec in self.registry.layers.values():
            if not any(w.id in trained for w in rec.weights):
                continue
            for w in rec.weights:
                tid = f'penalty:{w.id}'
                if w.regularizer and w.id in trained and tid not in seen:
                    terms.append((PenaltyTag(None, tid, 'weight-penalty', rec.name, w.id, w.regularizer), False, False, None))
            if rec.activity and f'activity:{rec.name}' not in seen:
                terms.append((PenaltyTag(None, f'activity:{rec.name}', 'activity-penalty', rec.name, None, rec.activity), False, False, None))
        with self.lock:
            if id(opt) not in self.optimizers:
                self.optimizers[id(opt)] = len(self.optimizers)
                self._keep_alive = getattr(self, '_keep_alive', []) + [opt]
        index = self.optimizers[id(opt)]
        info = optimizer_info(opt)
        meter = self.meter.meter(index, info['className'], info['config'], unsupported_reason(opt) or (
            f"{info['jsClass']} is a subclass of {info['className']} whose update Loss Lens cannot check" if info.get('jsClass') else None))
        measured, mvars, mgrads = [], [], []
        wd = getattr(opt, 'weight_decay', None)
        for (var, grad), w in zip(pairs, weights):
            pieces = []
            for k, tag in enumerate(tags):
                if tag.term_id in ctx.removed:
                    continue  # out of the loss under the what-if: no share of the update
                if tag.kind == 'weight-penalty' and tag.weight == w.id:
                    pieces += [(p['form'], p['coefficient'], k) for p in penalty_pieces(w.id, tag.regularizer) or []]
                elif tag.kind == 'hand-written':
                    pieces += [(p['form'], p['coefficient'], k) for p in (tag.pieces or []) if p['weight'] == w.id]
            decoupled = bool(wd) and _uses_decay(opt, var)
            whatif = ctx.decoupled_l2.get(w.id, 0.0)
            if pieces or decoupled or w.regularizer or whatif:
                measured.append(Measured(w.id, pieces, decoupled, whatif))
                mvars.append(var)
                mgrads.append(grad)
        return StepPlan(self.objective_of(weights), index, info, weights, terms, tags, scales, measured, mvars, mgrads,
                        ctx.site, None if ctx.in_fit else ctx.minimized, meter, frozenset(ctx.removed))

    # ---- running a step --------------------------------------------------------------------------------------------------
    def step(self, opt: Any, plan: StepPlan, pairs: List[tuple], run: Callable[[], Any], target: Any) -> Any:
        tf = self.tf
        lr = _learning_rate(opt)
        iterations = getattr(opt, 'iterations', None)
        scale_values = [s if s is not None else tf.constant(0.0) for s in plan.scales]
        before = [target, *[t.tensor for t in plan.values], *scale_values, lr, iterations, *plan.measured_vars, *plan.measured_grads]
        # The what-if's decay follows the update, with the learning rate read before it (a schedule's, for this step).
        wi = [(v, m.whatif) for v, m in zip(plan.measured_vars, plan.measured) if m.whatif] if lr is not None else []
        if tf.executing_eagerly():
            b = [_np(x) for x in before]
            result = run()
            w1 = [_np(v) for v in plan.measured_vars]
            whatif.decay(tf, [v for v, _ in wi], [c for _, c in wi], b[1 + 2 * len(plan.values)])
            a = [_np(_norm(tf, v)) for v, _ in pairs] + w1 + [_np(v) for v, _ in wi]
            self.finish(plan, b, a)
            return result
        # One py_function after the update reads both sides: the reads of the weights made before it (a resource
        # read is a snapshot, ordered before the update's writes by the function's automatic control dependencies,
        # as it comes first in program order) and those made after it. One crossing into Python per step, not two.
        before = [tf.convert_to_tensor(x) for x in before]
        result = run()
        w1 = [tf.convert_to_tensor(v) for v in plan.measured_vars]
        with tf.control_dependencies(w1):
            decayed = whatif.decay(tf, [v for v, _ in wi], [c for _, c in wi], before[1 + 2 * len(plan.values)])
        with tf.control_dependencies(decayed):
            after = [_norm(tf, v) for v, _ in pairs] + [tf.identity(x) for x in w1] + [tf.convert_to_tensor(v) for v, _ in wi]
        n = len(before)
        tf.py_function(lambda *xs: self._after(plan, xs[:n], xs[n:]), before + after, Tout=tf.int32)
        return result

    def _after(self, plan: StepPlan, b: tuple, a: tuple) -> int:
        from .patching import safely

        safely(self.session, 'record a step', self.finish, plan, [_np(x) for x in b], [_np(x) for x in a], True)
        return 0

    def finish(self, plan: StepPlan, b: List[np.ndarray], a: List[np.ndarray], deferred: bool = False) -> None:
        n_pen = len(plan.values)
        total = float(b[0])
        pen_values = [float(np.sum(x)) for x in b[1:1 + n_pen]]
        scales = [float(x) for x in b[1 + n_pen:1 + 2 * n_pen]]
        lr = float(b[1 + 2 * n_pen]) if b[1 + 2 * n_pen] is not None and b[1 + 2 * n_pen].size else None
        iteration = int(b[2 + 2 * n_pen]) if b[2 + 2 * n_pen] is not None and b[2 + 2 * n_pen].size else 0
        m = len(plan.measured)
        w0 = b[3 + 2 * n_pen:3 + 2 * n_pen + m]
        grads = b[3 + 2 * n_pen + m:]
        norms = a[:len(plan.weights)]
        w1 = a[len(plan.weights):len(plan.weights) + m]
        w2 = a[len(plan.weights) + m:]
        with self.lock:
            step = self.step_counts.get(plan.objective, 0) + 1
            self.step_counts[plan.objective] = step
            self._structure(plan, step, lr)
            reaching = [i for i, s in enumerate(plan.scales) if s is not None]
            # The what-if took these out of what the optimizer minimized: in neither the total nor the regularization.
            out_of_loss = [i for i in reaching if plan.values[i].term_id in plan.removed]
            total -= sum(scales[i] * pen_values[i] for i in out_of_loss)
            reg = sum(scales[i] * pen_values[i] for i in reaching if i not in out_of_loss)
            now = time.perf_counter()
            wall = (now - self.last_step.get(plan.objective, self.started)) * 1000
            self.last_step[plan.objective] = now
            self.session.emit({'type': 'step', 'record': {
                'objective': plan.objective, 'step': step, 'totalLoss': total, 'dataLoss': total - reg,
                'regularizationLoss': reg, 'terms': {t.term_id: v for t, v in zip(plan.values, pen_values)},
                'inLoss': [plan.values[i].term_id for i in reaching],
                'weightNorms': {w.id: float(x) for w, x in zip(plan.weights, norms)}, 'learningRate': lr,
                'wallMs': wall}})
            if plan.measured and self.session.options.get('measureDecay', True) is not False:
                record = self.meter.measure(plan.meter, plan.measured, w0, w1, grads,
                                            [scales[i] if plan.scales[i] is not None else None for i in range(n_pen)],
                                            lr if lr is not None else 0.0, iteration)
                out = {'objective': plan.objective, 'step': step, 'values': record['values']}
                appliers = {k: {'by': 'optimizer', 'className': plan.opt_info['className'], 'source': None}
                            for k in record['decoupled']}
                whatif.measure(plan, w1, w2, record, appliers)
                if record['decoupled']:
                    out['decoupled'] = record['decoupled']
                    out['appliers'] = appliers
                if record['unavailable']:
                    out['unavailable'] = record['unavailable']
                self.session.emit({'type': 'decay', 'record': out})
            if deferred or self.function_depth > 0 or threading.current_thread() is not threading.main_thread():
                self.pending_steps += 1
                return
        self.session.step_finished()

    def flush(self) -> None:
        """After a tf.function returned: the steps it ran count now, on the main thread (StopRun may follow)."""
        while self.pending_steps > 0:
            self.pending_steps -= 1
            self.session.step_finished()

    # ---- structural events ---------------------------------------------------------------------------------------------
    def _structure(self, plan: StepPlan, step: int, lr: Optional[float]) -> None:
        emit = self.session.emit
        if self.registry.layers_version != self.sent_layers:
            self.sent_layers = self.registry.layers_version
            emit({'type': 'layers', 'layers': self.registry.layer_infos()})
        info = dict(plan.opt_info)
        if lr is not None:
            info['config'] = {**info['config'], 'learningRate': lr}
        ids = [w.id for w in plan.weights]
        known = self.optimizer_weights.get(plan.opt_index)
        if step == 1:
            emit({'type': 'optimizer', 'objective': plan.objective, 'optimizer': info})
        if known is None or not set(ids) <= known:
            self.optimizer_weights[plan.opt_index] = (known or set()) | set(ids)
            emit({'type': 'optimizer-weights', 'update': {'index': plan.opt_index, 'optimizer': info,
                                                           'weights': sorted(self.optimizer_weights[plan.opt_index])}})
        while self.plans_waiting:
            fit = self.plans_waiting.pop(0)
            emit({'type': 'training-plan', 'plan': {**fit, 'weights': fit['weights'] or ids}})
        signature = tuple((t.term_id, ev, r) for t, ev, r, _ in plan.terms)
        if self.graph_signature.get(plan.objective) != signature:
            self.graph_signature[plan.objective] = signature
            raw = [w for w in plan.weights if w.layer is None]
            emit({'type': 'graph', 'graph': loss_graph(plan.objective, step, plan.weights, plan.terms, plan.site,
                                                       plan.minimized, raw, 0.0)})


def _uses_decay(opt: Any, var: Any) -> bool:
    try:
        return bool(opt._use_weight_decay(var))
    except Exception:
        return True


def _learning_rate(opt: Any) -> Any:
    try:
        return opt.learning_rate
    except Exception:
        return None


def _norm(tf: Any, v: Any) -> Any:
    x = tf.cast(tf.convert_to_tensor(v), tf.float64)
    return tf.sqrt(tf.reduce_sum(tf.square(x)))
