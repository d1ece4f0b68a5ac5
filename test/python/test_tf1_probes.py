"""TF1 graphs through tf.compat.v1: the minimized tensor, the collections, and a penalty left out of it."""
import os

import pytest

from helpers import EXAMPLES, FIXTURES, decays, graphs, line_of, of_type, run_script, steps, terms


@pytest.mark.parametrize('name, penalized, sum_text, minimized', [
    ('seed000_slim_collection_dropped.py', ['conv/weights', 'logits/weights'], 'total_loss = v1.losses.get_total_loss()', 'cross_entropy'),
    ('seed002_cifar10_losses_collection.py', ['local3/weights', 'local4/weights'], "tf.add_n(v1.get_collection('losses')", 'cross_entropy_mean'),
])
def test_a_collection_summed_and_never_minimized_is_named_with_its_sum(name, penalized, sum_text, minimized):
    path = os.path.join(EXAMPLES, name)
    r = run_script(path)
    [graph] = graphs(r)
    assert graph['minimizedSource']['name'] == minimized
    hand = [t for t in graph['terms'] if t['kind'] == 'hand-written']
    assert sorted(t['weight'] for t in hand) == penalized
    for t in hand:
        assert t['evaluated'] and not t['reachesMinimizedLoss']
        assert t['summedAt']['name'] == 'total_loss' and t['summedAt']['line'] == line_of(path, sum_text)
        [piece] = t['pieces']
        assert piece['form'] == 'l2'
    for s in steps(r):
        assert s['inLoss'] == [] and s['dataLoss'] == s['totalLoss']
    assert all(v == 0 for d in decays(r) for v in d['values'].values())
    assert {v['id'] for v in graph['rawVariables']} >= set(penalized)
    assert all(v['source'] is not None for v in graph['rawVariables'])


def test_multiscale_penalty_reaches_and_dominates_the_first_loss():
    r = run_script(os.path.join(EXAMPLES, 'seed003_multiscale_regularization_dominates.py'))
    [graph] = graphs(r)
    t = terms(graph)['hand:local3/weights']
    assert t['reachesMinimizedLoss'] and t['pieces'] == [{'weight': 'local3/weights', 'form': 'l2', 'coefficient': pytest.approx(0.002)}]
    first = steps(r)[0]
    assert first['totalLoss'] == pytest.approx(17, abs=1.5) and first['dataLoss'] == pytest.approx(2.3, abs=0.2)
    assert first['regularizationLoss'] > first['dataLoss']
    # wd·l2_loss(w) = (wd/2)·Σw² under plain SGD: the weight loses 2·lr·(wd/2) = lr·wd per step.
    for d in decays(r):
        assert d['values']['local3/weights'] == pytest.approx(0.1 * 0.004, rel=1e-6)


def test_get_total_loss_minimized_through_compute_and_apply_gradients_under_momentum():
    r = run_script(os.path.join(FIXTURES, 'tf1_total_loss_momentum.py'))
    [graph] = graphs(r)
    [t] = [t for t in graph['terms'] if t['kind'] == 'hand-written']
    assert t['weight'] == 'w' and t['reachesMinimizedLoss'] and t['pieces'][0]['coefficient'] == pytest.approx(0.01)
    [opt] = of_type(r, 'optimizer')
    assert opt['optimizer']['className'] == 'SGD' and opt['optimizer']['jsClass'] == 'MomentumOptimizer'
    ds = decays(r)
    assert ds[0]['values']['w'] == pytest.approx(2 * 0.1 * 0.01, rel=1e-4)  # momentum starts from zero
    assert all(d['values']['w'] is not None for d in ds) and 'unavailable' not in ds[-1]
    assert all(s['inLoss'] == ['hand:w'] for s in steps(r))
