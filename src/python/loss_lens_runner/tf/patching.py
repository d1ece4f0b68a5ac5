"""Replacing library methods reversibly: every probe wraps through here, so uninstall() restores each original."""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, List, Tuple

_guard = threading.local()


class Patches:
    def __init__(self) -> None:
        self._done: List[Tuple[Any, str, Any, bool]] = []

    def wrap(self, owner: Any, name: str, make: Callable[[Callable], Callable]) -> None:
        """Replace owner.name by make(original); the class's own attribute is restored by undo()."""
        had = name in vars(owner)
        original = vars(owner)[name] if had else getattr(owner, name)
        func = original.__func__ if isinstance(original, (staticmethod, classmethod)) else original
        wrapped = functools.wraps(func)(make(func))
        if isinstance(original, staticmethod):
            wrapped = staticmethod(wrapped)
        elif isinstance(original, classmethod):
            wrapped = classmethod(wrapped)
        setattr(owner, name, wrapped)
        self._done.append((owner, name, original, had))

    def undo(self) -> None:
        for owner, name, original, had in reversed(self._done):
            if had:
                setattr(owner, name, original)
            else:
                try:
                    delattr(owner, name)
                except AttributeError:
                    pass
        self._done.clear()


class reentry:
    """`with reentry('key') as outer:` — outer is False inside a nested call of the same probe (a wrapper calling
    another wrapped method: LossScaleOptimizer.apply calling its inner optimizer's apply)."""

    def __init__(self, key: str):
        self.key = key

    def __enter__(self) -> bool:
        depth = getattr(_guard, self.key, 0)
        setattr(_guard, self.key, depth + 1)
        return depth == 0

    def __exit__(self, *exc: Any) -> None:
        setattr(_guard, self.key, getattr(_guard, self.key) - 1)


def safely(session: Any, what: str, fn: Callable, *args: Any) -> Any:
    """Run probe code so that its failure never breaks the user's training: a notice says what was lost."""
    try:
        return fn(*args)
    except BaseException as err:  # StopRun passes through: it is how the step limit ends the run
        if type(err).__name__ == 'StopRun':
            raise
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        key = f'{what}: {type(err).__name__}'
        seen = getattr(session, '_loss_lens_failures', None)
        if seen is None:
            seen = set()
            try:
                session._loss_lens_failures = seen
            except Exception:
                pass
        if key not in seen:
            seen.add(key)
            session.notice('warning', f'Loss Lens could not {what} ({type(err).__name__}: {err}); the report may miss it.')
        return None
