"""The Session the probes emit through (the API in the contract between the core and `loss_lens_runner.tf`).

`Session` sends each event to a sink: the private channel in a real run (`__main__`), a list in `MemorySession`
(tests of the probes: the same code, with a list instead of the FIFO).
"""
import json
import os
import threading

RUNNER_PROTOCOL_VERSION = 2


class StopRun(BaseException):
    """The run ends here: the step limit was reached or the host asked to stop. A BaseException, so that a
    script's `except Exception` does not swallow it."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason  # 'step-limit' | 'stopped'


class Session:
    """One run's events. `send(event)` is the sink; `on_stop(reason)` ends the run when a step limit or a stop is
    reached (default: raise StopRun; the real runner ends the process there, as the Node runner does)."""

    def __init__(self, script_path, options, send, on_stop=None):
        self.script_path = script_path
        self.options = dict(options)
        self._send = send
        self._on_stop = on_stop
        self._lock = threading.Lock()
        self._steps = 0
        self._stop_requested = False
        self.ended = False
        self._ending = False
        #: Why sending failed, if it did: the run is then incomplete (the host sees no end event).
        self.send_error = None
        self._end_hooks = []

    @property
    def steps_taken(self):
        return self._steps

    def emit(self, event):
        """Sends one event (wire form). Thread-safe; never raises into user code. Nothing goes after the end."""
        if self.ended:
            return
        self._send_anyway(event)

    def _send_anyway(self, event):
        try:
            self._send(event)
        except Exception as err:  # noqa: BLE001 - a failure to send must never surface in the user's script
            if self.send_error is None:
                self.send_error = '%s: %s' % (type(err).__name__, err)

    def notice(self, level, message):
        self.emit({'type': 'notice', 'level': level, 'message': str(message)})

    def request_stop(self):
        """The host asked to stop: the next step_finished ends the run (the watchdog may end it sooner)."""
        self._stop_requested = True

    def step_finished(self):
        """Probes call it after each optimizer step's events were emitted."""
        with self._lock:
            self._steps += 1
            steps = self._steps
        limit = self.options.get('steps')
        if self._stop_requested:
            self._stop('stopped')
        elif isinstance(limit, int) and steps >= limit:
            self._stop('step-limit')

    def _stop(self, reason):
        if self._on_stop is not None:
            self._on_stop(reason)
        raise StopRun(reason)

    def before_end(self, hook):
        """`hook(reason)` runs once just before the `end` event, however the run ends (completed, exit, error,
        step limit, stop): the probes' last events (layers not sent yet, a decay measurement cut short) go out
        before the end. A hook that raises is skipped; the end still goes out."""
        self._end_hooks.append(hook)

    def end(self, reason, exit_code, source=None):
        """The run's one `end` event; later calls do nothing. Returns whether this call sent it."""
        with self._lock:
            if self._ending:
                return False
            self._ending = True
        for hook in self._end_hooks:
            try:
                hook(reason)
            except Exception:  # noqa: BLE001 - a probe's failure must not cost the run its end
                pass
        self.ended = True
        self._send_anyway({'type': 'end', 'reason': reason, 'exitCode': exit_code, 'exitSource': source})
        return True


def _runner_events_schema():
    """The JSON Schema generated from the zod runner events (schema/runner-events.schema.json), if it is here."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get('LOSS_LENS_RUNNER_EVENTS_SCHEMA', ''), os.path.join(here, '..', '..', '..', 'schema', 'runner-events.schema.json')]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            with open(candidate, encoding='utf-8') as f:
                return json.load(f)
    return None


class MemorySession(Session):
    """A Session whose sink is a list (`.events`, in wire form), each event checked against the runner-events JSON
    Schema when `jsonschema` and the schema are available (`.schema_checked`). An event the schema rejects is still
    kept, and listed in `.invalid` as (type, [errors]): emit never raises, as in a real run; tests assert `.invalid`
    stays empty. A real sink, not a mock: the same Session code with a list instead of the FIFO."""

    def __init__(self, script_path, options=None, schema=None):
        self.events = []
        self.invalid = []
        self._validator = None
        try:
            import jsonschema  # noqa: PLC0415 - optional: the user's environment need not have it
        except ImportError:
            jsonschema = None
        schema = schema if schema is not None else _runner_events_schema()
        if jsonschema is not None and schema is not None:
            self._validator = jsonschema.validators.validator_for(schema)(schema)
        super().__init__(script_path, options if options is not None else {}, self._append)

    @property
    def schema_checked(self):
        return self._validator is not None

    def _append(self, event):
        from .channel import wire_value  # noqa: PLC0415

        wire = json.loads(json.dumps(wire_value(event), allow_nan=False))
        if self._validator is not None:
            errors = [e.message for e in self._validator.iter_errors(wire)]
            if errors:
                self.invalid.append((wire.get('type'), errors))
        self.events.append(wire)
