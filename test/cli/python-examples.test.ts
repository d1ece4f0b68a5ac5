import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportSchema, type Report } from '../../src/shared/analysis/report';
import { VENV_PYTHON } from '../helpers/python';
import { ROOT } from '../helpers/run';

/**
 * The seeds' situations as Python users run them (examples/python, issue 23): `loss-lens analyze x.py --json` on the
 * project venv's TensorFlow and Keras, through the real engine, runner and analysis. Each example's header says the
 * verdict; these check it, and what a careful reader of the script would find in the report.
 */
const CLI = path.join(ROOT, 'bin', 'loss-lens.js');
const example = (name: string) => path.join(ROOT, 'examples', 'python', `${name}.py`);

function analyze(name: string, ...extra: string[]): Report {
  const r = spawnSync(process.execPath, [CLI, 'analyze', example(name), '--json', '--python', VENV_PYTHON, ...extra], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', CUDA_VISIBLE_DEVICES: '' },
  });
  const parsed = reportSchema.safeParse(JSON.parse(r.stdout));
  if (!parsed.success) throw new Error(`${JSON.stringify(parsed.error.issues.slice(0, 5))}\n${r.stderr}`);
  return parsed.data;
}

const rules = (r: Report) => [...new Set(r.findings.map((f) => f.ruleId))].sort();

describe('examples/python through loss-lens analyze', { timeout: 300_000 }, () => {
  it('seed 000: the REGULARIZATION_LOSSES summed by get_total_loss() and never minimized, named by its sum', () => {
    const r = analyze('seed000_slim_collection_dropped');
    expect(r.framework).toBe('tensorflow');
    expect(rules(r)).toEqual(['regularizer-not-in-loss']);
    const [f] = r.findings;
    expect(f.message).toContain('`total_loss` (line 42) adds these 2 penalties');
    expect(f.message).toContain('the train op minimizes `cross_entropy` (line 41)');
    expect(f.message).toContain('Minimize `total_loss` instead: optimizer.minimize(total_loss).');
    expect(f.source?.line).toBe(42);
  });

  it("seed 002: the CIFAR-10 'losses' collection summed into total_loss while the train op minimizes the cross-entropy", () => {
    const r = analyze('seed002_cifar10_losses_collection');
    expect(rules(r)).toEqual(['no-decay', 'regularizer-not-in-loss']);
    const dropped = r.findings.find((f) => f.ruleId === 'regularizer-not-in-loss')!;
    expect(dropped.message).toContain('Minimize `total_loss` instead: optimizer.minimize(total_loss).');
    expect(dropped.related.map((x) => x.weight).sort()).toEqual(['local3/weights', 'local4/weights']);
    // conv1's `_variable_with_weight_decay(..., wd=None)`: the script gives it no decay, and the report says so.
    expect(r.findings.find((f) => f.ruleId === 'no-decay')!.weight).toBe('conv1/weights');
  });

  it('seed 003: the multi-scale local3 penalty (~15) dominates the cross-entropy (~2.3) at the first step', () => {
    const r = analyze('seed003_multiscale_regularization_dominates');
    expect(rules(r)).toEqual(['regularization-dominates-loss']);
    expect(r.findings[0].message).toContain('hand-written L2 2e-3 on local3/weights');
    expect(r.lossSplit).toBeTruthy();
  });

  it('seed 004: model.fit adds the L2 penalty; the report carries the data-only curve beside the total', () => {
    const r = analyze('seed004_keras_data_only_curve');
    expect(r.framework).not.toBe('tfjs');
    expect(rules(r)).toContain('l2-with-adaptive-optimizer');
    expect(rules(r)).not.toContain('regularizer-not-in-loss');
    const { total, data } = { total: r.curves.totalLoss, data: r.curves.dataLoss };
    expect(total.length).toBe(8);
    data.forEach((d, i) => expect(d).toBeLessThan(total[i] as number));
  });

  it('seed 001: L2 under Adam is flagged; AdamW with biases excluded decays the kernels by lr·λ and is not', () => {
    const r = analyze('seed001_l2_vs_decoupled');
    expect(rules(r)).toEqual(['l2-with-adaptive-optimizer']);
    expect(r.findings[0].message).toContain('with Adam is not weight decay');
    expect(r.findings[0].message).toContain("keras.optimizers.AdamW(weight_decay=…) (or weight_decay= on Adam), with optimizer.exclude_from_weight_decay(var_names=['bias', 'gamma', 'beta'])");
  });

  it('seed 001 under --weight-decay decoupled: the L2 leaves the loss and the what-if shrinks the kernels by lr·2·l2', () => {
    const r = analyze('seed001_l2_vs_decoupled', '--weight-decay', 'decoupled');
    expect(r.weightDecay).toBe('decoupled');
    expect(r.notices.join('\n')).not.toContain('not available');
    const kernels = r.layers.filter((l) => l.name === 'dense' || l.name === 'dense_1').map((l) => l.weights.find((w) => w.role === 'kernel')!);
    expect(kernels).toHaveLength(2);
    for (const k of kernels) {
      expect(k.decay).toMatchObject({ kind: 'decoupled', appliedBy: 'what-if', followsLearningRate: true, steps: 6 });
      // Adam(1e-3), L2 5e-4: lr·2·l2 = 1e-6 per step, measured on float32 weights.
      expect(Math.abs(k.decay!.shrinkPerStep! / 1e-6 - 1)).toBeLessThan(1e-2);
    }
    expect(r.lossSplit).toBeTruthy();
    for (const reg of r.curves.regularizationLoss) expect(reg).toBe(0);
  });

  it('a GradientTape loop that never reads model.losses: both penalties never reach the loss', () => {
    const r = analyze('tape_loop_forgets_model_losses');
    expect(rules(r)).toEqual(['regularizer-not-in-loss']);
    expect(r.findings.map((f) => f.weight).sort()).toEqual(['sequential/dense/kernel', 'sequential/dense_1/kernel']);
    for (const f of r.findings) {
      expect(f.message).toContain('Nothing reads model.losses, so Keras never computes it for `loss` (line 31), the loss the tape differentiates: add tf.add_n(model.losses) to it');
      expect(f.addToLoss).toBe('tf.add_n($model.losses)');
    }
  });

  it('a tf.function step that builds `total` but differentiates `loss`: the sum never minimized is named', () => {
    const r = analyze('tf_function_sum_never_returned');
    expect(rules(r)).toEqual(['regularizer-not-in-loss']);
    const [f] = r.findings;
    expect(f.message).toContain('`total` (line 32) adds these 2 penalties');
    expect(f.message).toContain('the tape differentiates `loss` (line 31)');
    expect(f.message).toContain('Differentiate `total` instead: tape.gradient(total, …).');
  });

  it('an eager tape loop with wd·l2_loss and an L1 written by hand: both terms reach; the biases are decayed too', () => {
    const r = analyze('tape_loop_hand_written_penalty');
    expect(rules(r)).toEqual(['decay-on-bias-or-norm']);
    const [f] = r.findings;
    expect(f.message).toContain('Hand-written L2 2.5e-3 on sequential/dense/bias decays a bias');
    expect(f.related.map((x) => x.weight).sort()).toEqual(['sequential/dense/bias', 'sequential/dense_1/bias']);
    expect(f.source?.line).toBe(31);
    expect(r.lossSplit).toBeTruthy();
  });

  it('AdamW without exclusions decays batch-norm gamma/beta and the biases', () => {
    const r = analyze('adamw_decays_batchnorm');
    const onNorm = r.findings.filter((f) => f.ruleId === 'decay-on-bias-or-norm');
    const named = onNorm.flatMap((f) => [f.weight, ...f.related.map((x) => x.weight)]);
    expect(named).toEqual(expect.arrayContaining(['sequential/batch_normalization/gamma', 'sequential/dense/bias', 'sequential/dense_1/bias']));
    expect(onNorm.find((f) => f.weight === 'sequential/dense/bias')!.message).toContain("optimizer.exclude_from_weight_decay(var_names=['bias'])");
  });

  it('a tf.function step that adds model.losses under RMSprop: the penalties reach; L2 under RMSprop is flagged', () => {
    const r = analyze('tf_function_loop_with_penalty');
    expect(rules(r)).toEqual(['l2-with-adaptive-optimizer']);
  });
});
