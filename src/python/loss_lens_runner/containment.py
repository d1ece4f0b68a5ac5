"""The runner's side of keeping a run contained (the host's side: src/engine/containment.ts), for Python.

- Before any user code: join the run's cgroup (Linux, when the host made one), so every process the script
  starts is in it.
- Without a cgroup: record the run's descendants as `pid starttime` lines while they are still ours (the format
  src/engine/descendants.ts reads), so a child that was re-parented when the runner exited is still found.
- When the host is gone (the CLI was SIGKILLed, the extension host crashed), nobody is left to stop the run: the
  runner kills every process of it itself (the cgroup, the run's mark in /proc/*/environ, the recorded
  descendants) and then its own process group. The Node runner starts a Node reaper for this; a Python run may
  have no Node to start, so it is done here, every kill a SIGKILL, before this process kills itself last.
"""
import os
import signal
import sys
import time

_IS_LINUX = sys.platform.startswith('linux')


def join_cgroup(directory):
    """Moves this process into the run's cgroup; False when there is none or the kernel refused."""
    if not directory or not _IS_LINUX:
        return False
    try:
        with open(os.path.join(directory, 'cgroup.procs'), 'w') as f:
            f.write('0')  # "0" is the writing process itself, with all its threads
        return True
    except OSError:
        return False


def _children_of(pid):
    out = []
    try:
        tasks = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return out
    for tid in tasks:
        try:
            with open('/proc/%d/task/%s/children' % (pid, tid)) as f:
                out.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass  # the thread or the process is gone
    return out


def start_time_of(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rfind(')') + 2:].split(' ')
    return fields[19] if len(fields) > 19 else None


def descendants_of(root):
    seen = {root}
    queue = [root]
    out = []
    while queue:
        for child in _children_of(queue.pop()):
            if child not in seen:
                seen.add(child)
                queue.append(child)
                out.append(child)
    return out


class DescendantRecord:
    """Appends this process's descendants not recorded yet to the run's `descendants` file (Linux)."""

    def __init__(self, path):
        self.path = path
        self._known = set()

    def record(self):
        if not self.path or not _IS_LINUX:
            return
        fresh = []
        for pid in descendants_of(os.getpid()):
            start = start_time_of(pid)
            line = '%d %s' % (pid, start)
            if start is not None and line not in self._known:
                self._known.add(line)
                fresh.append(line + '\n')
        if not fresh:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, ''.join(fresh).encode('ascii'))
            finally:
                os.close(fd)
        except OSError:
            pass  # the run's folder is gone: the host already cleaned up


def host_gone(host_pid, parent_pid):
    """The runner was re-parented (its host died) or the host's pid no longer exists."""
    if os.name != 'nt' and os.getppid() != parent_pid:
        return True
    try:
        os.kill(host_pid, 0)
        return False
    except ProcessLookupError:
        return True
    except OSError:
        return False


def _marked(mark_env, mark):
    """Pids whose environment carries the run's mark (every process of the run inherits it)."""
    needle = ('%s=%s' % (mark_env, mark)).encode()
    out = []
    try:
        entries = os.listdir('/proc')
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/environ' % entry, 'rb') as f:
                if needle in f.read().split(b'\0'):
                    out.append(int(entry))
        except OSError:
            pass
    return out


def _recorded(path):
    out = []
    try:
        with open(path) as f:
            lines = f.read().split('\n')
    except OSError:
        return out
    for line in lines:
        parts = line.split(' ')
        if len(parts) == 2 and parts[0].isdigit() and start_time_of(int(parts[0])) == parts[1]:
            out.append(int(parts[0]))
    return out


def _cgroup_members(directory):
    try:
        with open(os.path.join(directory, 'cgroup.procs')) as f:
            return [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []


def reap_run(watch):
    """Kills every process of the run but this one, removes the run's folder and cgroup, then kills this
    process's group (itself included). Never returns."""
    me = os.getpid()
    cgroup = watch.get('cgroup')
    if cgroup:
        # Out of the run's cgroup first, so that it can be removed once its members are gone.
        join_cgroup(os.path.dirname(cgroup))
    for _ in range(2):  # twice: a process may have forked while the first sweep ran
        victims = set(descendants_of(me))
        if _IS_LINUX:
            victims.update(_marked(watch['mark_env'], watch['mark']))
            if watch.get('record_file'):
                victims.update(_recorded(watch['record_file']))
            if cgroup:
                victims.update(_cgroup_members(cgroup))
        victims.discard(me)
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    if cgroup:
        deadline = time.monotonic() + 2
        while _cgroup_members(cgroup) and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            os.rmdir(cgroup)
        except OSError:
            pass
    work_dir = watch.get('work_dir') or ''
    if 'loss-lens-' in os.path.basename(work_dir):
        import shutil  # noqa: PLC0415

        shutil.rmtree(work_dir, ignore_errors=True)
    try:
        os.killpg(os.getpgid(0), signal.SIGKILL)
    except OSError:
        pass
    os.kill(me, signal.SIGKILL)
