"""Walking a TensorFlow graph (a tf.compat.v1 Graph or a FuncGraph) back from the minimized loss.

Which ops the loss depends on, which of its summands depend only on variables (penalties), the form and
coefficient of a penalty (`wd·l2_loss(w)` is L2 wd/2 in the protocol's Σw² convention), and the sum that adds a
dropped penalty to the data loss but is never minimized.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Set

DATA_SOURCES = {'Placeholder', 'PlaceholderWithDefault', 'IteratorGetNext', 'IteratorGetNextSync', 'ParseExample',
                'ParseExampleV2', 'DecodeRaw', 'ReaderReadV2'}
SUMS = {'Add', 'AddV2', 'AddN'}
PASS = {'Identity', 'Cast', 'Reshape', 'Squeeze', 'ExpandDims'}


def ancestors(ops: Iterable[Any], limit: int = 200000) -> Set[Any]:
    seen: Set[Any] = set()
    stack = list(ops)
    while stack and len(seen) < limit:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen


def is_data_source(op: Any) -> bool:
    if op.type not in DATA_SOURCES:
        return False
    try:
        return op.type != 'Placeholder' or op.get_attr('dtype').name != 'resource'
    except Exception:
        return True


def depends_on_data(op: Any) -> bool:
    return any(is_data_source(a) for a in ancestors([op]))


def summands(t: Any) -> List[Any]:
    """A sum's additive parts (through Identity and nested sums)."""
    op = t.op
    if op.type in SUMS:
        return [s for x in op.inputs for s in summands(x)]
    if op.type in PASS and op.inputs:
        inner = summands(op.inputs[0])
        return inner if len(inner) > 1 else [t]
    return [t]


def variable_op_name(t: Any) -> Optional[str]:
    op = t.op
    while op.type in PASS or op.type == 'ReadVariableOp':
        if op.type == 'ReadVariableOp':
            return op.inputs[0].op.name
        op = op.inputs[0].op
    if op.type in ('VariableV2', 'VarHandleOp', 'Variable'):
        return op.name
    return None


def _constant(t: Any) -> Optional[float]:
    op = t.op
    while op.type in PASS and op.inputs:
        op = op.inputs[0].op
    if op.type != 'Const':
        return None
    try:
        from tensorflow.python.framework import tensor_util

        value = tensor_util.MakeNdarray(op.get_attr('value'))
        return float(value) if value.size == 1 else None
    except Exception:
        return None


def penalty_form(t: Any, scale: float = 1.0) -> List[dict]:
    """[{'weight': variable op name, 'form': 'l2'|'l1'|'unknown', 'coefficient'}] for the penalty tensor t."""
    op = t.op
    if op.type in PASS and op.inputs:
        return penalty_form(op.inputs[0], scale)
    if op.type in SUMS:
        return [p for x in op.inputs for p in penalty_form(x, scale)]
    if op.type == 'Mul' and len(op.inputs) == 2:
        for a, b in ((op.inputs[0], op.inputs[1]), (op.inputs[1], op.inputs[0])):
            c = _constant(a)
            if c is not None:
                return penalty_form(b, scale * c)
    if op.type == 'L2Loss':
        v = variable_op_name(op.inputs[0])
        if v:
            return [{'weight': v, 'form': 'l2', 'coefficient': scale / 2.0}]
    if op.type == 'Sum' and op.inputs[0].op.type in ('Square', 'Abs'):
        inner = op.inputs[0].op
        v = variable_op_name(inner.inputs[0])
        if v:
            return [{'weight': v, 'form': 'l2' if inner.type == 'Square' else 'l1', 'coefficient': scale}]
    names = {variable_op_name(x.outputs[0]) for x in ancestors([op]) if x.type in ('VariableV2', 'VarHandleOp')}
    return [{'weight': n, 'form': 'unknown', 'coefficient': None} for n in sorted(x for x in names if x)]


def piece_keys(t: Any) -> Set[tuple]:
    """What a penalty covers, as (variable op name, form): TF1 re-creates a collection's lazy penalties at each use,
    so the same penalty is recognised by what it computes, not by its op."""
    return {(p['weight'], p['form']) for p in penalty_form(t)}


class SumIndex:
    """The data-free summands of sums in a graph, with whether each sum also adds something that reads data."""

    def __init__(self) -> None:
        self._data: Dict[Any, bool] = {}

    def reads_data(self, op: Any) -> bool:
        hit = self._data.get(op)
        if hit is None:
            hit = self._data[op] = depends_on_data(op)
        return hit

    def free_keys(self, t: Any) -> Set[tuple]:
        out: Set[tuple] = set()
        for s in summands(t):
            if not self.reads_data(s.op):
                out |= piece_keys(s)
        return out

    def has_data(self, t: Any) -> bool:
        return any(self.reads_data(s.op) for s in summands(t))


def reaches(tag_tensor: Any, loss: Any, loss_ancestors: Set[Any], index: SumIndex) -> bool:
    if tag_tensor.op in loss_ancestors:
        return True
    keys = piece_keys(tag_tensor)
    return bool(keys) and keys <= index.free_keys(loss)


def sums_never_minimized(dropped: List[Any], graph: Any, loss_ancestors: Set[Any], index: SumIndex) -> Dict[Any, Any]:
    """For each dropped penalty tensor (keyed by its id): the last-built sum that adds it (or a copy of it) to something that reads
    data, and that the minimized loss does not depend on: a total built and never minimized."""
    out: Dict[int, Any] = {}  # by id(tensor): a FuncGraph's tensors are unhashable
    wanted = [(t, piece_keys(t)) for t in dropped]
    for op in graph.get_operations():
        if op.type not in SUMS or op in loss_ancestors or not op.outputs:
            continue
        hits = [t for t, keys in wanted if keys and (t.op in ancestors([op]) or keys <= index.free_keys(op.outputs[0]))]
        if hits and index.has_data(op.outputs[0]):
            for t in hits:
                if id(t) not in out or op._id > out[id(t)]._id:
                    out[id(t)] = op
    return out
