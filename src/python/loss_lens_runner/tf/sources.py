"""Source positions from Python's own frames: the first frame in the user's code, and the name a line assigns."""
from __future__ import annotations

import linecache
import os
import re
import sys
import sysconfig
from typing import Optional

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple(
    os.path.normcase(os.path.abspath(p))
    for p in {sysconfig.get_paths().get(k) for k in ('stdlib', 'platstdlib', 'purelib', 'platlib')}
    if p
)
_ASSIGN = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]*)?=(?!=)')


class UserFrames:
    """Decides which files are the user's: under the script's folder, and not a library or this package."""

    def __init__(self, script_path: str):
        self.script_path = os.path.abspath(script_path)
        self.root = os.path.dirname(self.script_path)
        self._cache: dict = {}

    def is_user_file(self, filename: str) -> bool:
        hit = self._cache.get(filename)
        if hit is not None:
            return hit
        path = os.path.normcase(os.path.abspath(filename)) if filename and not filename.startswith('<') else ''
        ok = bool(path) and (
            path == os.path.normcase(self.script_path)
            or (
                path.startswith(os.path.normcase(self.root) + os.sep)
                and not path.startswith(os.path.normcase(_PACKAGE_DIR))
                and not any(path.startswith(d) for d in _LIBRARY_DIRS)
                and 'site-packages' not in path
            )
        )
        self._cache[filename] = ok
        return ok

    def position(self, skip: int = 1) -> Optional[dict]:
        """The innermost frame of the current stack that is in the user's code."""
        frame = sys._getframe(skip)
        while frame is not None:
            if self.is_user_file(frame.f_code.co_filename):
                return {'file': os.path.abspath(frame.f_code.co_filename), 'line': frame.f_lineno, 'column': 1}
            frame = frame.f_back
        return None

    def from_traceback(self, traceback) -> Optional[dict]:
        """A graph op's creation stack (Operation.traceback, outermost first): its innermost user frame."""
        try:
            frames = list(traceback)
        except Exception:
            return None
        for fr in reversed(frames):
            filename, lineno = (fr.filename, fr.lineno) if hasattr(fr, 'filename') else (fr[0], fr[1])
            if self.is_user_file(filename):
                return {'file': os.path.abspath(filename), 'line': int(lineno), 'column': 1}
        return None


def assigned_name(position: Optional[dict]) -> Optional[str]:
    """`total_loss = tf.add_n(...)` at that line gives `total_loss`; a line assigning nothing gives None."""
    if not position:
        return None
    m = _ASSIGN.match(linecache.getline(position['file'], position['line']))
    return m.group(1) if m else None


def named_site(position: Optional[dict]) -> Optional[dict]:
    return None if position is None else {**position, 'name': assigned_name(position)}
