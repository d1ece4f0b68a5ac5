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

# Required keys of each event, checked when schema/runner-events.schema.json (generated from zod by the contract
# work, issue 22) is not in the tree yet; once it is, MemorySession validates every event against it instead.
REQUIRED = {
    'backend': {'backend'}, 'notice': {'level', 'message'}, 'layers': {'layers'}, 'optimizer': {'objective', 'optimizer'},
    'optimizer-weights': {'update'}, 'graph': {'graph'}, 'step': {'record'}, 'decay': {'record'}, 'training-plan': {'plan'},
}
STEP_KEYS = {'objective', 'step', 'totalLoss', 'dataLoss', 'regularizationLoss', 'terms', 'inLoss', 'weightNorms', 'learningRate', 'wallMs'}
GRAPH_KEYS = {'objective', 'step', 'nodes', 'edges', 'minimizedNodeId', 'dataNodeId', 'terms', 'variables', 'captureMs'}
TERM_KEYS = {'id', 'collection', 'kind', 'layer', 'weight', 'regularizer', 'nodeId', 'evaluated', 'reachesMinimizedLoss'}
LAYER_KEYS = {'name', 'className', 'source', 'weights', 'activityRegularizer'}
WEIGHT_KEYS = {'id', 'name', 'shape', 'trainable', 'role', 'regularizer'}


def minimal_check(event):
    kind = event['type']
    assert kind in REQUIRED, kind
    assert REQUIRED[kind] <= set(event), event
    if kind == 'step':
        assert STEP_KEYS <= set(event['record'])
    if kind == 'graph':
        g = event['graph']
        assert GRAPH_KEYS <= set(g)
        for t in g['terms']:
            assert TERM_KEYS <= set(t), t
        ids = {n['id'] for n in g['nodes']}
        assert all(e['from'] in ids and e['to'] in ids for e in g['edges'])
    if kind == 'layers':
        for layer in event['layers']:
            assert LAYER_KEYS <= set(layer)
            for w in layer['weights']:
                assert WEIGHT_KEYS <= set(w)


def assert_valid(result):
    if result['schemaChecked']:
        assert result['invalid'] == []
    else:
        for e in result['events']:
            minimal_check(e)


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
