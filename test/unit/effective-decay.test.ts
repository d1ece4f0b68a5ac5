import { describe, expect, it } from 'vitest';
import { effectiveDecayOf, effectiveDecaySeries, median } from '../../src/shared/analysis/effective-decay';
import { layerNotes } from '../../src/shared/analysis/layer-notes';
import { buildReport } from '../../src/shared/analysis/report';
import { analyzeRun } from '../../src/shared/analysis/rules';
import { collectTerms, weightViews } from '../../src/shared/analysis/terms';
import { applyRunnerEvent, emptyRunState } from '../../src/shared/model/run-state';
import { stateFrom, wire } from '../helpers/events';
import { L2, syntheticRun } from '../helpers/synthetic-run';

const ADAM = { className: 'Adam', config: { learningRate: 1e-3 } };
const layers = [
  { name: 'conv', line: 10, weights: [{ name: 'kernel', reg: L2(5e-4) }] },
  { name: 'dense', line: 11, weights: [{ name: 'kernel', reg: L2(5e-4) }] },
];
const inLoss = { 'conv/kernel': [0.1, true], 'dense/kernel': [0.1, true] } as Record<string, [number, boolean]>;

function run(decays: Array<Record<string, number | null>>, optimizer: { className: string; config: Record<string, number> } = ADAM) {
  const state = stateFrom(wire(syntheticRun({ layers, optimizer, steps: decays.map((decay) => ({ total: 2, penalties: inLoss, decay })) })));
  state.status = 'completed';
  return state;
}

describe('effective decay in the run state', () => {
  it('keeps its own step column: a step whose decay never came is not invented, a repeated step replaces its values', () => {
    const state = emptyRunState('/ws/train.ts');
    for (const e of wire(syntheticRun({ layers, steps: [{ total: 1, penalties: inLoss }, { total: 1, penalties: inLoss }] }))) applyRunnerEvent(state, e);
    const decay = (step: number, values: Record<string, number | null>) =>
      wire([{ type: 'decay', record: { objective: 0, step, values } }]).forEach((e) => applyRunnerEvent(state, e));
    decay(1, { 'conv/kernel': 1e-3 });
    decay(2, { 'conv/kernel': 2e-3, 'dense/kernel': 'NaN' as unknown as number });
    decay(2, { 'dense/kernel': 5e-4 });
    expect(state.series[0].decay.step).toEqual([1, 2]);
    expect(state.series[0].decay.values).toEqual({ 'conv/kernel': [1e-3, 2e-3], 'dense/kernel': [null, 5e-4] });
    wire([{ type: 'decay', record: { objective: 0, step: 2, values: {}, unavailable: { 'conv/kernel': 'why' } } }]).forEach((e) => applyRunnerEvent(state, e));
    expect(state.decayUnavailable).toEqual({ 'conv/kernel': 'why' });
  });

  it('the median over measured steps, ignoring steps without a value and non-finite ones; 1 − median is the factor', () => {
    const state = run([{ 'conv/kernel': 3e-6 }, { 'conv/kernel': null }, { 'conv/kernel': 1e-6 }, { 'conv/kernel': 2e-6 }, { 'conv/kernel': Number.NaN }]);
    const views = weightViews(state, collectTerms(state));
    const d = effectiveDecayOf(state, views.find((v) => v.info.id === 'conv/kernel')!)!;
    expect(d).toMatchObject({ median: 2e-6, perStep: 1 - 2e-6, steps: 3, optimizer: 'Adam', unavailable: null });
    expect(d.sgdEquivalent).toBeCloseTo(2 * 1e-3 * 5e-4, 15);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(effectiveDecaySeries(state, 'nothing')).toBeNull();
  });

  it('reports the series aligned with the curves (null where no decay came, e.g. a last step cut off) and the median on each weight', () => {
    const state = run([{ 'conv/kernel': 1e-6, 'dense/kernel': 1e-7 }, { 'conv/kernel': 3e-6, 'dense/kernel': 1e-7 }, {}]);
    const report = buildReport(state, { toolVersion: 't', durationMs: 1 });
    expect(report.curves.effectiveDecay).toEqual({ 'conv/kernel': [1e-6, 3e-6, null], 'dense/kernel': [1e-7, 1e-7, null] });
    const conv = report.layers[0].weights[0];
    expect(conv.effectiveDecay).toBe(2e-6);
    expect(conv.effectiveDecayPerStep).toBe(1 - 2e-6);
    expect(report.weightDecay).toBe('as-written');
  });

  it('a weight of an optimizer Loss Lens cannot shadow says so, even when the runner never saw its updates', () => {
    const state = run([{}], { className: 'MyOptimizer', config: { learningRate: 0.1 } });
    const report = buildReport(state, { toolVersion: 't', durationMs: 1 });
    expect(report.layers[0].weights[0]).toMatchObject({ effectiveDecayUnavailable: "Loss Lens has no model of MyOptimizer's update" });
    expect(report.layers[0].weights[0].effectiveDecay).toBeUndefined();
  });
});

describe('uneven-effective-decay', () => {
  const uneven = (state: ReturnType<typeof run>) => analyzeRun(state).filter((f) => f.ruleId === 'uneven-effective-decay');

  it('fires when an adaptive optimizer gives the same coefficient decays more than 10× apart, naming the weakest and the strongest', () => {
    const [f, ...rest] = uneven(
      run([
        { 'conv/kernel': 2e-5, 'dense/kernel': 1e-7 },
        { 'conv/kernel': 3e-5, 'dense/kernel': 1e-7 },
        { 'conv/kernel': 2e-5, 'dense/kernel': 2e-7 },
      ]),
    );
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'warning', layer: 'dense', weight: 'dense/kernel' });
    expect(f.message).toBe(
      'Under Adam, the same L2 5e-4 shrinks dense/kernel by 1e-7 per step and conv/kernel by 2e-5 per step: 200× apart (100×–300× at each of the 3 steps measured) ' +
        "(plain SGD would shrink each by 1e-6), measured over 2 weights. Adam divides each weight's penalty gradient by that weight's own gradient scale.",
    );
    expect(f.related.map((r) => r.weight)).toEqual(['dense/kernel', 'conv/kernel']);
  });

  it('stays quiet at 10× or less, under momentum (which rescales every weight alike), and across different coefficients', () => {
    expect(uneven(run([{ 'conv/kernel': 1e-6, 'dense/kernel': 1e-7 }]))).toEqual([]);
    expect(uneven(run([{ 'conv/kernel': 2e-5, 'dense/kernel': 1e-7 }], { className: 'Momentum', config: { learningRate: 1e-3, momentum: 0.9 } }))).toEqual([]);
    const mixed = stateFrom(
      wire(
        syntheticRun({
          layers: [layers[0], { ...layers[1], weights: [{ name: 'kernel', reg: L2(1e-2) }] }],
          optimizer: ADAM,
          steps: [{ total: 2, penalties: inLoss, decay: { 'conv/kernel': 2e-5, 'dense/kernel': 1e-7 } }],
        }),
      ),
    );
    expect(analyzeRun(mixed).some((f) => f.ruleId === 'uneven-effective-decay')).toBe(false);
  });

  it('calls a weight its penalty does not shrink at all the extreme case', () => {
    const [f] = uneven(run([1, 2, 3].map(() => ({ 'conv/kernel': 2e-5, 'dense/kernel': 0 }))));
    expect(f.message).toMatch(/: one of them not at all \(∞–∞ at each of the 3 steps measured\) \(plain SGD/);
  });
});

describe('notes and hover sentences', () => {
  it('says how much Adam really shrinks the kernel next to what plain SGD would', () => {
    const notes = layerNotes(run([{ 'conv/kernel': 7e-8, 'dense/kernel': 7e-8 }]));
    expect(notes[0].text).toBe('L2 5e-4 on kernel · reaches loss · Adam shrinks it 7e-8/step (plain SGD: 1e-6)');
    // τ = 1/s: the steps over which the decay forgets the weight's past.
    expect(notes[0].layers[0].weights[0].decaySentence).toBe('L2 5e-4 · Adam shrinks this kernel 7e-8 per step (plain SGD with this L2: 1e-6) · τ ≈ 1.4e7 steps');
  });

  it('a helper line with several layers gives the range; no decay measured yet adds nothing', () => {
    const many = stateFrom(
      wire(
        syntheticRun({
          layers: [1, 2, 3].map((i) => ({ name: `d${i}`, line: 12, weights: [{ name: 'kernel', reg: L2(1e-3) }] })),
          optimizer: ADAM,
          steps: [{ total: 1, penalties: { 'd1/kernel': [0.1, true], 'd2/kernel': [0.1, true], 'd3/kernel': [0.1, true] }, decay: { 'd1/kernel': 1e-7, 'd2/kernel': 3e-6, 'd3/kernel': 2e-7 } }],
        }),
      ),
    );
    expect(layerNotes(many)[0].text).toBe('3 layers · L2 1e-3 on kernel · reaches loss · Adam: 1e-7–3e-6/step');
    expect(layerNotes(run([{}]))[0].text).toBe('L2 5e-4 on kernel · reaches loss');
  });
});
