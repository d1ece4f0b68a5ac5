"""The Python runner's core, through the real runner process and a real FIFO (run_helper.py)."""
import json
import os
import signal
import sys
import textwrap
import time

from run_helper import run_script


def plain_python(script, args=()):
    """The same script under plain `python script.py`, for comparison."""
    import subprocess
    return subprocess.run([sys.executable, script, *args], capture_output=True, text=True, cwd=os.path.dirname(script))


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def test_runs_as_python_script_py_would(tmp_path):
    (tmp_path / 'helper_mod.py').write_text('VALUE = 42\n')
    script = write(tmp_path, 'train.py', '''
        import json, os, sys
        import helper_mod  # found through sys.path[0], the script's folder
        print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "path0": sys.path[0], "file": __file__,
                          "name": __name__, "main_file": sys.modules["__main__"].__file__, "value": helper_mod.VALUE}))
    ''')
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    run = run_script(script, ['--epochs', '3'], cwd=str(elsewhere))
    assert run.code == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen == {'argv': [script, '--epochs', '3'], 'cwd': str(elsewhere), 'path0': str(tmp_path), 'file': script,
                    'name': '__main__', 'main_file': script, 'value': 42}
    assert [e['type'] for e in run.events] == ['hello', 'notice', 'end']
    assert run.events[0]['python'] == sys.version.split()[0]
    assert run.end == {'type': 'end', 'reason': 'completed', 'exitCode': 0, 'exitSource': None}
    # The init file (it holds the channel's token) is gone before the script runs.
    assert not os.path.exists(os.path.join(run.work_dir, 'init.json'))


def test_sys_exit_codes_and_the_line_that_exited(tmp_path):
    script = write(tmp_path, 'exits.py', '''
        import sys
        code = sys.argv[1]
        if code == "none":
            sys.exit()
        sys.exit(int(code) if code.lstrip("-").isdigit() else code)
    ''')
    for arg, status, reason in (('3', 3, 'exit'), ('0', 0, 'completed'), ('none', 0, 'completed'), ('-1', 255, 'exit'), ('bad usage', 1, 'exit')):
        run = run_script(script, [arg])
        assert run.code == status, (arg, run.stderr)
        assert run.code == plain_python(script, [arg]).returncode
        assert run.end['reason'] == reason and run.end['exitCode'] == status, arg
        where = {'line': 5, 'column': 5} if arg == 'none' else {'line': 6, 'column': 1}
        assert run.end['exitSource'] == {'file': script, **where}
    # A non-int code is printed to stderr, as Python does.
    assert 'bad usage' in run_script(script, ['bad usage']).stderr


def test_an_uncaught_exception_prints_pythons_traceback_and_exits_1(tmp_path):
    script = write(tmp_path, 'fails.py', '''
        def build():
            raise ValueError("no such layer")

        build()
    ''')
    run = run_script(script)
    assert run.code == 1
    assert run.stderr.startswith('Traceback (most recent call last):\n  File "%s", line 5, in <module>' % script)
    assert 'runpy' not in run.stderr and 'loss_lens_runner' not in run.stderr
    assert run.stderr.rstrip().endswith('ValueError: no such layer')
    [error] = run.of('error')
    assert error['error']['name'] == 'ValueError' and error['error']['message'] == 'no such layer'
    assert error['error']['source'] == {'file': script, 'line': 3, 'column': 5}
    assert run.end['reason'] == 'error' and run.end['exitCode'] == 1


def test_a_script_that_sets_sys_excepthook_prints_its_own_way(tmp_path):
    script = write(tmp_path, 'hook.py', '''
        import sys
        sys.excepthook = lambda t, v, tb: print("custom:", t.__name__, v, file=sys.stderr)
        raise RuntimeError("x")
    ''')
    run = run_script(script)
    assert run.code == 1
    assert run.stderr == 'custom: RuntimeError x\n'


def test_os_exit_still_ends_the_run(tmp_path):
    script = write(tmp_path, 'hard.py', '''
        import os
        print("buffered, and lost as under plain python")
        os._exit(5)
    ''')
    run = run_script(script)
    assert run.code == 5
    # Lost or not as under plain python (PYTHONUNBUFFERED decides), since os._exit flushes nothing.
    assert run.stdout == plain_python(script).stdout
    assert run.end == {'type': 'end', 'reason': 'exit', 'exitCode': 5, 'exitSource': {'file': script, 'line': 4, 'column': 1}}


def test_keyboard_interrupt_ends_by_sigint_as_python_does(tmp_path):
    script = write(tmp_path, 'interrupted.py', '''
        raise KeyboardInterrupt
    ''')
    run = run_script(script)
    assert run.code == -signal.SIGINT
    assert 'KeyboardInterrupt' in run.stderr
    assert run.of('error')[0]['error']['name'] == 'KeyboardInterrupt'
    assert run.end['reason'] == 'error' and run.end['exitCode'] is None


def test_the_end_comes_after_non_daemon_threads_and_atexit(tmp_path):
    script = write(tmp_path, 'threads.py', '''
        import atexit, threading, time, sys
        atexit.register(lambda: print("atexit ran", flush=True))
        def late():
            time.sleep(0.3)
            print("thread done", flush=True)
            sys.exit(7)  # ends the thread only
        threading.Thread(target=late).start()
    ''')
    run = run_script(script)
    assert run.code == 0
    assert run.stdout == 'thread done\natexit ran\n'
    assert run.end['reason'] == 'completed'


def test_a_polite_stop_ends_a_busy_script_with_stopped(tmp_path):
    script = write(tmp_path, 'busy.py', '''
        print("started", flush=True)
        while True:
            pass
    ''')

    def stop(proc, work_dir):
        time.sleep(1.0)
        with open(os.path.join(work_dir, 'control', 'stop'), 'w') as f:
            f.write('stop')

    run = run_script(script, control=stop)
    assert run.code == 0
    assert run.end == {'type': 'end', 'reason': 'stopped', 'exitCode': 0, 'exitSource': None}


def test_descendants_are_recorded_for_the_host(tmp_path):
    script = write(tmp_path, 'child.py', '''
        import subprocess, time
        p = subprocess.Popen(["sleep", "30"])
        print(p.pid, flush=True)
        time.sleep(1.0)
    ''')
    run = run_script(script)
    assert run.code == 0
    child = int(run.stdout.split()[0])
    with open(os.path.join(run.work_dir, 'descendants')) as f:
        recorded = [line.split(' ') for line in f.read().splitlines()]
    assert str(child) in [pid for pid, _start in recorded]
    os.kill(child, signal.SIGKILL)  # the host would have; this test has no host


def test_tensorflow_missing_says_which_interpreter(tmp_path):
    # The system Python, which has no TensorFlow (this venv's has).
    system = '/usr/bin/python3'
    script = write(tmp_path, 'needs_tf.py', '''
        import tensorflow as tf
    ''')
    run = run_script(script, python=system)
    assert run.code == 1
    assert "ModuleNotFoundError: No module named 'tensorflow'" in run.stderr
    [error] = run.of('error')
    assert error['error']['name'] == 'TensorFlowNotFound'
    assert os.path.realpath(system) in error['error']['message'] or system in error['error']['message']
    assert '--python' in error['error']['message'] and 'lossLens.pythonPath' in error['error']['message']
    assert error['error']['source'] == {'file': script, 'line': 2, 'column': 1}


def test_a_bad_init_file_is_refused_before_any_user_code(tmp_path):
    import subprocess
    from run_helper import RUNNER
    r = subprocess.run([sys.executable, RUNNER, str(tmp_path / 'missing.json')], capture_output=True, text=True)
    assert r.returncode == 2
    assert 'start me through the Loss Lens host' in r.stderr


def test_sys_path_is_pythons_own_for_the_script(tmp_path):
    script = write(tmp_path, 'paths.py', '''
        import json, sys
        print(json.dumps(sys.path))
    ''')
    run = run_script(script)
    plain = plain_python(script)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout) == json.loads(plain.stdout)
    # Under PYTHONSAFEPATH, Python puts no script folder first; neither does the runner.
    safe = run_script(script, env={'PYTHONSAFEPATH': '1'})
    import subprocess
    plain_safe = subprocess.run([sys.executable, script], capture_output=True, text=True, env={**os.environ, 'PYTHONSAFEPATH': '1'})
    assert json.loads(safe.stdout) == json.loads(plain_safe.stdout)
