"""`tf.function` calls: a step recorded while a function ran counts once it has returned, on the caller's thread."""
from __future__ import annotations

from typing import Any

from .patching import Patches


def install(patches: Patches, tracker: Any) -> None:
    from tensorflow.python.eager.polymorphic_function import polymorphic_function

    def call(orig):
        def __call__(self, *args, **kwargs):
            tracker.function_depth += 1
            try:
                return orig(self, *args, **kwargs)
            finally:
                tracker.function_depth -= 1
                if tracker.function_depth == 0 and tracker.pending_steps:
                    tracker.flush()
        return __call__

    patches.wrap(polymorphic_function.Function, '__call__', call)
