"""`python <…>/src/python/loss_lens_runner <init.json>` (the engine's launch) or `python -m loss_lens_runner
<init.json>`. Python put its own first entry on sys.path for the launch (this folder; or the cwd under -m, except
under -P / PYTHONSAFEPATH): it goes, so that script.prepare can put the script's folder there, as
`python script.py` would. Launched by path, the package's parent is on sys.path just long enough to import it
(its submodules load through the package's own __path__ after that)."""
import os
import sys

_SAFE_PATH = bool(getattr(sys.flags, 'safe_path', False))

if not __package__:
    _here = os.path.dirname(os.path.realpath(__file__))
    # Python puts a directory it runs first on sys.path even under -P.
    if sys.path and os.path.realpath(sys.path[0] or os.curdir) == _here:
        del sys.path[0]
    sys.path.insert(0, os.path.dirname(_here))
    from loss_lens_runner.runtime import main  # noqa: E402

    del sys.path[0]
else:
    if not _SAFE_PATH and sys.path:
        del sys.path[0]
    from .runtime import main  # noqa: E402

main()
