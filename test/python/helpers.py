"""Shared by the probe tests: running a script instrumented, checking its events, reading them back."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, 'examples', 'python')
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
sys.path.insert(0, os.path.join(ROOT, 'src', 'python'))


def assert_valid(result):
    # Every event is checked against schema/runner-events.schema.json, the contract generated from the zod schemas
    # the engine checks with (the test venv pins jsonschema; the build writes the schema).
    assert result['schemaChecked'], 'the runner-events JSON Schema was not found, or jsonschema is not installed'
    assert result['invalid'] == []


def run_script(path, steps=1000, weight_decay=None):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'events.json')
        env = {**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2', 'CUDA_VISIBLE_DEVICES': ''}
        proc = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), 'instrumented_run.py'), path, out, str(steps)] + ([weight_decay] if weight_decay else []),
                              capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        with open(out, encoding='utf-8') as f:
            result = json.load(f)
    assert_valid(result)
    return result


def of_type(result, kind):
    return [e for e in result['events'] if e['type'] == kind]


def graphs(result):
    return [e['graph'] for e in of_type(result, 'graph')]


def steps(result, objective=0):
    return [e['record'] for e in of_type(result, 'step') if e['record']['objective'] == objective]


def decays(result, objective=0):
    return [e['record'] for e in of_type(result, 'decay') if e['record']['objective'] == objective]


def terms(graph):
    return {t['id']: t for t in graph['terms']}


def line_of(path, text, nth=1):
    """The 1-based line of the nth line containing text."""
    hits = [i + 1 for i, line in enumerate(open(path, encoding='utf-8')) if text in line]
    return hits[nth - 1]
