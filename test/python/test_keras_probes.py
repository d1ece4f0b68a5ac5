"""Keras 3 / tf.keras scripts run under the probes: what reaches the minimized loss, the loss split, the plans."""
import math
import os

import pytest

from helpers import EXAMPLES, FIXTURES, decays, graphs, line_of, of_type, run_script, steps, terms


def test_fit_l2_penalty_reaches_the_loss_and_the_loss_splits_into_data_and_regularization():
    path = os.path.join(EXAMPLES, 'seed004_keras_data_only_curve.py')
    r = run_script(path)
    [graph] = graphs(r)
    t = terms(graph)['penalty:conv2d/kernel']
    assert t['evaluated'] and t['reachesMinimizedLoss'] and t['regularizer'] == {'className': 'L1L2', 'l1': 0.0, 'l2': 0.01}
    assert graph['minimizedSource'] is None  # model.fit builds the loss itself
    assert graph['source']['line'] == line_of(path, 'model.fit(')
    records = steps(r)
    assert len(records) == 8  # 2 epochs × 32/8 batches
    for s in records:
        assert s['inLoss'] == ['penalty:conv2d/kernel']
        assert s['regularizationLoss'] == pytest.approx(s['terms']['penalty:conv2d/kernel'])
        assert s['dataLoss'] + s['regularizationLoss'] == pytest.approx(s['totalLoss'])
        assert 0 < s['regularizationLoss'] < s['totalLoss']
    [plan] = [e['plan'] for e in of_type(r, 'training-plan')]
    assert (plan['method'], plan['epochs'], plan['stepsPerEpoch']) == ('fit', 2, 4)
    [layers] = [e['layers'] for e in of_type(r, 'layers')]
    conv = next(l for l in layers if l['className'] == 'Conv2D')
    assert conv['source']['line'] == line_of(path, 'layers.Conv2D(') and conv['binding'] == 'hidden'
    [opt] = of_type(r, 'optimizer')
    assert opt['optimizer']['className'] == 'Adam' and opt['optimizer']['config']['learningRate'] == pytest.approx(1e-3)


def test_tape_loop_that_never_reads_model_losses_leaves_both_penalties_out():
    path = os.path.join(EXAMPLES, 'tape_loop_forgets_model_losses.py')
    r = run_script(path)
    [graph] = graphs(r)
    for wid in ('sequential/dense/kernel', 'sequential/dense_1/kernel'):
        t = terms(graph)[f'penalty:{wid}']
        assert t['evaluated'] is False and t['reachesMinimizedLoss'] is False
    assert graph['minimizedSource']['name'] == 'loss'
    assert graph['minimizedSource']['line'] == line_of(path, 'loss = bce(')
    for s in steps(r):
        assert s['inLoss'] == [] and s['regularizationLoss'] == 0 and s['dataLoss'] == s['totalLoss']
    for d in decays(r):
        assert d['values'] == {'sequential/dense/kernel': 0.0, 'sequential/dense_1/kernel': 0.0}


def test_tf_function_step_reaches_every_penalty_through_the_func_graph():
    r = run_script(os.path.join(EXAMPLES, 'tf_function_loop_with_penalty.py'))
    [graph] = graphs(r)
    penalties = [t for t in graph['terms'] if t['kind'] == 'weight-penalty']
    assert len(penalties) == 2 and all(t['reachesMinimizedLoss'] for t in penalties)
    assert graph['minimizedSource']['name'] == 'loss'
    records = steps(r)
    assert [s['step'] for s in records] == [1, 2, 3, 4, 5]
    assert all(len(s['inLoss']) == 2 for s in records)
    # RMSprop: the decay is measured (not the SGD value 2·lr·l2) and positive once the velocity settles.
    assert all(v is not None and v > 0 for d in decays(r) for v in d['values'].values())


def test_add_loss_and_activity_regularizer_reach_when_added_and_not_when_left_out():
    r = run_script(os.path.join(FIXTURES, 'add_loss_and_activity.py'))
    first, second = graphs(r)
    for g, reaches in ((first, True), (second, False)):
        t = terms(g)
        assert t['activity:dense']['kind'] == 'activity-penalty' and t['activity:dense']['reachesMinimizedLoss'] is reaches
        assert t['hand:smooth/add_loss']['kind'] == 'hand-written' and t['hand:smooth/add_loss']['reachesMinimizedLoss'] is reaches
    in_loss = [sorted(s['inLoss']) for s in steps(r)]
    assert in_loss == [['activity:dense', 'hand:smooth/add_loss']] * 2 + [[]]
    [layers] = of_type(r, 'layers')[-1:]
    dense = next(l for l in layers['layers'] if l['name'] == 'dense')
    assert dense['activityRegularizer'] == {'className': 'L1L2', 'l1': 0.0, 'l2': 0.01}


def test_tf_keras_fit_with_nesterov_momentum_measures_sgd_decay_at_the_first_step():
    r = run_script(os.path.join(FIXTURES, 'tf_keras_fit.py'))
    [graph] = graphs(r)
    kernel = next(t for t in graph['terms'] if t['kind'] == 'weight-penalty')
    assert kernel['reachesMinimizedLoss']
    [opt] = of_type(r, 'optimizer')
    assert opt['optimizer']['config']['nesterov'] is True and opt['optimizer']['config']['momentum'] == pytest.approx(0.9)
    first = decays(r)[0]['values'][kernel['weight']]
    # Nesterov's first step from zero momentum: Δ = −lr·g·(1 + m), so the penalty removes 2·lr·l2·(1 + m).
    assert first == pytest.approx(2 * 0.05 * 2e-3 * 1.9, rel=1e-5)


def test_adamw_without_exclusions_decays_batch_norm_scales_and_biases_by_lr_times_weight_decay():
    r = run_script(os.path.join(EXAMPLES, 'adamw_decays_batchnorm.py'))
    ds = decays(r)
    gamma, beta = 'sequential/batch_normalization/gamma', 'sequential/batch_normalization/beta'
    for d in ds:
        assert d['decoupled'][gamma] == pytest.approx(1e-2 * 0.05, rel=2e-2)
        assert d['appliers'][gamma] == {'by': 'optimizer', 'className': 'AdamW', 'source': None}
    # Biases and beta start at zero: nothing to shrink at step 1, then the same lr·λ.
    assert ds[0]['values'][beta] is None and ds[1]['decoupled'][beta] == pytest.approx(5e-4, rel=5e-2)
    [opt] = of_type(r, 'optimizer')
    assert opt['optimizer']['decaySettings'] == {'weight_decay': pytest.approx(0.05)}


def test_adamw_exclude_from_weight_decay_leaves_biases_alone():
    r = run_script(os.path.join(EXAMPLES, 'seed001_l2_vs_decoupled.py'))
    adam_graph, adamw_graph = graphs(r)
    assert all(t['reachesMinimizedLoss'] for t in adam_graph['terms'])
    assert [t['id'] for t in adamw_graph['terms']] == ['data']
    for d in decays(r, 1):
        assert set(d['values']) == {'sequential_1/dense_2/kernel', 'sequential_1/dense_3/kernel'}
        for v in d['decoupled'].values():
            assert v == pytest.approx(1e-3 * 5e-4, rel=5e-2)
    for d in decays(r, 0):
        assert 'decoupled' not in d and all(v > 0 for v in d['values'].values())


def test_step_limit_stops_the_script_after_that_many_optimizer_steps():
    r = run_script(os.path.join(EXAMPLES, 'seed004_keras_data_only_curve.py'), steps=3)
    assert r['stop'] == 'step-limit'
    assert [s['step'] for s in steps(r)] == [1, 2, 3]


def test_a_script_without_tensorflow_is_left_alone():
    r = run_script(os.path.join(FIXTURES, 'no_tensorflow.py'))
    assert r['events'] == [] and r['tensorflowImported'] is False and r['stop'] is None


def test_xla_compiled_steps_run_without_xla_and_are_recorded():
    r = run_script(os.path.join(FIXTURES, 'jit_compiled_step.py'))
    notices = [e['message'] for e in of_type(r, 'notice')]
    assert any('tf.function(jit_compile=True) without XLA' in m for m in notices)
    assert any('model.fit without XLA' in m for m in notices)
    assert [len(steps(r, o)) for o in (0,)] == [4]  # same weights: one objective, 2 steps of each
    assert all(s['inLoss'] == ['penalty:sequential/dense/kernel'] for s in steps(r))


def test_tf_function_total_built_but_not_differentiated_is_named_as_the_sum_never_minimized():
    path = os.path.join(EXAMPLES, 'tf_function_sum_never_returned.py')
    r = run_script(path)
    [graph] = graphs(r)
    assert graph['minimizedSource']['name'] == 'loss' and graph['minimizedSource']['line'] == line_of(path, 'loss = tf.reduce_mean(')
    penalties = [t for t in graph['terms'] if t['kind'] == 'weight-penalty']
    assert len(penalties) == 2
    for t in penalties:
        assert t['evaluated'] and not t['reachesMinimizedLoss']
        assert t['summedAt']['name'] == 'total' and t['summedAt']['line'] == line_of(path, 'total = loss + tf.add_n(')
    assert all(s['inLoss'] == [] and len(s['terms']) == 2 for s in steps(r))


def test_tf_function_hand_written_l2_loss_penalty_is_a_term_that_reaches_and_decays_by_lr_times_wd():
    path = os.path.join(FIXTURES, 'tf_function_hand_written.py')
    r = run_script(path)
    [graph] = graphs(r)
    [t] = [t for t in graph['terms'] if t['kind'] == 'hand-written']
    assert t['id'] == 'hand:sequential/dense/kernel+1' and t['reachesMinimizedLoss']
    # wd·l2_loss(w) = (wd/2)·Σw² in the protocol's convention, on both kernels.
    assert sorted((p['weight'], p['form']) for p in t['pieces']) == [('sequential/dense/kernel', 'l2'), ('sequential/dense_1/kernel', 'l2')]
    assert all(p['coefficient'] == pytest.approx(2.5e-4) for p in t['pieces'])
    assert t['source']['line'] == line_of(path, 'loss = data + wd *') and t['source']['name'] == 'loss'
    for d in decays(r):
        for wid in ('sequential/dense/kernel', 'sequential/dense_1/kernel'):
            assert d['values'][wid] == pytest.approx(0.1 * 5e-4, rel=1e-5)
    for s in steps(r):
        assert s['inLoss'] == [t['id']] and s['regularizationLoss'] == pytest.approx(s['terms'][t['id']])
