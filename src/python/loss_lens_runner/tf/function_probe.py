"""`tf.function` calls: a step recorded while a function ran counts once it has returned, on the caller's thread."""
from __future__ import annotations

from typing import Any

from .patching import Patches


def install(patches: Patches, tracker: Any, session: Any) -> None:
    from tensorflow.python.eager.polymorphic_function import polymorphic_function

    said = []

    def call(orig):
        def __call__(self, *args, **kwargs):
            if getattr(self, '_jit_compile', None):
                # XLA cannot compile the py_function that reads each step's values: the function runs as ordinary
                # TensorFlow instead (same results, no XLA speed-up), and the run says so.
                self._jit_compile = False
                if not said:
                    said.append(True)
                    session.notice('info', 'Loss Lens runs tf.function(jit_compile=True) without XLA: its probes read values through py_function.')
            tracker.function_depth += 1
            try:
                return orig(self, *args, **kwargs)
            finally:
                tracker.function_depth -= 1
                if tracker.function_depth == 0 and tracker.pending_steps:
                    tracker.flush()
        return __call__

    patches.wrap(polymorphic_function.Function, '__call__', call)
