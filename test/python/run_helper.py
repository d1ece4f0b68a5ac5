"""Runs a script through the real runner (`python src/python/loss_lens_runner <init.json>`) with a real private
channel: a FIFO in a private folder, read by a thread here that decodes the frames as the host does."""
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(ROOT, 'src', 'python', 'loss_lens_runner')
FRAME = re.compile(rb'\x1eLL([0-9a-f]{32}):(\d+)\n')


def decode(data, token):
    """Every frame with this token, in order; anything else is garbage (skipped, as the host's decoder does)."""
    events = []
    at = 0
    while True:
        m = FRAME.search(data, at)
        if not m:
            return events
        start = m.end()
        length = int(m.group(2))
        body = data[start:start + length]
        if m.group(1).decode() == token and data[start + length:start + length + 1] == b'\n':
            events.append(json.loads(body))
        at = start + length


class Run:
    def __init__(self, proc, events, stdout, stderr, work_dir):
        self.code = proc.returncode
        self.events = events
        self.stdout = stdout
        self.stderr = stderr
        self.work_dir = work_dir

    def of(self, kind):
        return [e for e in self.events if e['type'] == kind]

    @property
    def end(self):
        ends = self.of('end')
        assert len(ends) == 1, self.events
        return ends[0]


def run_script(script, args=(), steps=20, cwd=None, python=sys.executable, env=None, timeout=60, control=None, extra=None):
    work_dir = tempfile.mkdtemp(prefix='loss-lens-')
    fifo = os.path.join(work_dir, 'channel')
    os.mkfifo(fifo, 0o600)
    os.mkdir(os.path.join(work_dir, 'control'), 0o700)
    token = secrets.token_hex(16)
    init = {
        'type': 'init', 'protocol': 2, 'scriptPath': os.path.abspath(script), 'args': list(args), 'workDir': work_dir,
        'channel': {'path': fifo, 'token': token}, 'hostPid': os.getpid(), 'transpiled': {}, 'requiredEsm': {},
        'steps': steps, 'backend': 'auto', 'instrument': True, 'weightDecay': 'as-written', 'measureDecay': True,
        'cgroup': None, 'hostOnlyEnv': [],
    }
    init.update(extra or {})
    init_path = os.path.join(work_dir, 'init.json')
    with open(init_path, 'w') as f:
        json.dump(init, f)
    chunks = []
    # Our own writer keeps the FIFO open, so the reader sees EOF only when we close it after the runner exited.
    reader_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    keep_fd = os.open(fifo, os.O_WRONLY)
    os.set_blocking(reader_fd, True)

    def read():
        while True:
            chunk = os.read(reader_fd, 65536)
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    full_env = dict(os.environ)
    full_env['LOSS_LENS_RUN'] = secrets.token_hex(16)
    full_env.update(env or {})
    proc = subprocess.Popen([python, RUNNER, init_path], cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    if control:
        control(proc, work_dir)
    stdout, stderr = proc.communicate(timeout=timeout)
    os.close(keep_fd)
    reader.join(timeout=10)
    os.close(reader_fd)
    return Run(proc, decode(b''.join(chunks), token), stdout.decode(), stderr.decode(), work_dir)
