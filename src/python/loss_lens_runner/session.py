"""The Session the probes emit runner events through (issue 23's contract).

pytf's minimal version, API-compatible with the one pyengine owns (theirs wins at merge): `emit`, `step_finished`,
`notice`, `StopRun`, and `MemorySession`, the same Session keeping events in a list instead of writing the FIFO.
"""
from __future__ import annotations

import json
import math
import threading
from typing import Any, Callable, Optional


class StopRun(BaseException):
    """Raised by step_finished(): a BaseException, so a script's `except Exception` does not swallow it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def to_wire(value: Any) -> Any:
    """Non-finite floats travel as the strings "NaN", "Infinity", "-Infinity" (src/shared/protocol/wire-number.ts)."""
    if isinstance(value, float):
        if math.isnan(value):
            return 'NaN'
        if math.isinf(value):
            return 'Infinity' if value > 0 else '-Infinity'
        return value
    if isinstance(value, dict):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


class Session:
    def __init__(self, script_path: str, options: Optional[dict] = None, sink: Optional[Callable[[str], None]] = None):
        self.script_path = script_path
        self.options = dict(options or {})
        self._sink = sink
        self._lock = threading.Lock()
        self._steps = 0
        self._stop_requested = False
        self.send_failures = 0

    def emit(self, event: dict) -> None:
        try:
            line = json.dumps(to_wire(event), allow_nan=False)
            with self._lock:
                if self._sink is not None:
                    self._sink(line)
        except Exception:  # never raise into user code: the run ends incomplete instead
            self.send_failures += 1

    def notice(self, level: str, message: str) -> None:
        self.emit({'type': 'notice', 'level': level, 'message': message})

    def request_stop(self) -> None:
        self._stop_requested = True

    def step_finished(self) -> None:
        self._steps += 1
        limit = self.options.get('steps')
        if self._stop_requested:
            raise StopRun('stopped')
        if isinstance(limit, int) and self._steps >= limit:
            raise StopRun('step-limit')


def _load_validator():
    """The JSON Schema generated from zod (schema/runner-events.schema.json), when it exists and jsonschema is importable."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, '..', '..', '..'))
    path = os.path.join(root, 'schema', 'runner-events.schema.json')
    try:
        import jsonschema  # type: ignore
    except ImportError:
        return None
    if not os.path.exists(path):
        return None
    with open(path, encoding='utf-8') as f:
        schema = json.load(f)
    return jsonschema.Draft202012Validator(schema) if '2020-12' in str(schema.get('$schema', '')) else jsonschema.Draft7Validator(schema)


class MemorySession(Session):
    """The Session with a list for a sink: each event is validated, then kept (parsed back) in `.events`."""

    def __init__(self, script_path: str, options: Optional[dict] = None):
        super().__init__(script_path, options, sink=self._keep)
        self.events: list = []
        #: Events the schema rejected, with why: tests assert it stays empty (emit itself never raises).
        self.invalid: list = []
        self._validator = _load_validator()

    @property
    def schema_checked(self) -> bool:
        return self._validator is not None

    def _keep(self, line: str) -> None:
        event = json.loads(line)
        if self._validator is not None:
            errors = [e.message for e in self._validator.iter_errors(event)]
            if errors:
                self.invalid.append((event.get('type'), errors))
        self.events.append(event)
