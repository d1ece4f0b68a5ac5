"""The runner's main: read init.json (and delete it), join the run's containment, open the channel, say hello,
install the TensorFlow probes (lazily: `loss_lens_runner.tf`), run the script as `python script.py` would, and
end with exactly one `end` event and the exit status plain Python gives."""
import atexit
import json
import os
import signal
import sys

from . import script as user_script
from .channel import Channel, ChannelLost
from .containment import host_gone, join_cgroup, reap_run
from .session import RUNNER_PROTOCOL_VERSION, Session, StopRun
from . import watchdog

RUN_MARK_ENV = 'LOSS_LENS_RUN'
RUN_FILES = {'control': 'control', 'stop': 'stop', 'descendants': 'descendants'}
CHANNEL_LOST_EXIT = 70
TF_MODULES = ('tensorflow', 'keras', 'tf_keras')

_real_exit = os._exit
_pid = os.getpid()


def _say(message, code):
    sys.stderr.write('loss-lens runner: %s\n' % message)
    sys.stderr.flush()
    _real_exit(code)


def read_init(argv):
    path = argv[1] if len(argv) > 1 else ''
    try:
        with open(path, encoding='utf-8') as f:
            init = json.load(f)
        # It holds the channel's path and token: gone before any user code runs, so the script cannot read the
        # token and forge an `end`. The token then lives only in this process's memory.
        os.unlink(path)
    except (OSError, ValueError) as err:
        _say('start me through the Loss Lens host (no init file: %s).' % err, 2)
    if not isinstance(init, dict) or init.get('type') != 'init' or init.get('protocol') != RUNNER_PROTOCOL_VERSION:
        _say('a bad init file (not an init command of protocol %d).' % RUNNER_PROTOCOL_VERSION, 2)
    for key, kind in (('scriptPath', str), ('workDir', str), ('channel', dict), ('hostPid', int), ('steps', int)):
        if not isinstance(init.get(key), kind):
            _say('a bad init file: %s is missing or not a %s.' % (key, kind.__name__), 2)
    return init


def _flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or broken stream: Python's own exit would not fail on it either
            pass


def _error_event(exc, source):
    import traceback  # noqa: PLC0415

    name = type(exc).__name__
    message = str(exc)
    if isinstance(exc, ModuleNotFoundError) and (exc.name or '').split('.')[0] in TF_MODULES:
        name = 'TensorFlowNotFound'
        message = (
            "The script imports %s, which the interpreter that ran it does not have: %s (Python %s). Install it "
            "there (%s -m pip install tensorflow), or choose an interpreter that has it: loss-lens analyze --python "
            "PATH, the lossLens.pythonPath setting, or the interpreter selected in VS Code's Python extension."
            % (exc.name, sys.executable, sys.version.split()[0], sys.executable)
        )
    stack = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return {'type': 'error', 'error': {'name': name, 'message': message, 'stack': stack, 'source': source}}


def main():
    init = read_init(sys.argv)
    script_path = init['scriptPath']
    contained = join_cgroup(init.get('cgroup'))
    # The script gets the environment `python script.py` would have had.
    for name in init.get('hostOnlyEnv') or []:
        os.environ.pop(name, None)
    mark = os.environ.get(RUN_MARK_ENV)
    watch = {
        'host_pid': init['hostPid'],
        'parent_pid': os.getppid(),
        'mark': mark or '',
        'mark_env': RUN_MARK_ENV,
        'work_dir': init['workDir'],
        'cgroup': init.get('cgroup') if contained else None,
        'control_dir': os.path.join(init['workDir'], RUN_FILES['control']),
        'stop_file': RUN_FILES['stop'],
        'record_file': None if contained or not sys.platform.startswith('linux') else os.path.join(init['workDir'], RUN_FILES['descendants']),
    }
    try:
        channel = Channel(init['channel']['path'], init['channel']['token'])
    except (OSError, KeyError, TypeError) as err:
        _say('could not open the private channel: %s' % err, 2)

    def send(event):
        try:
            channel.send(event, lock_timeout=-1 if event.get('type') != 'end' else 1.0)
        except ChannelLost:
            # Nobody reads the channel any more: if the host is gone, the whole run goes (as the watchdog would).
            if mark and host_gone(watch['host_pid'], watch['parent_pid']):
                reap_run(watch)
            _real_exit(CHANNEL_LOST_EXIT)

    def end_now(reason):
        """A step limit or a stop: the run ends here, whatever thread asks (the Node runner's realExit)."""
        if os.getpid() != _pid:
            raise StopRun(reason)
        if record is not None:
            record.record()
        session.end(reason, 0)
        _flush_std()
        _real_exit(0)

    record = None
    session = Session(script_path, init, send, on_stop=end_now)
    session.emit({'type': 'hello', 'protocol': RUNNER_PROTOCOL_VERSION, 'pid': os.getpid(), 'python': sys.version.split()[0]})
    session.notice('info', 'Python %s (%s) runs the script.' % (sys.version.split()[0], sys.executable))
    if mark:
        record = watchdog.start(watch, lambda: (session.request_stop(), end_now('stopped')))

    state = {'outcome': None}

    def os_exit(code):
        # The script's os._exit(n): no atexit, no flush, as under plain Python; the run's end still goes out.
        if os.getpid() == _pid and isinstance(code, int):  # a non-int: os._exit's own TypeError, the run goes on
            frame = sys._getframe(1)
            status = code & 0xFF
            session.end('completed' if status == 0 else 'exit', status, user_script.frame_position(frame, script_path))
            if record is not None:
                record.record()
        _real_exit(code)

    def at_exit():
        # Registered before the script runs, so it runs after every atexit function of the script's (LIFO), and
        # after Python waited for the script's non-daemon threads: the end is the real end.
        outcome = state['outcome']
        if record is not None:
            record.record()
        if outcome is None:
            session.end('error', 1)
        elif outcome.kind == 'interrupt':
            session.end('error', None)
            # Python's own exit for an uncaught KeyboardInterrupt: the process dies by SIGINT (status -2 / 130).
            _flush_std()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        elif outcome.kind == 'error':
            session.end('error', 1)
        else:
            session.end('completed' if outcome.code == 0 else 'exit', outcome.code, outcome.source if outcome.kind == 'exit' else None)

    atexit.register(at_exit)
    os._exit = os_exit
    if init.get('instrument', True):
        try:
            from . import tf as tf_probes  # noqa: PLC0415
        except ImportError:
            tf_probes = None
        if tf_probes is not None and hasattr(tf_probes, 'install'):
            try:
                tf_probes.install(session)
            except Exception as err:  # noqa: BLE001 - the script still runs, as plain Python would run it
                session.notice('warning', 'Loss Lens could not instrument TensorFlow (%s: %s): the script runs without its probes.' % (type(err).__name__, err))

    outcome = user_script.run(script_path, init.get('args') or [])
    state['outcome'] = outcome
    if outcome.kind == 'completed':
        return
    exc = outcome.exc
    if isinstance(exc, StopRun):
        end_now(exc.reason)
    if outcome.kind == 'exit':
        # The same SystemExit, raised again from the top: Python prints a non-int code and exits as it would.
        raise SystemExit(exc.code)
    session.emit(_error_event(exc, outcome.source))
    # Printed by the script's sys.excepthook if it set one, as Python does.
    sys.excepthook(type(exc), exc, exc.__traceback__)
    if outcome.kind == 'error':
        raise SystemExit(1)
    # A KeyboardInterrupt: at_exit ends the process by SIGINT after Python's own shutdown.
    raise SystemExit(0)
