"""Eager GradientTape loops (no tf.function): penalties written by hand into the loss, and a total never minimized.

The provenance comes from the ops the tape's first step ran (eager_trace); later steps reuse what it found."""
import os

import pytest

from helpers import EXAMPLES, FIXTURES, decays, graphs, line_of, run_script, steps, terms

KERNEL0, BIAS0, KERNEL1, BIAS1 = ('sequential/dense/kernel', 'sequential/dense/bias', 'sequential/dense_1/kernel',
                                  'sequential/dense_1/bias')


def test_eager_hand_written_l2_loss_and_l1_terms_reach_with_their_lines_and_decay_by_lr_times_wd():
    path = os.path.join(EXAMPLES, 'tape_loop_hand_written_penalty.py')
    r = run_script(path)
    [graph] = graphs(r)  # the same terms at every step: one graph
    assert graph['minimizedSource']['name'] == 'loss' and graph['minimizedSource']['line'] == line_of(path, 'loss = ce + decay')
    t = terms(graph)
    l2, l1 = t[f'hand:{KERNEL0}+3'], t[f'hand:{KERNEL0}']
    assert l2['kind'] == l1['kind'] == 'hand-written' and l2['reachesMinimizedLoss'] and l1['reachesMinimizedLoss']
    # wd·l2_loss(w) is L2 wd/2 (Σw² convention) on every trainable weight; 1e-4·Σ|w| is L1 1e-4 on the first kernel.
    assert sorted(p['weight'] for p in l2['pieces']) == sorted([KERNEL0, BIAS0, KERNEL1, BIAS1])
    assert all(p['form'] == 'l2' and p['coefficient'] == pytest.approx(2.5e-3) for p in l2['pieces'])
    assert [(p['weight'], p['form']) for p in l1['pieces']] == [(KERNEL0, 'l1')] and l1['pieces'][0]['coefficient'] == pytest.approx(1e-4)
    assert (l2['source']['line'], l2['source']['name']) == (line_of(path, 'decay = wd *'), 'decay')
    assert (l1['source']['line'], l1['source']['name']) == (line_of(path, 'sparse = 1e-4 *'), 'sparse')
    assert not any(k['kind'] == 'weight-penalty' for k in graph['terms'])
    records = steps(r)
    assert len(records) == 4
    for s in records:
        assert sorted(s['inLoss']) == sorted([l2['id'], l1['id']])
        assert s['regularizationLoss'] == pytest.approx(s['terms'][l2['id']] + s['terms'][l1['id']])
        assert s['dataLoss'] == pytest.approx(s['totalLoss'] - s['regularizationLoss'])
    # Each step's L2 value is what the weights held before that step's update: wd/2·Σw² falls as SGD shrinks them.
    assert records[1]['terms'][l2['id']] < records[0]['terms'][l2['id']]
    for d in decays(r):
        assert d['values'][KERNEL1] == pytest.approx(0.1 * 5e-3, rel=1e-5)  # lr·wd, as AdamW's lr·wd
        assert d['values'][KERNEL0] > 0.1 * 5e-3  # L1 adds lr·1e-4·Σ|w|/Σw² on top


def test_eager_total_built_but_not_differentiated_is_named_and_a_hand_written_square_sum_reaches():
    path = os.path.join(FIXTURES, 'tape_eager_sum_never_minimized.py')
    r = run_script(path)
    [graph] = graphs(r)
    t = terms(graph)
    dropped, hand = t[f'penalty:{KERNEL0}'], t[f'hand:{KERNEL1}']
    assert dropped['evaluated'] and not dropped['reachesMinimizedLoss']
    assert dropped['summedAt']['name'] == 'total' and dropped['summedAt']['line'] == line_of(path, 'total = loss + tf.add_n(')
    assert hand['reachesMinimizedLoss'] and 'summedAt' not in hand
    assert [(p['weight'], p['form']) for p in hand['pieces']] == [(KERNEL1, 'l2')] and hand['pieces'][0]['coefficient'] == pytest.approx(2e-3)
    assert hand['source']['line'] == line_of(path, 'loss = data + c *')
    for s in steps(r):
        assert s['inLoss'] == [hand['id']] and set(s['terms']) == {dropped['id'], hand['id']}
    for d in decays(r):
        assert d['values'][KERNEL0] == 0.0  # its L2 never reaches what SGD minimizes
        assert d['values'][KERNEL1] == pytest.approx(0.05 * 2 * 2e-3, rel=1e-5)  # lr·2c
