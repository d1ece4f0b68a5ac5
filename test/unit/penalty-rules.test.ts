import { describe, expect, it } from 'vitest';
import { renderTextReport } from '../../src/cli/text-report';
import { buildReport } from '../../src/shared/analysis/report';
import { analyzeRun, foldBySource } from '../../src/shared/analysis/rules';
import { makeFinding } from '../../src/shared/analysis/rules/registry';
import { collectTerms } from '../../src/shared/analysis/terms';
import type { RunState } from '../../src/shared/model/run-state';
import type { LossGraph, TermInfo } from '../../src/shared/protocol/run-data';
import type { RunnerEventInput } from '../../src/shared/protocol/runner-protocol';
import { stateFrom, wire } from '../helpers/events';
import { L2, syntheticRun } from '../helpers/synthetic-run';

const ids = (state: RunState) => analyzeRun(state).map((f) => f.ruleId).sort();
const finished = (state: RunState) => ({ ...state, status: 'completed' as const });

/** Adds hand-written terms (and the minimized scalar's site) to the synthetic run's captured graph. */
function withHandWritten(events: RunnerEventInput[], terms: TermInfo[], minimized: LossGraph['minimizedSource'], steps: Array<Record<string, [number, boolean]>>) {
  const graph = events.find((e) => e.type === 'graph') as Extract<RunnerEventInput, { type: 'graph' }>;
  graph.graph.terms.push(...terms);
  graph.graph.minimizedSource = minimized;
  graph.graph.rawVariables = [{ id: 'w', name: 'w', shape: [4, 4], trainable: true, role: 'kernel', regularizer: null, source: { file: '/ws/train.ts', line: 3, column: 11 } }];
  graph.graph.variables.push('w');
  let i = 0;
  for (const e of events) {
    if (e.type !== 'step') continue;
    for (const [id, [value, inLoss]] of Object.entries(steps[i++] ?? {})) {
      e.record.terms[id] = value;
      if (inLoss) {
        e.record.inLoss.push(id);
        e.record.regularizationLoss = Number(e.record.regularizationLoss) + value;
        e.record.dataLoss = Number(e.record.dataLoss) - value;
      }
    }
  }
  return events;
}

const hand = (id: string, weight: string, extra: Partial<TermInfo> = {}): TermInfo => ({
  id,
  collection: 'regularization',
  kind: 'hand-written',
  layer: null,
  weight,
  regularizer: { className: 'HandWritten', l1: 0, l2: 2e-3 },
  nodeId: `op:${id}`,
  evaluated: true,
  reachesMinimizedLoss: false,
  pieces: [{ weight, form: 'l2', coefficient: 2e-3 }],
  source: { file: '/ws/train.ts', line: 20, column: 5, name: 'penalties' },
  summedAt: null,
  ...extra,
});

describe('hand-written terms in the rules', () => {
  it('in the loss: counted as regularization, a decay factor for the raw variable, no finding', () => {
    const events = withHandWritten(syntheticRun({ layers: [], steps: [{ total: 2 }, { total: 1.9 }] }), [hand('hand:w', 'w', { reachesMinimizedLoss: true })], null, [
      { 'hand:w': [0.1, true] },
      { 'hand:w': [0.1, true] },
    ]);
    const state = stateFrom(wire(events));
    expect(analyzeRun(state)).toEqual([]);
    const report = buildReport(finished(state), { toolVersion: 't', durationMs: 1 });
    expect(report.lossSplit.first).toMatchObject({ regularizationLoss: 0.1, dataLoss: 1.9 });
    expect(report.variables[0]).toMatchObject({ name: 'w', penalties: ['hand:w'], source: { line: 3 } });
    expect(report.variables[0].decayPerStep).toBeCloseTo(1 - 2 * 0.1 * 2e-3, 9);
  });

  it('dropped, summed into a total the step does not return: one error at that sum, in the user\'s names', () => {
    const summedAt = { file: '/ws/train.ts', line: 29, column: 21, name: 'totalLoss' };
    const events = withHandWritten(
      syntheticRun({ layers: [], steps: [{ total: 2 }] }),
      [hand('hand:w', 'w', { summedAt }), hand('hand:v', 'v', { summedAt, pieces: [{ weight: 'v', form: 'l1', coefficient: 1e-3 }], regularizer: { className: 'HandWritten', l1: 1e-3, l2: 0 } })],
      { file: '/ws/train.ts', line: 31, column: 12, name: 'crossEntropy' },
      [{ 'hand:w': [0.1, false], 'hand:v': [0.05, false] }],
    );
    const findings = analyzeRun(stateFrom(wire(events)));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ ruleId: 'regularizer-not-in-loss', severity: 'error', source: { line: 29, column: 21 } });
    expect(findings[0].message).toMatch(
      /^`totalLoss` \(line 29\) adds these 2 penalties \(hand-written L2 2e-3 on w; hand-written L1 1e-3 on v\), but the step returns `crossEntropy` \(line 31\)/,
    );
    expect(findings[0].related.map((r) => r.termId)).toEqual(['hand:w', 'hand:v']);
  });

  it('dropped and never summed: computed but never added, at the line that built it', () => {
    const events = withHandWritten(syntheticRun({ layers: [], steps: [{ total: 2 }] }), [hand('hand:w', 'w')], { file: '/ws/train.ts', line: 31, column: 12, name: null }, [
      { 'hand:w': [0.1, false] },
    ]);
    const [f] = analyzeRun(stateFrom(wire(events)));
    expect(f.source?.line).toBe(20);
    expect(f.message).toBe(
      'Hand-written L2 2e-3 on w (`penalties`, line 20) is computed in the step but never added to the loss it returns (the value at line 31): it decays nothing (1 step).',
    );
  });

  it('coefficients written negative or non-finite by hand are invalid too', () => {
    const events = withHandWritten(
      syntheticRun({ layers: [], steps: [{ total: 2 }] }),
      [hand('hand:w', 'w', { reachesMinimizedLoss: true, pieces: [{ weight: 'w', form: 'l2', coefficient: -0.01 }] })],
      null,
      [{ 'hand:w': [-0.1, true] }],
    );
    const f = analyzeRun(stateFrom(wire(events))).filter((x) => x.ruleId === 'invalid-regularizer');
    expect(f.map((x) => [x.severity, x.weight])).toEqual([['warning', 'w']]);
  });
});

describe('layer regularizers', () => {
  it('invalid-regularizer: an error for NaN and ±Infinity, a warning for a negative coefficient', () => {
    const events = syntheticRun({
      layers: [
        { name: 'a', line: 3, weights: [{ name: 'kernel', reg: L2(Infinity) }] },
        { name: 'b', line: 4, weights: [{ name: 'kernel', reg: { className: 'L1L2', l1: NaN, l2: 0 } }] },
        { name: 'c', line: 5, weights: [{ name: 'kernel', reg: L2(-1e-3) }] },
        { name: 'd', line: 6, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
      ],
      steps: [{ total: 2, penalties: { 'a/kernel': [Infinity, true], 'b/kernel': [NaN, true], 'c/kernel': [-0.1, true], 'd/kernel': [0.1, true] } }],
    });
    const state = stateFrom(wire(events));
    expect(state.layers[0].weights[0].regularizer?.l2).toBe(Infinity);
    const f = analyzeRun(state).filter((x) => x.ruleId === 'invalid-regularizer');
    expect(f.map((x) => [x.layer, x.severity])).toEqual([
      ['a', 'error'],
      ['b', 'error'],
      ['c', 'warning'],
    ]);
    expect(f[2].message).toContain('a negative L2 grows the weights');
  });

  it('an RNN cell penalty gets the cell advice, never the generic calculateLosses advice', () => {
    const events = syntheticRun({
      layers: [{ name: 'lstm', className: 'LSTM', line: 7, weights: [{ name: 'kernel', reg: L2(1e-3) }] }],
      steps: [{ total: 2, penalties: { 'lstm/kernel': [0.1, false] } }],
    });
    const layers = events.find((e) => e.type === 'layers') as Extract<RunnerEventInput, { type: 'layers' }>;
    layers.layers[0].weights[0].heldBy = { layer: 'lstm_cell', className: 'LSTMCell', path: 'cell' };
    layers.layers[0].binding = 'encoder';
    const [f] = analyzeRun(stateFrom(wire(events)));
    expect(f.message).toContain("does not add an RNN cell's regularizers to the loss, even in model.fit. Add tf.addN(encoder.cell.calculateLosses())");
    expect(f.message).not.toContain('Add model.calculateLosses()');
    expect(f.addToLoss).toBe('encoder.cell.calculateLosses()');
  });

  it('a model and its copy loaded from a save, with layers of the same name: one cell finding each, each reaching its own layer', () => {
    const events = syntheticRun({
      layers: [
        { name: 'lstm', className: 'LSTM', line: 7, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
        { name: 'copy', className: 'LSTM', line: 20, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
      ],
      steps: [{ total: 2, penalties: { 'lstm/kernel': [0.1, false], 'copy/kernel': [0.1, false] } }],
    });
    const layers = events.find((e) => e.type === 'layers') as Extract<RunnerEventInput, { type: 'layers' }>;
    const graph = events.find((e) => e.type === 'graph') as Extract<RunnerEventInput, { type: 'graph' }>;
    for (const l of layers.layers) l.weights[0].heldBy = { layer: 'lstm_cell', className: 'LSTMCell', path: 'cell' };
    // The copy tfjs loaded keeps the saved name; its line (the load) binds the model, not the layer.
    layers.layers[1].name = 'lstm';
    for (const t of graph.graph.terms) if (t.layer === 'copy') t.layer = 'lstm';
    layers.layers[0].binding = 'encoder';
    layers.layers[1].binding = null;
    const found = analyzeRun(stateFrom(wire(events))).filter((f) => f.ruleId === 'regularizer-not-in-loss');
    expect(found.map((f) => [f.source?.line, f.addToLoss])).toEqual([
      [7, 'encoder.cell.calculateLosses()'],
      [20, "$model.getLayer('lstm').cell.calculateLosses()"],
    ]);
  });
});

describe('the optimizer that trains each weight', () => {
  const twoOptimizers = (withMapping: boolean) => {
    const events = syntheticRun({
      optimizer: { className: 'Adam', config: { learningRate: 1e-3 } },
      layers: [
        { name: 'enc', line: 3, weights: [{ name: 'kernel', reg: L2(0.01) }] },
        { name: 'head', line: 4, weights: [{ name: 'kernel', reg: L2(0.01) }, { name: 'bias', reg: { className: 'L1L2', l1: 0.5, l2: 0 } }] },
        { name: 'target', line: 5, weights: [{ name: 'kernel', reg: L2(0.01) }] },
      ],
      steps: [{ total: 2, penalties: { 'enc/kernel': [0.1, true], 'head/kernel': [0.1, true], 'head/bias': [0.2, true], 'target/kernel': [0.1, false] } }],
    });
    if (withMapping) {
      events.push(
        { type: 'optimizer-weights', update: { index: 0, optimizer: { className: 'SGD', config: { learningRate: 0.1 } }, weights: ['enc/kernel'] } },
        { type: 'optimizer-weights', update: { index: 1, optimizer: { className: 'Adam', config: { learningRate: 1e-3 } }, weights: ['head/kernel', 'head/bias'] } },
      );
    }
    return stateFrom(wire(events));
  };

  it('l2-with-adaptive-optimizer for exactly the weights Adam updates, each by its own regularizer; decay with SGD lr; none for a weight nothing trains', () => {
    const state = twoOptimizers(true);
    const findings = analyzeRun(state);
    expect(findings.map((f) => [f.ruleId, f.layer])).toEqual([
      ['decay-on-bias-or-norm', 'head'],
      ['l2-with-adaptive-optimizer', 'head'],
    ]);
    expect(findings[1].message).toContain('L2 0.01 on kernel, L1 0.5 on bias of head with Adam');
    const report = buildReport(finished(state), { toolVersion: 't', durationMs: 1 });
    const weights = Object.fromEntries(report.layers.flatMap((l) => l.weights.map((w) => [w.name, w])));
    expect(weights['enc/kernel'].decayPerStep).toBeCloseTo(1 - 2 * 0.1 * 0.01, 9);
    expect(weights['head/kernel'].decayPerStep).toBeUndefined();
    expect(weights['target/kernel']).toMatchObject({ optimizer: null });
    expect(weights['target/kernel'].decayPerStep).toBeUndefined();
    expect(report.optimizers.map((o) => [o.index, o.className, o.weights.length])).toEqual([
      [0, 'SGD', 1],
      [1, 'Adam', 2],
    ]);
  });

  it("without a record of who updates what, the objective's optimizer stands in (as before)", () => {
    expect(ids(twoOptimizers(false))).toEqual(['decay-on-bias-or-norm', 'l2-with-adaptive-optimizer', 'l2-with-adaptive-optimizer', 'regularizer-not-in-loss']);
  });
});

describe('smaller things', () => {
  it('folded findings keep what they fold, structured', () => {
    const at = { file: '/ws/a.ts', line: 5, column: 1 };
    const [f] = foldBySource([
      makeFinding('no-decay', 'k1.', { layer: 'l1', weight: 'l1/kernel', source: at }),
      makeFinding('no-decay', 'k2.', { layer: 'l2', weight: 'l2/kernel', source: at }),
    ]);
    expect(f.related).toEqual([
      { layer: 'l1', weight: 'l1/kernel', termId: null },
      { layer: 'l2', weight: 'l2/kernel', termId: null },
    ]);
  });

  it('a run with no step has no data term; a model with no penalties reads "no regularization terms"', () => {
    const noStep = stateFrom(wire(syntheticRun({ layers: [{ name: 'd', line: 2, weights: [{ name: 'kernel' }] }], steps: [] }).filter((e) => e.type === 'layers')));
    expect(collectTerms(noStep)).toEqual([]);
    const clean = stateFrom(wire(syntheticRun({ layers: [{ name: 'd', line: 2, weights: [{ name: 'kernel' }] }], steps: [{ total: 1 }] })));
    expect(collectTerms(clean).map((t) => t.id)).toEqual(['data']);
    const text = renderTextReport(buildReport(finished(clean), { toolVersion: 't', durationMs: 1 }), '/ws');
    expect(text).toContain('none: no regularization terms.');
    expect(text).not.toContain('every penalty reaches');
  });
});
