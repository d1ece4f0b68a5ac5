"""Runs one script under the TF probes with a MemorySession, in its own process (TF1 scripts switch TensorFlow to
graph mode for good), and writes what the session kept as JSON: `python instrumented_run.py script out.json steps
[weight-decay mode]`."""
import json
import os
import runpy
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'src', 'python'))

from loss_lens_runner import tf as probes  # noqa: E402
from loss_lens_runner.session import MemorySession, StopRun  # noqa: E402

script, out, steps = os.path.abspath(sys.argv[1]), sys.argv[2], int(sys.argv[3])
options = {'steps': steps}
if len(sys.argv) > 4:
    options['weightDecay'] = sys.argv[4]
session = MemorySession(script, options)
inst = probes.install(session)
stop = None
sys.argv = [script]
sys.path[0] = os.path.dirname(script)
try:
    runpy.run_path(script, run_name='__main__')
except StopRun as err:
    stop = err.reason
with open(out, 'w', encoding='utf-8') as f:
    json.dump({'events': session.events, 'invalid': session.invalid, 'schemaChecked': session.schema_checked,
               'stop': stop, 'tensorflowImported': 'tensorflow' in sys.modules}, f)
