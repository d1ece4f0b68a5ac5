"""The runner's end of the private telemetry channel (src/engine/private-channel.ts is the host's end).

One frame per event, `\\x1eLL<token>:<length>\\n<json>\\n` (src/shared/protocol/telemetry-frame.ts), written
synchronously: a training loop that never yields still delivers every event, and nothing is queued that an
`os._exit` could drop. The FIFO is opened by path and is not inheritable (Python's default for os.open), so the
script's children never hold it.
"""
import errno
import json
import math
import os
import threading
import time

# Taken when the runner loads, before any user code: a script that replaces os.write or json.dumps (to log, to
# mock) changes its own calls, never the events.
_write = os.write
_open = os.open
_fstat = os.fstat
_dumps = json.dumps
_getpid = os.getpid
_sleep = time.sleep
_isfinite = math.isfinite


def wire_value(value):
    """The event with non-finite floats as the wire's strings ("NaN", "Infinity", "-Infinity"; wire-number.ts)."""
    if isinstance(value, float):
        if _isfinite(value):
            return value
        if value != value:
            return 'NaN'
        return 'Infinity' if value > 0 else '-Infinity'
    if isinstance(value, dict):
        return {str(k): wire_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire_value(v) for v in value]
    return value


def encode(event, token):
    """One frame. ASCII JSON: every control character is escaped, so a raw 0x1e never appears inside."""
    body = _dumps(wire_value(event), ensure_ascii=True, allow_nan=False, separators=(',', ':')).encode('ascii')
    return b'\x1eLL' + token.encode('ascii') + b':' + str(len(body)).encode('ascii') + b'\n' + body + b'\n'


class ChannelLost(Exception):
    """Nobody reads the channel any more (the host is gone)."""


class Channel:
    """Thread-safe framed writer. Only the process that opened it writes: a forked child's sends are dropped."""

    def __init__(self, path, token):
        self._path = path
        self._token = token
        self._lock = threading.Lock()
        self._pid = _getpid()
        self._fd = _open(path, os.O_WRONLY)
        self._identity = self._identity_of(self._fd)
        self.closed = False

    def send(self, event, lock_timeout=-1):
        """Writes one event; raises ChannelLost when the reader is gone. `lock_timeout` (s) for the watchdog's end."""
        if self.closed or _getpid() != self._pid:
            return
        data = encode(event, self._token)
        if not self._lock.acquire(timeout=lock_timeout):
            return
        try:
            self._ensure_ours()
            view = memoryview(data)
            reopened = 0
            while view:
                try:
                    view = view[_write(self._fd, view):]
                except BlockingIOError:
                    # The host is behind: wait for it instead of dropping the event.
                    _sleep(0.002)
                except OSError as err:
                    if err.errno in (errno.EBADF, errno.EINVAL) and reopened < 3 and self._reopen():
                        reopened += 1
                        continue
                    self.closed = True
                    raise ChannelLost(str(err)) from None
        finally:
            self._lock.release()

    def _ensure_ours(self):
        # The script may have closed our descriptor and got the same number for a file of its own: our events must
        # never land there. Same device and inode, or the channel is opened again by path.
        if self._identity_of(self._fd) != self._identity:
            self._reopen()

    def _reopen(self):
        try:
            # The old number is the script's now (or nothing): never close it. Non-blocking, so a channel whose
            # reader is gone says so (ENXIO) instead of waiting forever for one.
            self._fd = _open(self._path, os.O_WRONLY | os.O_NONBLOCK)
            self._identity = self._identity_of(self._fd)
            return True
        except OSError:
            return False

    @staticmethod
    def _identity_of(fd):
        try:
            s = _fstat(fd)
            return (s.st_dev, s.st_ino)
        except OSError:
            return None
