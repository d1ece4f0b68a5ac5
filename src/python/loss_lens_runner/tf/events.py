"""Builds the protocol's structural events from a step plan: the loss graph and its terms."""
from __future__ import annotations

from typing import Dict, List, Optional

from .registry import PenaltyTag, WeightRecord


def term_info(tag: PenaltyTag, evaluated: bool, reaches: bool, summed_at: Optional[dict]) -> dict:
    t = {
        'id': tag.term_id,
        'collection': 'regularization',
        'kind': tag.kind,
        'layer': tag.layer,
        'weight': tag.weight,
        'regularizer': tag.regularizer,
        'nodeId': f'term:{tag.term_id}',
        'evaluated': evaluated,
        'reachesMinimizedLoss': reaches,
    }
    if tag.kind == 'hand-written':
        t['pieces'] = tag.pieces or []
        t['source'] = tag.source
    if summed_at is not None:
        t['summedAt'] = summed_at
    return t


def loss_graph(objective: int, step: int, weights: List[WeightRecord], terms: List[tuple], ctx_site: Optional[dict],
               minimized: Optional[dict], raw: List[WeightRecord], capture_ms: float) -> dict:
    """terms: (tag, evaluated, reaches, summed_at) for every penalty of the step's weights."""
    nodes: List[dict] = []
    edges: List[dict] = []
    by_id: Dict[str, WeightRecord] = {w.id: w for w in weights}

    def var_node(w: WeightRecord) -> str:
        nid = f'var:{w.id}'
        if not any(n['id'] == nid for n in nodes):
            nodes.append({'id': nid, 'kind': 'variable', 'label': w.name, 'layer': w.layer, 'shape': w.shape,
                          'role': 'data', 'termId': None, 'weight': w.id, 'reachesMinimizedLoss': True})
        return nid

    nodes.append({'id': 'loss', 'kind': 'op', 'label': 'minimized loss', 'layer': None, 'shape': [], 'role': 'mixed',
                  'termId': None, 'weight': None, 'reachesMinimizedLoss': True})
    nodes.append({'id': 'data', 'kind': 'op', 'label': 'data loss', 'layer': None, 'shape': [], 'role': 'data',
                  'termId': 'data', 'weight': None, 'reachesMinimizedLoss': True})
    edges.append({'from': 'data', 'to': 'loss', 'shape': []})
    for w in weights:
        edges.append({'from': var_node(w), 'to': 'data', 'shape': w.shape})
    infos = [{'id': 'data', 'collection': 'data', 'kind': 'data', 'layer': None, 'weight': None, 'regularizer': None,
              'nodeId': 'data', 'evaluated': True, 'reachesMinimizedLoss': True}]
    for tag, evaluated, reaches, summed_at in terms:
        info = term_info(tag, evaluated, reaches, summed_at)
        infos.append(info)
        nodes.append({'id': info['nodeId'], 'kind': 'op' if evaluated else 'unevaluated-term', 'label': tag.kind,
                      'layer': tag.layer, 'shape': [], 'role': 'regularization', 'termId': tag.term_id,
                      'weight': tag.weight, 'reachesMinimizedLoss': reaches})
        covered = {p['weight'] for p in (tag.pieces or [])} | ({tag.weight} if tag.weight else set())
        for wid in sorted(covered):
            if wid in by_id:
                edges.append({'from': var_node(by_id[wid]), 'to': info['nodeId'], 'shape': by_id[wid].shape})
        if reaches:
            edges.append({'from': info['nodeId'], 'to': 'loss', 'shape': []})
    graph = {
        'objective': objective, 'step': step, 'nodes': nodes, 'edges': edges, 'minimizedNodeId': 'loss',
        'dataNodeId': 'data', 'terms': infos, 'variables': [w.id for w in weights], 'source': ctx_site,
        'minimizedSource': minimized, 'captureMs': capture_ms,
    }
    if raw:
        graph['rawVariables'] = [{**w.info(), 'source': w.source} for w in raw]
    return graph
