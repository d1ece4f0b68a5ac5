import { describe, expect, it } from 'vitest';
import { renderSarif } from '../../src/cli/sarif-report';
import { renderTextReport } from '../../src/cli/text-report';
import { buildReport } from '../../src/shared/analysis/report';
import { analyzeRun } from '../../src/shared/analysis/rules';
import { RULES } from '../../src/shared/analysis/rules/registry';
import { helpFor } from '../../src/shared/analysis/rules/rule';
import { runState, type RunState } from '../../src/shared/model/run-state';
import type { RunnerEvent } from '../../src/shared/protocol/runner-protocol';
import { readStream, stateFrom } from '../helpers/events';

/**
 * Findings, advice and help on Python runs (issue 23), from event streams the Python runner recorded on the real
 * examples (test/fixtures/streams/python-*.ndjson; how each was made is in test/fixtures/python-scripts/README.md).
 * The same rules speak tfjs on tfjs runs: the tfjs tests keep their assertions unchanged.
 */
const pyState = (name: string, script = '/work/main/examples/python/x.py') => ({ ...stateFrom(readStream(name), script), status: 'completed' as const });
const findings = (state: RunState, rule: string) => analyzeRun(state).filter((f) => f.ruleId === rule);
const report = (state: RunState) => buildReport(state, { toolVersion: 't', durationMs: 1 });
/** The same recorded events as a tfjs runner's hello would have introduced them (no `python`). */
const asTfjs = (events: RunnerEvent[]) => events.map((e) => (e.type === 'hello' ? { type: 'hello' as const, protocol: e.protocol, pid: e.pid } : e));

describe('the run state knows its framework', () => {
  it("is tensorflow once the Python runner's hello arrives, and tfjs for a tfjs stream", () => {
    expect(stateFrom(readStream('python-tape-forgets')).framework).toBe('tensorflow');
    expect(stateFrom(readStream('custom-loop-drops-penalty')).framework).toBe('tfjs');
  });

  it('reads a state recorded before the field existed as a tfjs run', () => {
    const { framework: _, ...old } = stateFrom(readStream('custom-loop-drops-penalty'));
    expect(runState.parse(old).framework).toBe('tfjs');
  });

  it("puts it in the report's framework, whatever the script's name", () => {
    expect(report(pyState('python-tape-forgets', '/ws/train')).framework).toBe('tensorflow');
    expect(report({ ...stateFrom(readStream('custom-loop-drops-penalty')), status: 'completed' }).framework).toBe('tfjs');
  });
});

describe('regularizer-not-in-loss on Python runs', () => {
  it('a Keras tape loop that never reads model.losses: add tf.add_n(model.losses) to the loss the tape differentiates', () => {
    const found = findings(pyState('python-tape-forgets'), 'regularizer-not-in-loss');
    expect(found.map((f) => f.weight).sort()).toEqual(['sequential/dense/kernel', 'sequential/dense_1/kernel']);
    for (const f of found) {
      expect(f.message).toContain('Nothing reads model.losses, so Keras never computes it for `loss` (line 31), the loss the tape differentiates');
      expect(f.message).toContain('add tf.add_n(model.losses) to it (loss = loss_fn(y, pred) + tf.add_n(model.losses) inside the GradientTape block');
      expect(f.message).not.toMatch(/calculateLosses|minimize\(\) callback|tf\.addN/);
      expect(f.addToLoss).toBe('tf.add_n($model.losses)');
    }
  });

  it('a TF1 collection summed and never minimized (seed 000): minimize the named sum instead', () => {
    const [f, ...rest] = findings(pyState('python-seed000-tf1-sum'), 'regularizer-not-in-loss');
    expect(rest).toEqual([]);
    expect(f.message).toContain('`total_loss` (line 42) adds these 2 penalties');
    expect(f.message).toContain('but the train op minimizes `cross_entropy` (line 41)');
    expect(f.message).toContain('Minimize `total_loss` instead: optimizer.minimize(total_loss).');
    expect(f.message).not.toContain('Return');
  });

  it('a tf.function step that sums the penalties but differentiates the data loss: differentiate the sum', () => {
    const [f] = findings(pyState('python-tf-function-sum'), 'regularizer-not-in-loss');
    expect(f.message).toContain('but the tape differentiates `loss` (line 31)');
    expect(f.message).toContain('Differentiate `total` instead: tape.gradient(total, …).');
  });

  it('the same sum on a tfjs run still says Return', () => {
    const [f] = findings({ ...stateFrom(asTfjs(readStream('python-tf-function-sum'))), status: 'completed' }, 'regularizer-not-in-loss');
    expect(f.message).toContain('but the step returns `loss` (line 31)');
    expect(f.message).toContain('Return `total` instead.');
  });
});

describe('activity regularizers on Python runs', () => {
  it('are applied by Keras: no activity-regularizer-unsupported; a dropped one is a regularizer-not-in-loss', () => {
    const state = pyState('python-activity-tape');
    expect(findings(state, 'activity-regularizer-unsupported')).toEqual([]);
    const activity = findings(state, 'regularizer-not-in-loss').find((f) => f.termId?.startsWith('activity:'));
    expect(activity?.message).toContain('The activity regularizer of dense (L1 1e-3) never reaches the minimized loss');
    expect(activity?.message).toContain('Keras puts it in model.losses, but `loss` (line 21), the loss the tape differentiates, never adds them');
    expect(activity?.addToLoss).toBe('tf.add_n($model.losses)');
  });

  it('the same layers on a tfjs run: activity-regularizer-unsupported, as before', () => {
    const state = { ...stateFrom(asTfjs(readStream('python-activity-tape'))), status: 'completed' as const };
    const [f] = findings(state, 'activity-regularizer-unsupported');
    expect(f.message).toContain('which tfjs cannot apply');
    expect(findings(state, 'regularizer-not-in-loss').some((x) => x.termId?.startsWith('activity:'))).toBe(false);
  });
});

describe('decay advice on Python runs', () => {
  it('l2-with-adaptive-optimizer under Keras Adam: AdamW / weight_decay= with exclude_from_weight_decay', () => {
    const [f] = findings(pyState('python-seed001-l2-adam'), 'l2-with-adaptive-optimizer');
    expect(f.message).toContain('with Adam is not weight decay: Adam rescales the penalty\'s gradient too.');
    expect(f.message).toContain('use keras.optimizers.AdamW(weight_decay=…) (or weight_decay= on Adam)');
    expect(f.message).toContain("optimizer.exclude_from_weight_decay(var_names=['bias', 'gamma', 'beta'])");
    const tfjs = findings({ ...stateFrom(asTfjs(readStream('python-seed001-l2-adam'))), status: 'completed' }, 'l2-with-adaptive-optimizer')[0];
    expect(tfjs.message).toBe(f.message.slice(0, f.message.indexOf(' For decay')));
  });

  it("decay-on-bias-or-norm under Keras AdamW: exclude the biases and the norm's gamma/beta by name", () => {
    const found = findings(pyState('python-adamw-batchnorm'), 'decay-on-bias-or-norm');
    const bias = found.find((f) => f.weight === 'sequential/dense/bias');
    const norm = found.find((f) => f.related.some((r) => r.weight === 'sequential/batch_normalization/beta'));
    expect(bias?.message).toContain("Exclude it: optimizer.exclude_from_weight_decay(var_names=['bias']) before training.");
    expect(norm?.message).toContain("optimizer.exclude_from_weight_decay(var_names=['gamma', 'beta'])");
  });

  it('optimizer-decay-inactive: an AdamW whose exclusions match every variable names the Keras settings to check', () => {
    const [f] = findings(pyState('python-adamw-excludes-all'), 'optimizer-decay-inactive');
    expect(f.message).toContain('AdamW says weight decay (its class name and its settings weight_decay=0.05)');
    expect(f.message).toContain('Check that its exclude_from_weight_decay(var_names=…) does not match every variable it trains');
    expect(f.message).not.toContain('constructor arguments');
  });
});

describe('help in the run\'s language', () => {
  it('gives Python runs the Python help (text report, SARIF), and tfjs runs the tfjs help', () => {
    const rule = RULES['regularizer-not-in-loss'];
    expect(helpFor(rule, 'tfjs')).toBe(rule.help);
    expect(helpFor(rule, 'tensorflow')).toContain('tf.add_n(model.losses)');
    expect(helpFor(RULES['script-error'], 'tensorflow')).toBe(RULES['script-error'].help);
    const py = report(pyState('python-tape-forgets'));
    const text = renderTextReport(py, '/work/main');
    expect(text).toContain(rule.pythonHelp);
    expect(text).not.toContain(rule.help);
    const sarif = JSON.parse(renderSarif(py, '/work/main'));
    const listed = sarif.runs[0].tool.driver.rules.find((r: { id: string }) => r.id === rule.id);
    expect(listed.help.text).toBe(rule.pythonHelp);
  });

  it('leaves no tfjs-only API in a Python help', () => {
    for (const rule of Object.values(RULES)) {
      const help = helpFor(rule, 'tensorflow');
      expect(help, rule.id).not.toMatch(/calculateLosses|kernelRegularizer|tf\.addN|variableGrads|getConfig|--weight-decay/);
    }
  });
});
