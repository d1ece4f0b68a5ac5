"""Session, MemorySession and the channel's encoding, without a process."""
import json
import math
import os

import pytest

from loss_lens_runner.channel import Channel, encode, wire_value
from loss_lens_runner.session import MemorySession, Session, StopRun


def test_non_finite_numbers_go_as_the_wire_strings():
    assert wire_value({'a': [math.nan, math.inf, -math.inf, 1.5], 'b': (2,)}) == {'a': ['NaN', 'Infinity', '-Infinity', 1.5], 'b': [2]}


def test_a_frame_is_header_length_json_newline_and_never_holds_a_raw_separator():
    token = 'ab' * 16
    frame = encode({'type': 'notice', 'level': 'info', 'message': 'a\x1eb ü'}, token)
    header, body, tail = frame.split(b'\n')
    assert header == b'\x1eLL' + token.encode() + b':' + str(len(body)).encode()
    assert tail == b''
    assert frame.count(b'\x1e') == 1
    assert json.loads(body)['message'] == 'a\x1eb ü'


def test_step_limit_raises_stop_run_which_except_exception_does_not_catch():
    session = MemorySession('/x/train.py', {'steps': 2})
    session.step_finished()
    with pytest.raises(StopRun) as stopped:
        try:
            session.step_finished()
        except Exception:  # noqa: BLE001 - what a script's broad handler does
            pytest.fail('StopRun must not be an Exception')
    assert stopped.value.reason == 'step-limit'
    assert session.steps_taken == 2


def test_a_requested_stop_ends_at_the_next_step():
    session = MemorySession('/x/train.py', {'steps': 100})
    session.request_stop()
    with pytest.raises(StopRun) as stopped:
        session.step_finished()
    assert stopped.value.reason == 'stopped'


def test_memory_session_keeps_events_in_wire_form_and_one_end():
    session = MemorySession('/x/train.py', {'steps': 5})
    session.notice('warning', 'careful')
    session.emit({'type': 'notice', 'level': 'info', 'message': 'x', 'value': math.nan})
    assert session.end('completed', 0) is True
    assert session.end('error', 1) is False
    session.notice('info', 'after the end: dropped')
    assert [e['type'] for e in session.events] == ['notice', 'notice', 'end']
    assert session.events[1]['value'] == 'NaN'


def test_memory_session_checks_events_against_the_schema_when_given_one():
    schema = {'type': 'object', 'required': ['type'], 'properties': {'type': {'enum': ['notice', 'end']}}}
    session = MemorySession('/x/train.py', {'steps': 5}, schema=schema)
    assert session.schema_checked
    session.emit({'type': 'notice'})
    session.emit({'type': 'not-an-event'})
    assert [e['type'] for e in session.events] == ['notice', 'not-an-event']
    assert [t for t, _errors in session.invalid] == ['not-an-event']


def test_end_hooks_run_once_before_the_end_event_even_if_one_fails():
    session = MemorySession('/x/train.py', {'steps': 5})
    session.before_end(lambda reason: 1 / 0)
    session.before_end(lambda reason: session.notice('info', 'last layers, at %s' % reason))
    session.end('step-limit', 0)
    session.end('error', 1)
    assert [(e['type'], e.get('message')) for e in session.events] == [('notice', 'last layers, at step-limit'), ('end', None)]


def test_a_failing_sink_never_raises_into_user_code():
    def broken(_event):
        raise OSError('gone')

    session = Session('/x/train.py', {'steps': 5}, broken)
    session.notice('info', 'x')
    assert session.send_error == 'OSError: gone'


def test_the_channel_writes_frames_and_a_forked_child_writes_nothing(tmp_path):
    fifo = str(tmp_path / 'channel')
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    channel = Channel(fifo, 'cd' * 16)
    channel.send({'type': 'notice', 'level': 'info', 'message': 'parent'})
    pid = os.fork()
    if pid == 0:
        channel.send({'type': 'notice', 'level': 'info', 'message': 'child'})
        os._exit(0)
    os.waitpid(pid, 0)
    data = os.read(reader, 65536)
    assert data.count(b'\x1eLL') == 1 and b'parent' in data and b'child' not in data
    os.close(reader)
