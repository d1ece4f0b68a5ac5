"""Penalties written by hand in a graph (a TF1 collection entry, a summand of a traced loss): each becomes a
`hand-written` term with the pieces its ops compute, named after the variables it covers (term-ids.ts's rule)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List

from . import graph_walk as gw
from .registry import PenaltyTag
from .sources import UserFrames, named_site


def hand_written_tags(candidates: List[Any], variables: Dict[str, Any], registry: Any, frames: UserFrames,
                      skip: Callable[[Any], bool] = lambda t: False) -> List[PenaltyTag]:
    """variables: a graph's variable op name (or captured handle's placeholder name) → the variable object."""
    tags: List[PenaltyTag] = []
    seen: set = set()
    index = gw.SumIndex()
    for t in candidates:
        t = getattr(t, '_master_tensor', t)  # get_variable's regularizer output: a lazy tensor re-made at each use
        if t.op in seen or skip(t) or index.reads_data(t.op):
            continue
        seen.add(t.op)
        pieces = [p for p in gw.penalty_form(t) if p['weight'] in variables]
        key = frozenset((p['weight'], p['form'], p['coefficient']) for p in pieces)
        if not pieces or key in seen:
            continue  # a copy of a collection's lazy penalty, made where a sum read it
        seen.add(key)
        records = {p['weight']: registry.weight_of(variables[p['weight']]) for p in pieces}
        for p in pieces:
            p['weight'] = records[p['weight']].id
        weights = list(dict.fromkeys(p['weight'] for p in pieces))
        base = f"hand:{weights[0]}{'+%d' % (len(weights) - 1) if len(weights) > 1 else ''}"
        term_id, k = base, 1
        while any(x.term_id == term_id for x in tags):
            k += 1
            term_id = f'{base}#{k}'
        l1 = sum(p['coefficient'] for p in pieces if p['form'] == 'l1' and p['weight'] == weights[0])
        l2 = sum(p['coefficient'] for p in pieces if p['form'] == 'l2' and p['weight'] == weights[0])
        layer = next((r.layer for r in records.values() if r.id == weights[0]), None)
        tags.append(PenaltyTag(t, term_id, 'hand-written', layer, weights[0], {'className': 'HandWritten', 'l1': l1, 'l2': l2},
                               pieces, named_site(frames.from_traceback(t.op.traceback))))
    return tags


def captured_variables(graph: Any, variables: List[Any]) -> Dict[str, Any]:
    """Inside a FuncGraph a variable is read through a captured handle: its placeholder's name → the variable."""
    by_handle = {}
    for v in variables:
        inner = getattr(v, '_value', None)
        handle = getattr(inner if inner is not None else v, 'handle', None)
        if handle is not None:
            by_handle[id(handle)] = v
    out = {}
    for external, internal in getattr(graph, 'captures', []):
        if id(external) in by_handle:
            out[internal.op.name] = by_handle[id(external)]
    return out
