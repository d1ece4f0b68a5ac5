"""Provenance for eager `GradientTape` steps: the ops a tape's block ran, as a small graph the graph walks can read.

Eager ops leave no graph behind. While a tape records its first step at a given `with` line, an op callback
(`op_callbacks.add_op_callback`, which eager execution calls with each op's type, inputs and outputs) notes every op
the thread runs until `tape.gradient`; the notes become stand-in ops and tensors with the attributes graph_walk reads
(`type`, `inputs`, `outputs`, `traceback`, ...), so the hand-written penalties and the sum never minimized are found
by the same code as inside a `tf.function`. The callback is on only for those steps: later steps of the same loop
reuse what the first one found (a `Recipe`), so a training loop pays the callback once per `with` line.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

_local = threading.local()


class Op:
    __slots__ = ('type', 'inputs', 'outputs', 'control_inputs', 'name', 'traceback', '_id', '_attrs')

    def __init__(self, kind: str, name: str, uid: int, traceback: list, attrs: Optional[dict] = None):
        self.type, self.name, self._id, self.traceback = kind, name, uid, traceback
        self.inputs: List[Tensor] = []
        self.outputs: List[Tensor] = []
        self.control_inputs: List[Op] = []
        self._attrs = attrs or {}

    def get_attr(self, name: str) -> Any:
        return self._attrs[name]


class Tensor:
    __slots__ = ('op', 'real')

    def __init__(self, op: Op, real: Any):
        self.op, self.real = op, real


class Graph:
    def __init__(self) -> None:
        self.ops: List[Op] = []
        self.by_real: Dict[int, Tensor] = {}
        self.variables: Dict[str, Any] = {}  # stand-in VarHandleOp name → the variable (as hand_terms wants)

    def get_operations(self) -> List[Op]:
        return self.ops

    def of(self, real: Any) -> Optional[Tensor]:
        return self.by_real.get(id(real))


@dataclass
class Recipe:
    """What the recorded step of a `with tf.GradientTape()` line found, for its later (unrecorded) steps."""
    hand: List[Any] = field(default_factory=list)  # (PenaltyTag without a tensor, [(variable, form, coefficient)])
    summed_at: Dict[str, dict] = field(default_factory=dict)
    replayable: bool = True


class Recorder:
    """One per thread's recording tape: the op callback's notes, from the tape's `__enter__` to its `gradient`."""

    def __init__(self, frames: Any):
        self.frames = frames
        self.records: List[tuple] = []

    def __call__(self, op_type, inputs, attrs, outputs, op_name=None, graph=None):
        if graph is None and outputs is not None:  # eager only: a tf.function's tracing has its own graph
            pos = self.frames.position(2)
            kind = op_type.decode() if isinstance(op_type, bytes) else str(op_type)
            self.records.append((kind, tuple(inputs), tuple(outputs), [(pos['file'], pos['line'])] if pos else []))
        return None


def start(frames: Any) -> Optional[Recorder]:
    from tensorflow.python.framework import op_callbacks

    if getattr(_local, 'recorder', None) is not None:
        return None  # a tape inside a recording tape: the outer one's notes cover it
    rec = Recorder(frames)
    op_callbacks.add_op_callback(rec)
    _local.recorder = rec
    return rec


def stop(rec: Optional[Recorder]) -> None:
    from tensorflow.python.framework import op_callbacks

    if rec is not None and getattr(_local, 'recorder', None) is rec:
        _local.recorder = None
        op_callbacks.remove_op_callback(rec)


def stop_current() -> None:
    """The end of a run (uninstall): this thread's op callback goes, should a recorded step never have reached its gradient."""
    stop(getattr(_local, 'recorder', None))


def _handle(v: Any) -> Any:
    inner = getattr(v, '_value', None)
    return getattr(inner if inner is not None else v, 'handle', None)


def build(records: List[tuple], variables: List[Any]) -> Graph:
    """The stand-in graph of the noted ops. An input no noted op made is a leaf: a variable's handle, a read of a
    variable the fast path made without telling the callback (`tf.nn.l2_loss(w)` reads w in C), a constant scalar,
    or else data (the batch: floating values)."""
    g = Graph()
    handles = {}
    for v in variables:
        h = _handle(v)
        if h is not None:
            handles[id(h)] = v
    handle_ops: Dict[int, Tensor] = {}
    matched: Dict[int, int] = {}

    def new_op(kind: str, attrs: Optional[dict] = None, tb: Optional[list] = None) -> Op:
        op = Op(kind, f'{kind}_{len(g.ops)}', len(g.ops), tb or [], attrs)
        g.ops.append(op)
        return op

    def handle_of(v: Any) -> Tensor:
        t = handle_ops.get(id(v))
        if t is None:
            op = new_op('VarHandleOp')
            g.variables[op.name] = v
            t = handle_ops[id(v)] = Tensor(op, _handle(v))
            op.outputs.append(t)
        return t

    def leaf(x: Any) -> Tensor:
        v = handles.get(id(x))
        if v is not None:
            return handle_of(v)
        dtype = getattr(x, 'dtype', None)
        if getattr(dtype, 'name', '') == 'resource':
            op = new_op('Placeholder', {'dtype': dtype})
        else:
            value = np.asarray(x.numpy()) if hasattr(x, 'numpy') else np.asarray(x)
            v = _read_of(value, variables, matched)
            if v is not None:
                op = new_op('ReadVariableOp')
                op.inputs.append(handle_of(v))
            elif value.size == 1 or value.dtype.kind in 'iub':  # a scalar, or axes/indices (a reduction's), not data
                from tensorflow.python.framework import tensor_util

                op = new_op('Const', {'value': tensor_util.make_tensor_proto(value)})
            else:
                op = new_op('Placeholder', {'dtype': dtype})
        t = Tensor(op, x)
        op.outputs.append(t)
        g.by_real[id(x)] = t
        return t

    for kind, inputs, outputs, tb in records:
        ins = [g.by_real.get(id(x)) or leaf(x) for x in inputs]
        op = new_op(kind, None, tb)
        op.inputs = ins
        for out in outputs:
            t = Tensor(op, out)
            op.outputs.append(t)
            g.by_real[id(out)] = t
    return g


def _read_of(value: np.ndarray, variables: List[Any], matched: Dict[int, int]) -> Any:
    """The variable whose current value this leaf holds. Equal variables (zero biases of one shape) are told apart by
    order: the k-th such leaf is the k-th such variable, as `[f(w) for w in weights]` reads them."""
    if value.size < 2:
        return None
    hits = [v for v in variables if tuple(v.shape) == value.shape and np.array_equal(np.asarray(v.numpy()), value)]
    if not hits:
        return None
    key = id(hits[0])
    k = matched.get(key, 0)
    matched[key] = k + 1
    return hits[k % len(hits)]


def value_of(pieces: List[tuple]) -> Optional[float]:
    """A replayed hand-written penalty's value, from its variables now (before the step's update)."""
    total = 0.0
    for v, form, c in pieces:
        w = np.asarray(v.numpy(), dtype=np.float64)
        if form == 'l2':
            total += c * float(np.sum(w * w))
        elif form == 'l1':
            total += c * float(np.sum(np.abs(w)))
        else:
            return None
    return total
