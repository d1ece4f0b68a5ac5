"""The decoupled what-if for Python scripts (`--weight-decay decoupled`): L1/L2 penalties out of the minimized loss,
w ← w − lr·2·l2·w after each update, in eager tape loops, tf.function steps and model.fit."""
import os
import tempfile

import numpy as np
import pytest

from helpers import FIXTURES, decays, graphs, of_type, run_script, steps, terms

KERNEL0, KERNEL1 = 'sequential/dense/kernel', 'sequential/dense_1/kernel'


def test_decay_under_the_what_if_is_lr_times_2_l2_per_sgd_step_eager_traced_and_fit():
    r = run_script(os.path.join(FIXTURES, 'whatif_sgd.py'), weight_decay='decoupled')
    assert not [e for e in of_type(r, 'notice') if e['level'] == 'warning']
    # The script's penalties still reach its loss (the analysis sees the script as written); an L1L2 regularizer's two
    # sums are its own parts, not hand-written terms.
    for g in graphs(r):
        assert sorted(t['id'] for t in g['terms'] if t['id'] != 'data') == [f'penalty:{KERNEL0}', f'penalty:{KERNEL1}']
        assert all(t['reachesMinimizedLoss'] for t in g['terms'])
    records = steps(r)
    assert len(records) == 9  # 3 eager, 3 traced, 3 fit
    for s in records:  # the what-if minimized the data loss alone
        assert s['regularizationLoss'] == 0 and s['totalLoss'] == pytest.approx(s['dataLoss'])
        assert set(s['terms']) == {f'penalty:{KERNEL0}', f'penalty:{KERNEL1}'} and all(v > 0 for v in s['terms'].values())
    ds = decays(r)
    assert len(ds) == 9
    for d in ds:
        # L2(2e-3) and L1L2(l1=1e-4, l2=5e-3) under SGD(0.1): the what-if shrinks by lr·2·l2, the L1 is gone with the L2.
        assert d['values'][KERNEL0] == pytest.approx(0.1 * 2 * 2e-3, rel=1e-3)
        assert d['values'][KERNEL1] == pytest.approx(0.1 * 2 * 5e-3, rel=1e-3)
        assert d['decoupled'] == d['values']
        assert d['appliers'][KERNEL0] == {'by': 'what-if', 'className': 'SGD', 'source': None}


def test_the_same_script_as_written_keeps_its_penalties_in_the_loss_and_gets_no_what_if():
    r = run_script(os.path.join(FIXTURES, 'whatif_sgd.py'))
    for s in steps(r):
        assert s['regularizationLoss'] > 0 and s['totalLoss'] == pytest.approx(s['dataLoss'] + s['regularizationLoss'])
    for d in decays(r):
        assert 'decoupled' not in d and 'appliers' not in d
        assert d['values'][KERNEL0] == pytest.approx(0.1 * 2 * 2e-3, rel=1e-5)  # L2 through the loss, under SGD
    for g in graphs(r):  # also inside the tf.function: the L1L2's l1 and l2 sums are not hand-written terms
        assert not [t for t in g['terms'] if t['kind'] == 'hand-written']


def test_the_what_if_trajectory_matches_an_independent_sgd_with_decoupled_decay(monkeypatch):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'w.npz')
        monkeypatch.setenv('WHATIF_OUT', out)
        r = run_script(os.path.join(FIXTURES, 'whatif_linear.py'), weight_decay='decoupled')
        saved = np.load(out)
        x, y, w = saved['x'].astype(np.float64), saved['y'].astype(np.float64), saved['w0'].astype(np.float64)
        lr, l2 = 0.2, 0.05
        for _ in range(6):  # SGD on the data loss alone, then the decoupled shrink of the updated weight
            w = w - lr * (2.0 / len(x)) * x.T @ (x @ w - y)
            w = w - lr * 2 * l2 * w
        np.testing.assert_allclose(saved['w6'], w, rtol=1e-5)
    [t] = [t for t in terms(graphs(r)[0]).values() if t['id'] != 'data']
    assert t['reachesMinimizedLoss']
    assert [d['values']['sequential/dense/kernel'] for d in decays(r)] == pytest.approx([0.2 * 2 * 0.05] * 6, rel=1e-4)


def test_hand_written_l2_in_an_eager_loop_is_taken_out_and_decayed_by_the_what_if():
    r = run_script(os.path.join(FIXTURES, 'tape_eager_sum_never_minimized.py'), weight_decay='decoupled')
    [g] = graphs(r)
    hand = terms(g)[f'hand:{KERNEL1}']
    assert hand['reachesMinimizedLoss']
    for s in steps(r):
        assert s['regularizationLoss'] == 0 and s['terms'][hand['id']] > 0
    for d in decays(r):
        assert d['values'][KERNEL1] == pytest.approx(0.05 * 2 * 2e-3, rel=1e-3)  # c·Σw² is L2 c: lr·2c
        assert d['values'][KERNEL0] == 0.0  # its penalty never reached the loss: nothing to take out, no what-if decay
        assert KERNEL0 not in d.get('decoupled', {})
