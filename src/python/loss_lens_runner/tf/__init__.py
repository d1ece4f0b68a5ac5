"""Instruments TensorFlow and Keras in the user's script (issue 23).

`install(session)` is cheap when the script never imports TensorFlow: it only adds an import hook, and the probes
are put in place once `tensorflow` (or `keras`) has been imported, by the script or by anything it imports.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import threading
from typing import Any, Optional

from .patching import Patches, safely
from .registry import Registry
from .sources import UserFrames

_WATCHED = ('tensorflow', 'keras')


class Instrumentation:
    def __init__(self, session: Any):
        self.session = session
        self.frames = UserFrames(session.script_path)
        self.registry = Registry(self.frames)
        self.patches = Patches()
        self.tracker = None
        self.tf_done = False
        self.keras_done = False
        self._lock = threading.RLock()
        self._finder: Optional[_Finder] = None

    # Called after tensorflow or keras finished importing (and at install, if they already were).
    def ready(self) -> None:
        with self._lock:
            if 'tensorflow' in sys.modules and not self.tf_done and _complete('tensorflow'):
                self.tf_done = True
                safely(self.session, 'instrument TensorFlow', self._install_tf)
            if 'keras' in sys.modules and self.tf_done and not self.keras_done and _complete('keras'):
                self.keras_done = True
                safely(self.session, 'instrument Keras', self._install_keras)

    def _install_tf(self) -> None:
        import tensorflow as tf

        from . import function_probe, tape_probe, tf1_probe
        from .steps import StepTracker

        self.tracker = StepTracker(self.session, self.registry, tf)
        self.session.emit({'type': 'backend', 'backend': {
            'name': 'tensorflow', 'tfjsVersion': tf.__version__, 'tfjsSource': 'user',
            'tfjsPath': os.path.dirname(tf.__file__), 'addedKernels': [], 'fallbackKernels': []}})
        tape_probe.install(self.patches, tf, self.registry, self.tracker, self.session, self.frames)
        function_probe.install(self.patches, self.tracker, self.session)
        tf1_probe.install(self.patches, tf, self.registry, self.tracker, self.session, self.frames)
        if 'keras' in sys.modules:
            self.ready()

    def _install_keras(self) -> None:
        import tensorflow as tf

        from . import keras_probe

        keras_probe.install(self.patches, tf, self.registry, self.tracker, self.session)

    def uninstall(self) -> None:
        """Restores every patched method and removes the import hook (tests; the end of a run)."""
        if self.tracker is not None:
            self.tracker.pending_steps = 0
            from . import eager_trace

            eager_trace.stop_current()
        self.patches.undo()
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)


def _complete(name: str) -> bool:
    spec = getattr(sys.modules.get(name), '__spec__', None)
    return not getattr(spec, '_initializing', False)


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any, after: Any):
        self.inner, self.after = inner, after

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        module.__spec__._initializing = False
        self.after()


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the loader of `tensorflow` and `keras` so the probes go in right after either finished importing."""

    def __init__(self, inst: Instrumentation):
        self.inst = inst
        self._busy = threading.local()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _WATCHED or getattr(self._busy, 'on', False):
            return None
        self._busy.on = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.on = False
        if spec is None or spec.loader is None:
            return None
        spec.loader = _Loader(spec.loader, self.inst.ready)
        return spec


def install(session: Any) -> Instrumentation:
    inst = Instrumentation(session)
    inst._finder = _Finder(inst)
    sys.meta_path.insert(0, inst._finder)
    inst.ready()
    return inst
