import { describe, expect, it } from 'vitest';
import { analyzeRun, foldBySource } from '../../src/shared/analysis/rules';
import { firstNonFinite } from '../../src/shared/analysis/non-finite';
import { makeFinding, RULES } from '../../src/shared/analysis/rules/registry';
import { readStream, stateFrom, wire } from '../helpers/events';
import { L2, syntheticRun } from '../helpers/synthetic-run';

const ids = (findings: { ruleId: string }[]) => findings.map((f) => f.ruleId).sort();

describe('regularizer-not-in-loss', () => {
  it('fires, as an error at the layer line, for every trained penalty that never reached the loss', () => {
    const state = stateFrom(
      wire(
        syntheticRun({
          layers: [
            { name: 'd1', line: 10, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
            { name: 'd2', line: 11, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
          ],
          steps: [{ total: 2, penalties: { 'd1/kernel': [0.1, false], 'd2/kernel': [0.2, true] } }],
        }),
      ),
    );
    const f = analyzeRun(state).filter((x) => x.ruleId === 'regularizer-not-in-loss');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'error', weight: 'd1/kernel', layer: 'd1', source: { line: 10 } });
    expect(f[0].message).toContain('model.calculateLosses()');
  });

  it('says "computed but never added" when the step evaluated the penalty', () => {
    const state = stateFrom(
      wire(
        syntheticRun({
          evaluated: true,
          layers: [{ name: 'd1', line: 10, weights: [{ name: 'kernel', reg: L2(1e-3) }] }],
          steps: [{ total: 2, penalties: { 'd1/kernel': [0.1, false] } }],
        }),
      ),
    );
    expect(analyzeRun(state).find((x) => x.ruleId === 'regularizer-not-in-loss')?.message).toContain('never adds it');
  });

  it('is a warning when the penalty reaches the loss in only some steps', () => {
    const state = stateFrom(
      wire(
        syntheticRun({
          layers: [{ name: 'd1', line: 10, weights: [{ name: 'kernel', reg: L2(1e-3) }] }],
          steps: [
            { total: 2, penalties: { 'd1/kernel': [0.1, true] } },
            { total: 2, penalties: { 'd1/kernel': [0.1, false] } },
          ],
        }),
      ),
    );
    const f = analyzeRun(state);
    expect(ids(f)).toEqual(['regularizer-intermittent']);
    expect(f[0].message).toContain('1 of 2');
  });
});

describe('decay placement rules', () => {
  const run = (optimizer?: { className: string; config: Record<string, number> }) =>
    stateFrom(
      wire(
        syntheticRun({
          optimizer,
          layers: [
            { name: 'conv', className: 'Conv2D', line: 5, weights: [{ name: 'kernel', reg: L2(5e-4) }, { name: 'bias', reg: L2(5e-4) }] },
            { name: 'bn', className: 'BatchNormalization', line: 6, weights: [{ name: 'gamma', role: 'gamma', reg: L2(5e-4) }, { name: 'beta', role: 'beta' }] },
            { name: 'head', className: 'Dense', line: 7, weights: [{ name: 'kernel' }, { name: 'bias' }] },
          ],
          steps: [{ total: 3, penalties: { 'conv/kernel': [0.1, true], 'conv/bias': [0.01, true], 'bn/gamma': [0.02, true] } }],
        }),
      ),
    );

  it('flags decay on a bias and on a batch-norm gamma, and the one kernel left without decay', () => {
    const f = analyzeRun(run());
    expect(ids(f)).toEqual(['decay-on-bias-or-norm', 'decay-on-bias-or-norm', 'no-decay']);
    expect(f.find((x) => x.ruleId === 'no-decay')).toMatchObject({ severity: 'info', weight: 'head/kernel', source: { line: 7 } });
  });

  it('warns once per layer that L2 with Adam is not weight decay, and says nothing of the kind for SGD', () => {
    const adam = analyzeRun(run({ className: 'Adam', config: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999 } }));
    const adaptive = adam.filter((x) => x.ruleId === 'l2-with-adaptive-optimizer');
    expect(adaptive.map((x) => x.layer).sort()).toEqual(['bn', 'conv']);
    expect(adaptive.every((x) => x.severity === 'warning')).toBe(true);
    expect(analyzeRun(run()).some((x) => x.ruleId === 'l2-with-adaptive-optimizer')).toBe(false);
  });

  it('says nothing about missing decay when no kernel is decayed at all', () => {
    const state = stateFrom(
      wire(
        syntheticRun({
          layers: [{ name: 'a', line: 1, weights: [{ name: 'kernel' }] }, { name: 'b', line: 2, weights: [{ name: 'kernel' }] }],
          steps: [{ total: 1 }],
        }),
      ),
    );
    expect(analyzeRun(state)).toEqual([]);
  });
});

describe('loss values', () => {
  it('warns when the penalties outweigh the data loss at the first step, naming the largest', () => {
    const state = stateFrom(
      wire(
        syntheticRun({
          layers: [
            { name: 'a', line: 1, weights: [{ name: 'kernel', reg: L2(0.04) }] },
            { name: 'b', line: 2, weights: [{ name: 'kernel', reg: L2(0.04) }] },
          ],
          steps: [{ total: 17, penalties: { 'a/kernel': [3, true], 'b/kernel': [11, true] } }],
        }),
      ),
    );
    const f = analyzeRun(state).find((x) => x.ruleId === 'regularization-dominates-loss');
    expect(f?.message).toContain('(14)');
    expect(f?.weight).toBe('b/kernel');
  });

  it('finds the first non-finite step and which term went first', () => {
    const events = syntheticRun({
      layers: [
        { name: 'a', line: 1, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
        { name: 'b', line: 2, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
      ],
      steps: [
        { total: 2, penalties: { 'a/kernel': [0.1, true], 'b/kernel': [0.1, true] } },
        { total: 9e12, penalties: { 'a/kernel': [0.1, true], 'b/kernel': [0.1, true] }, norms: { 'a/kernel': 3 } },
        { total: Infinity, penalties: { 'a/kernel': [0.1, true], 'b/kernel': [Infinity, true] }, norms: { 'a/kernel': NaN } },
        { total: NaN, penalties: { 'a/kernel': [NaN, true], 'b/kernel': [NaN, true] } },
      ],
    });
    const state = stateFrom(wire(events));
    expect(firstNonFinite(state)).toMatchObject({ step: 3, terms: ['penalty:b/kernel'], weights: ['a/kernel'], previousTotal: 9e12 });
    const f = analyzeRun(state).find((x) => x.ruleId === 'non-finite-loss');
    expect(f).toMatchObject({ severity: 'error', step: 3, weight: 'b/kernel', source: { line: 2 } });
  });

  it('blames the data loss when every penalty is still finite', () => {
    const state = stateFrom(
      wire(
        syntheticRun({
          layers: [{ name: 'a', line: 1, weights: [{ name: 'kernel', reg: L2(1e-3) }] }],
          steps: [{ total: 1, penalties: { 'a/kernel': [0.1, true] } }, { total: NaN, penalties: { 'a/kernel': [0.1, true] } }],
        }),
      ),
    );
    const f = analyzeRun(state).find((x) => x.ruleId === 'non-finite-loss');
    expect(f?.message).toContain('data loss went non-finite first');
    // No term to blame: the position falls back to where the step was called.
    expect(f?.source?.line).toBe(40);
  });
});

describe('runs that did not train', () => {
  it('reports no-training-step when the script ended without a step', () => {
    const state = stateFrom([]);
    state.end = { reason: 'completed', exitCode: 0, exitSource: null };
    expect(ids(analyzeRun(state))).toEqual(['no-training-step']);
  });
  it('reports the script error instead, at the user frame, when it threw first', () => {
    const state = stateFrom([]);
    state.error = { phase: 'run', name: 'TypeError', message: 'x is not a function', stack: null, source: { file: '/ws/a.ts', line: 3, column: 1 } };
    const f = analyzeRun(state);
    expect(ids(f)).toEqual(['script-error']);
    expect(f[0].source?.line).toBe(3);
  });
});

describe('folding by source line', () => {
  it('merges one rule at one line into a single finding that counts the rest', () => {
    const at = (line: number) => ({ file: '/ws/a.ts', line, column: 1 });
    const f = foldBySource([
      makeFinding('no-decay', 'k1 has no decay.', { weight: 'k1', source: at(5) }),
      makeFinding('no-decay', 'k2 has no decay.', { weight: 'k2', source: at(5) }),
      makeFinding('no-decay', 'k3 has no decay.', { weight: 'k3', source: at(5) }),
      makeFinding('no-decay', 'k4 has no decay.', { weight: 'k4', source: at(6) }),
      makeFinding('decay-on-bias-or-norm', 'b decays a bias.', { weight: 'b', source: at(5) }),
    ]);
    expect(f).toHaveLength(3);
    expect(f[0].message).toBe('k1 has no decay. The same holds for 2 more created at this line (k2, k3).');
    expect(f[0].weight).toBeNull();
  });
});

describe('rule catalogue', () => {
  it('gives every rule a severity, a summary and a help text', () => {
    for (const [id, rule] of Object.entries(RULES)) {
      expect(id).toMatch(/^[a-z0-9-]+$/);
      expect(['error', 'warning', 'info']).toContain(rule.severity);
      expect(rule.summary.length).toBeGreaterThan(10);
      expect(rule.help.length).toBeGreaterThan(10);
    }
  });

  it('folds per-layer warnings of one cause: three layers with L2 1e-3 under Adam make one finding that lists them', () => {
    const adaptive = analyzeRun(stateFrom(readStream('adam-l2-decay'))).filter((f) => f.ruleId === 'l2-with-adaptive-optimizer');
    expect(adaptive).toHaveLength(1);
    const [f] = adaptive;
    expect(f.message).toBe("L2 1e-3 on kernel of dense_Dense1, dense_Dense2 and dense_Dense3 with Adam is not weight decay: Adam rescales the penalty's gradient too.");
    expect(f.layer).toBe('dense_Dense1');
    expect(f.source?.line).toBe(14);
    expect(f.related.map((r) => [r.layer, r.weight])).toEqual([
      ['dense_Dense1', 'dense_Dense1/kernel'],
      ['dense_Dense2', 'dense_Dense2/kernel'],
      ['dense_Dense3', 'dense_Dense3/kernel'],
    ]);
  });

  it('keeps layers of different causes apart: another coefficient is another finding', () => {
    const events = syntheticRun({
      layers: [
        { name: 'a', line: 3, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
        { name: 'b', line: 4, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
        { name: 'c', line: 5, weights: [{ name: 'kernel', reg: L2(1e-2) }] },
      ],
      optimizer: { className: 'Adam', config: { learningRate: 1e-3 } },
      steps: [{ total: 1, penalties: { 'a/kernel': [0.1, true], 'b/kernel': [0.1, true], 'c/kernel': [0.1, true] } }],
    });
    const adaptive = analyzeRun(stateFrom(wire(events))).filter((f) => f.ruleId === 'l2-with-adaptive-optimizer');
    expect(adaptive.map((f) => [f.layer, f.related.map((r) => r.layer)])).toEqual([
      ['a', ['a', 'b']],
      ['c', []],
    ]);
  });
});
