"""Runs the user's script as `python script.py args…` would, and says how it ended.

- `runpy.run_path(script, run_name='__main__')`: the script is `__main__`, with its own `__file__`;
- `sys.argv = [script, *args]`; the working folder is left as the host set it (the user's);
- `sys.path[0]` is the script's folder (symlinks resolved, as Python does), not the runner's.
"""
import os
import runpy
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_RUNPY = os.path.abspath(runpy.__file__)
_LIBRARY_PARTS = (os.sep + 'site-packages' + os.sep, os.sep + 'dist-packages' + os.sep)


class Outcome:
    """How the script's top level ended: kind is 'completed', 'exit' (SystemExit), 'error' or 'interrupt'."""

    def __init__(self, kind, code=0, exc=None, source=None):
        self.kind = kind
        self.code = code
        self.exc = exc
        self.source = source


def prepare(script_path, args):
    sys.argv = [script_path, *args]
    # The launch's own entry is gone already (__main__.py); Python puts the script's folder first (symlinks
    # resolved), unless -P / PYTHONSAFEPATH asks it not to.
    if not getattr(sys.flags, 'safe_path', False):
        sys.path.insert(0, os.path.dirname(os.path.realpath(script_path)))


def run(script_path, args):
    prepare(script_path, args)
    try:
        runpy.run_path(script_path, run_name='__main__')
    except SystemExit as exc:
        exc.__traceback__ = user_traceback(exc.__traceback__, script_path)
        return Outcome('exit', exit_status(exc.code), exc, innermost_user_frame(exc.__traceback__, script_path))
    except KeyboardInterrupt as exc:
        exc.__traceback__ = user_traceback(exc.__traceback__, script_path)
        return Outcome('interrupt', None, exc, innermost_user_frame(exc.__traceback__, script_path))
    except BaseException as exc:  # noqa: BLE001 - every other way out is the script's uncaught error
        exc.__traceback__ = user_traceback(exc.__traceback__, script_path)
        return Outcome('error', 1, exc, innermost_user_frame(exc.__traceback__, script_path))
    return Outcome('completed', 0)


def exit_status(code):
    """The status the process ends with for SystemExit(code), as Python's own exit: None 0, an int its low byte
    (what the OS keeps), anything else 1 (Python prints it)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


def _ours(filename):
    if filename.startswith('<frozen runpy'):  # runpy is a frozen module from 3.11
        return True
    path = os.path.abspath(filename)
    return path == _RUNPY or path.startswith(_HERE + os.sep)


def user_traceback(tb, script_path):
    """The traceback without the runner's and runpy's frames on top, as `python script.py` would print it."""
    while tb is not None and _ours(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def is_user_file(filename, script_path):
    if not filename or filename.startswith('<'):
        return False
    path = os.path.abspath(filename)
    if path == os.path.abspath(script_path):
        return True
    root = os.path.dirname(os.path.abspath(script_path))
    return path.startswith(root + os.sep) and not any(p in path for p in _LIBRARY_PARTS) and not _ours(path)


def innermost_user_frame(tb, script_path):
    """{file, line, column} (1-based) of the innermost frame in the user's own files, or None."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if is_user_file(code.co_filename, script_path):
            found = (code, tb.tb_lasti, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return None
    code, lasti, line = found
    return {'file': os.path.abspath(code.co_filename), 'line': line or 1, 'column': _column(code, lasti)}


def frame_position(frame, script_path):
    """The innermost user frame at or above `frame` (a call site), or None."""
    while frame is not None:
        if is_user_file(frame.f_code.co_filename, script_path):
            return {'file': os.path.abspath(frame.f_code.co_filename), 'line': frame.f_lineno or 1, 'column': _column(frame.f_code, frame.f_lasti)}
        frame = frame.f_back
    return None


def _column(code, lasti):
    positions = getattr(code, 'co_positions', None)  # Python 3.11+
    if positions is None or lasti < 0:
        return 1
    for i, pos in enumerate(positions()):
        if i == lasti // 2:
            return (pos[2] or 0) + 1
    return 1
