"""What the probes learned about the script's model: layers, weights, raw variables and tagged penalty tensors."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .sources import UserFrames, assigned_name

_ROLES = (
    (re.compile(r'(^|_)(kernel|weights?|filters?)$'), 'kernel'),
    (re.compile(r'(^|_)kernel$|depthwise_kernel|pointwise_kernel|recurrent_kernel'), 'kernel'),
    (re.compile(r'(^|_)(bias|biases)$'), 'bias'),
    (re.compile(r'(^|_)gamma$'), 'gamma'),
    (re.compile(r'(^|_)beta$'), 'beta'),
    (re.compile(r'embeddings?$'), 'embedding'),
)


def role_of(name: str, shape: List[int]) -> str:
    for pattern, role in _ROLES:
        if pattern.search(name):
            return role
    return 'kernel' if len(shape) >= 2 else 'other'


def regularizer_info(reg: Any) -> Optional[dict]:
    """Keras's L1/L2/L1L2 as the protocol's L1L2 (same convention: l1·Σ|w| + l2·Σw², no ½); others by class name."""
    if reg is None:
        return None
    name = type(reg).__name__
    l1 = getattr(reg, 'l1', None)
    l2 = getattr(reg, 'l2', None)
    if name in ('L1', 'L2', 'L1L2'):
        return {'className': 'L1L2', 'l1': float(l1 or 0.0), 'l2': float(l2 or 0.0)}
    return {'className': name if name != 'function' else getattr(reg, '__name__', 'function'), 'l1': 0.0, 'l2': 0.0}


def penalty_pieces(weight_id: str, reg: Optional[dict]) -> Optional[List[dict]]:
    if reg is None:
        return None
    if reg['className'] != 'L1L2':
        return [{'weight': weight_id, 'form': 'unknown', 'coefficient': None}]
    out = []
    if reg['l1']:
        out.append({'weight': weight_id, 'form': 'l1', 'coefficient': reg['l1']})
    if reg['l2']:
        out.append({'weight': weight_id, 'form': 'l2', 'coefficient': reg['l2']})
    return out


@dataclass
class WeightRecord:
    id: str
    name: str
    shape: List[int]
    trainable: bool
    role: str
    regularizer: Optional[dict]
    layer: Optional[str]
    variable: Any
    source: Optional[dict] = None

    def info(self) -> dict:
        return {'id': self.id, 'name': self.name, 'shape': self.shape, 'trainable': self.trainable, 'role': self.role,
                'regularizer': self.regularizer}


@dataclass
class LayerRecord:
    name: str
    class_name: str
    source: Optional[dict]
    binding: Optional[str]
    activity: Optional[dict] = None
    weights: List[WeightRecord] = field(default_factory=list)

    def info(self) -> dict:
        return {'name': self.name, 'className': self.class_name, 'source': self.source,
                'weights': [w.info() for w in self.weights], 'activityRegularizer': self.activity, 'binding': self.binding}


@dataclass
class PenaltyTag:
    """A penalty tensor where its maker produced it: a layer's regularizer, an add_loss, a graph's collection."""
    tensor: Any
    term_id: str
    kind: str  # 'weight-penalty' | 'activity-penalty' | 'hand-written'
    layer: Optional[str]
    weight: Optional[str]
    regularizer: Optional[dict]
    pieces: Optional[List[dict]] = None
    source: Optional[dict] = None


class Registry:
    def __init__(self, frames: UserFrames):
        self.frames = frames
        self.lock = threading.RLock()
        self.layers: Dict[int, LayerRecord] = {}
        self._layer_objects: Dict[int, Any] = {}  # keeps ids stable for the run
        self.weights: Dict[int, WeightRecord] = {}
        self._ids: set = set()
        self.variable_sources: Dict[int, dict] = {}
        self.layer_sources: Dict[int, dict] = {}
        self.penalties: List[PenaltyTag] = []
        self.layers_version = 0

    # ---- layers and weights -------------------------------------------------------------------------------------
    def note_layer_created(self, layer: Any) -> None:
        if id(layer) in self.layer_sources:
            return
        pos = self.frames.position(3)
        if pos is not None:
            self.layer_sources[id(layer)] = pos
            self._layer_objects[id(layer)] = layer

    def layer_record(self, layer: Any) -> LayerRecord:
        rec = self.layers.get(id(layer))
        if rec is None:
            src = self.layer_sources.get(id(layer))
            rec = LayerRecord(layer.name, type(layer).__name__, src, assigned_name(src))
            self.layers[id(layer)] = rec
            self._layer_objects[id(layer)] = layer
            self.layers_version += 1
        return rec

    def unique_id(self, wanted: str) -> str:
        wid, k = wanted, 1
        while wid in self._ids:
            k += 1
            wid = f'{wanted}_{k}'
        self._ids.add(wid)
        return wid

    def add_layer_weight(self, layer: Any, variable: Any, regularizer: Any) -> WeightRecord:
        with self.lock:
            rec = self.layer_record(layer)
            shape = [int(d) for d in variable.shape]
            name = str(getattr(variable, 'name', 'weight')).split('/')[-1].split(':')[0]
            wid = self.unique_id(str(getattr(variable, 'path', None) or f'{layer.name}/{name}'))
            w = WeightRecord(wid, name, shape, bool(variable.trainable), role_of(name, shape), regularizer_info(regularizer),
                             rec.name, variable, rec.source)
            rec.weights.append(w)
            self._remember(variable, w)
            self.layers_version += 1
            return w

    def _remember(self, variable: Any, w: WeightRecord) -> None:
        self.weights[id(variable)] = w
        inner = getattr(variable, '_value', None)  # a Keras 3 Variable wraps a tf.Variable
        if inner is not None:
            self.weights[id(inner)] = w

    def weight_of(self, variable: Any) -> WeightRecord:
        """The record of any variable a step trains: a layer's, or a raw tf.Variable (created on first sight)."""
        with self.lock:
            w = self.weights.get(id(variable))
            inner = getattr(variable, '_value', None)
            if w is None and inner is not None:
                w = self.weights.get(id(inner))
            if w is None:
                # A Keras variable made before the probes were in place still has its path (`dense/kernel`).
                name = str(getattr(variable, 'path', None) or getattr(variable, 'name', 'Variable')).split(':')[0]
                shape = [int(d) for d in variable.shape]
                src = self.variable_sources.get(id(variable))
                w = WeightRecord(self.unique_id(name), name.split('/')[-1], shape, bool(getattr(variable, 'trainable', True)),
                                 role_of(name.split('/')[-1], shape), None, None, variable, src)
                self._remember(variable, w)
            return w

    def layer_infos(self) -> List[dict]:
        return [r.info() for r in self.layers.values() if r.weights or r.activity]

    # ---- penalties ---------------------------------------------------------------------------------------------------
    def tag(self, tag: PenaltyTag) -> None:
        with self.lock:
            self.penalties.append(tag)
            if len(self.penalties) > 10000:  # tensors computed outside any step: keep memory bounded
                del self.penalties[:5000]

    def take_penalties(self, graph: Any) -> List[PenaltyTag]:
        """The penalties computed in `graph` (None: eagerly) since the last step there, removed from the list."""
        with self.lock:
            mine = [p for p in self.penalties if getattr(p.tensor, 'graph', None) is graph or (graph is None and _eager(p.tensor))]
            keep = [p for p in self.penalties if not any(p is m for m in mine)]
            self.penalties = keep
            return mine


def _eager(t: Any) -> bool:
    try:
        t.graph  # noqa: B018  (symbolic tensors have a graph; eager ones raise)
        return False
    except Exception:
        return True
