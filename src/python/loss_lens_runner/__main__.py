"""`python <…>/src/python/loss_lens_runner <init.json>` (the engine's launch) or `python -m loss_lens_runner
<init.json>`. Launched by path, sys.path[0] is this folder: the package's parent goes there just long enough
to import the runner, then the script's own folder takes the place (script.prepare)."""
import os
import sys

if not __package__:
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from loss_lens_runner.runtime import main  # noqa: E402

main()
