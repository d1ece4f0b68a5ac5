import { describe, expect, it } from 'vitest';
import { renderTextReport } from '../../src/cli/text-report';
import { layerNotes } from '../../src/shared/analysis/layer-notes';
import { buildReport, reportSchema } from '../../src/shared/analysis/report';
import { analyzeRun } from '../../src/shared/analysis/rules';
import type { DecayApplier, OptimizerInfo, TrainingPlan } from '../../src/shared/protocol/run-data';
import type { RunnerEventInput } from '../../src/shared/protocol/runner-protocol';
import { toWireJson } from '../../src/shared/protocol/wire-number';
import { stateFrom, wire } from '../helpers/events';
import { L2, syntheticRun, type SyntheticLayer } from '../helpers/synthetic-run';

// A model as a user's AdamW trains it: a dense layer and a LayerNormalization, no penalty anywhere.
const LAYERS: SyntheticLayer[] = [
  { name: 'dense', line: 10, weights: [{ name: 'kernel' }, { name: 'bias' }] },
  { name: 'ln', className: 'LayerNormalization', line: 11, weights: [{ name: 'gamma', role: 'gamma' }, { name: 'beta', role: 'beta' }] },
];
const ALL = ['dense/kernel', 'dense/bias', 'ln/gamma', 'ln/beta'];
const ADAMW: OptimizerInfo = { className: 'Adam', config: { learningRate: 0.1 }, jsClass: 'AdamW', decaySettings: { weightDecayRate: 1e-3 } };
const BY_ADAMW: DecayApplier = { by: 'optimizer', className: 'AdamW', source: { file: '/ws/train.ts', line: 5, column: 9 } };

/** A run of `steps` steps whose weights `shrunk` lose `s` per step outside the update, applied by `applier`. */
function run(opts: {
  steps?: number;
  s?: number;
  shrunk?: string[];
  applier?: DecayApplier;
  optimizer?: OptimizerInfo;
  plans?: TrainingPlan[];
  layers?: SyntheticLayer[];
}) {
  const layers = opts.layers ?? LAYERS;
  const weights = layers.flatMap((l) => l.weights.map((w) => `${l.name}/${w.name}`));
  const shrunk = opts.shrunk ?? weights;
  const s = opts.s ?? 1e-4;
  const events: RunnerEventInput[] = syntheticRun({ layers, optimizer: { className: 'Adam', config: { learningRate: 0.1 } }, steps: Array.from({ length: opts.steps ?? 4 }, () => ({ total: 1 })) });
  events.push({ type: 'optimizer-weights', update: { index: 0, optimizer: opts.optimizer ?? ADAMW, weights } });
  for (const plan of opts.plans ?? []) events.push({ type: 'training-plan', plan });
  for (let step = 1; step <= (opts.steps ?? 4); step++) {
    const values = Object.fromEntries(shrunk.map((w) => [w, s]));
    events.push({
      type: 'decay',
      record: { objective: 0, step, values, decoupled: values, ...(step === 1 && shrunk.length ? { appliers: Object.fromEntries(shrunk.map((w) => [w, opts.applier ?? BY_ADAMW])) } : {}) },
    });
  }
  const state = stateFrom(wire(events));
  state.status = 'completed';
  return state;
}

const rules = (state: ReturnType<typeof run>, id: string) => analyzeRun(state).filter((f) => f.ruleId === id);

describe('a decay no penalty expresses (a user AdamW, a decay step in the script)', () => {
  it('is a decay of kind decoupled on each weight: its shrink, who applies it, whether it follows lr, its timescale', () => {
    const state = run({});
    const report = buildReport(state, { toolVersion: 't', durationMs: 1 });
    expect(reportSchema.safeParse(JSON.parse(toWireJson(report))).success).toBe(true);
    const kernel = report.layers[0].weights[0];
    expect(kernel.decay).toEqual({
      kind: 'decoupled',
      shrinkPerStep: 1e-4,
      factorPerStep: 1 - 1e-4,
      steps: 4,
      appliedBy: 'optimizer',
      className: 'AdamW',
      source: { file: '/ws/train.ts', line: 5, column: 9 },
      // lr 0.1 × λ 1e-3 = 1e-4: AdamW's lr·λ.
      followsLearningRate: true,
    });
    expect(kernel.decayHorizonSteps).toBeCloseTo(1e4, 6);
    expect(kernel.decayHorizonEpochs).toBeUndefined();
  });

  it('says what it measured, never "no decay": text report, notes and hover', () => {
    const state = run({});
    const text = renderTextReport(buildReport(state, { toolVersion: 't', durationMs: 1 }), '/ws');
    expect(text).toMatch(/dense\s+Dense\s+train\.ts:10:3\s+decoupled 1e-4\/step \(AdamW\) on kernel, bias/);
    expect(text).toMatch(/ln\s+LayerNormalization\s+train\.ts:11:3\s+decoupled 1e-4\/step \(AdamW\) on gamma, beta/);
    expect(text).not.toContain('no decay');
    expect(text).not.toContain('no regularization terms');
    const notes = layerNotes(state);
    expect(notes.map((n) => n.text)).toEqual(['decoupled 1e-4/step (AdamW) on kernel, bias', 'decoupled 1e-4/step (AdamW) on gamma, beta']);
    expect(notes[0].layers[0].weights[0].decaySentence).toBe('decoupled 1e-4/step (AdamW) · shrinks this kernel 1e-4 per step, lr·λ · τ ≈ 1e4 steps');
    expect(notes[0].layers[0].weights[0].decoupled).toBe('decoupled 1e-4/step (AdamW)');
  });

  it('a decay step in the script names its line; with a constant lr and no λ, whether it follows lr is unknown', () => {
    const state = run({ applier: { by: 'script', className: null, source: { file: '/ws/train.ts', line: 30, column: 7 } }, optimizer: { className: 'Adam', config: { learningRate: 0.1 } } });
    const report = buildReport(state, { toolVersion: 't', durationMs: 1 });
    expect(report.layers[0].weights[0].decay).toMatchObject({ appliedBy: 'script', className: null, followsLearningRate: null });
    expect(renderTextReport(report, '/ws')).toContain('decoupled 1e-4/step (script, line 30) on kernel, bias');
    // In a helper file, the path says where.
    const inHelper = run({ applier: { by: 'script', className: null, source: { file: '/ws/lib/decay.ts', line: 3, column: 5 } } });
    expect(renderTextReport(buildReport(inHelper, { toolVersion: 't', durationMs: 1 }), '/ws')).toContain('decoupled 1e-4/step (script, lib/decay.ts:3:5) on kernel, bias');
    expect(layerNotes(state)[0].text).toBe('decoupled 1e-4/step (script, line 30) on kernel, bias');
  });

  it('is decay for the rules: decay-on-bias-or-norm fires on the biases and the LayerNormalization weights, no-decay on a kernel left out', () => {
    const state = run({});
    const onBias = rules(state, 'decay-on-bias-or-norm');
    expect(onBias.map((f) => f.message)).toEqual([
      'Decoupled 1e-4/step (AdamW) on dense/bias decays a bias.',
      'Decoupled 1e-4/step (AdamW) on ln/gamma decays a normalization gamma. The same holds for 1 more created at this line (ln/beta).',
    ]);
    // A filter that leaves the biases and norms out: nothing to say about them.
    expect(rules(run({ shrunk: ['dense/kernel'] }), 'decay-on-bias-or-norm')).toEqual([]);
    const two = [...LAYERS, { name: 'head', line: 12, weights: [{ name: 'kernel' }] }];
    const noDecay = rules(run({ layers: two, shrunk: ['dense/kernel'] }), 'no-decay');
    expect(noDecay.map((f) => f.weight)).toEqual(['head/kernel']);
    expect(rules(run({ layers: two, shrunk: [] }), 'no-decay')).toEqual([]);
  });
});

describe('whether a decoupled decay follows the learning rate', () => {
  /** A run whose learning rate falls step by step, its weight shrunk by `s(lr)` each step (a script's decay step). */
  function scheduled(s: (lr: number) => number) {
    const layers: SyntheticLayer[] = [{ name: 'dense', line: 10, weights: [{ name: 'kernel' }] }];
    const events = syntheticRun({ layers, optimizer: { className: 'Adam', config: { learningRate: 0.1 } }, steps: [1, 2, 3, 4].map(() => ({ total: 1 })) });
    const lrs = [0.1, 0.08, 0.06, 0.04];
    const out: RunnerEventInput[] = events.map((e) => (e.type === 'step' ? { ...e, record: { ...e.record, learningRate: lrs[e.record.step - 1] } } : e));
    lrs.forEach((lr, i) =>
      out.push({
        type: 'decay',
        record: { objective: 0, step: i + 1, values: { 'dense/kernel': s(lr) }, decoupled: { 'dense/kernel': s(lr) }, ...(i === 0 ? { appliers: { 'dense/kernel': { by: 'script', className: null, source: null } } } : {}) },
      }),
    );
    const state = stateFrom(wire(out));
    state.status = 'completed';
    return buildReport(state, { toolVersion: 't', durationMs: 1 }).layers[0].weights[0].decay!;
  }

  it('under a schedule: lr·λ follows it, a fixed λ does not, anything else is not said', () => {
    expect(scheduled((lr) => lr * 1e-3).followsLearningRate).toBe(true);
    expect(scheduled(() => 1e-4).followsLearningRate).toBe(false);
    expect(scheduled((lr) => lr * lr * 1e-2).followsLearningRate).toBeNull();
  });
});

describe('optimizer-decay-inactive', () => {
  it('an AdamW that shrinks nothing it trains: names the class and the settings it holds', () => {
    const wrongKey: OptimizerInfo = { className: 'Adam', config: { learningRate: 1e-3 }, jsClass: 'AdamW', decaySettings: { weightDecay: 0, 'settings.weightDecayRate': 0.01 } };
    const [f, ...rest] = rules(run({ shrunk: [], optimizer: wrongKey }), 'optimizer-decay-inactive');
    expect(rest).toEqual([]);
    expect(f.severity).toBe('warning');
    expect(f.message).toBe(
      "AdamW (a subclass of tfjs's Adam) says weight decay (its class name and its settings weightDecay=0, settings.weightDecayRate=0.01), " +
        "but none of the 4 weights it trains shrinks beyond what its update explains: its decay is 0. Check the order of AdamW's constructor arguments and the key it reads its rate from.",
    );
    expect(f.source).toEqual({ file: '/ws/train.ts', line: 40, column: 5 });
  });

  it('a class of another name whose settings ask for decay; quiet when it decays, when nothing says decay, before two steps, and for an update of its own', () => {
    const named: OptimizerInfo = { className: 'Adam', config: { learningRate: 1e-3 }, jsClass: 'MyOptimizer', decaySettings: { wd: 0.01 } };
    expect(rules(run({ shrunk: [], optimizer: named }), 'optimizer-decay-inactive')).toHaveLength(1);
    expect(rules(run({ optimizer: named }), 'optimizer-decay-inactive')).toEqual([]);
    expect(rules(run({ shrunk: [], optimizer: { ...named, decaySettings: { wd: 0 } } }), 'optimizer-decay-inactive')).toEqual([]);
    expect(rules(run({ shrunk: [], optimizer: { className: 'Adam', config: { learningRate: 1e-3 } } }), 'optimizer-decay-inactive')).toEqual([]);
    expect(rules(run({ shrunk: [], optimizer: named, steps: 1 }), 'optimizer-decay-inactive')).toEqual([]);
    expect(rules(run({ shrunk: [], optimizer: { ...named, ownUpdate: true } }), 'optimizer-decay-inactive')).toEqual([]);
  });
});

describe('the decay timescale against the planned training', () => {
  const plan = (epochs: number, stepsPerEpoch: number): TrainingPlan => ({ method: 'fit', epochs, stepsPerEpoch, weights: ALL, source: { file: '/ws/train.ts', line: 50, column: 7 } });

  it('decay-too-weak-for-run: τ longer than epochs × steps per epoch, with the planned steps and the fraction it removes', () => {
    const state = run({ plans: [plan(3, 4)] });
    const [f, ...rest] = rules(state, 'decay-too-weak-for-run');
    expect(rest).toEqual([]);
    expect(f.severity).toBe('info');
    expect(f.message).toBe(
      'The decay of 4 weights (dense/kernel, dense/bias, ln/gamma and 1 more) has τ ≈ 1e4 steps (2500 epochs), longer than the 12 steps ' +
        'model.fit (line 50) plans (3 epochs × 4): over them it removes 0.1% of each (1 − e^(−T/τ)).',
    );
    expect(f.source).toEqual({ file: '/ws/train.ts', line: 50, column: 7 });
    expect(f.related.map((r) => r.weight)).toEqual(ALL);
    const report = buildReport(state, { toolVersion: 't', durationMs: 1 });
    expect(report.layers[0].weights[0].decayHorizonEpochs).toBeCloseTo(2500, 6);
    expect(layerNotes(state)[0].layers[0].weights[0].decaySentence).toMatch(/τ ≈ 1e4 steps \(2500 epochs\)$/);
  });

  it('decay-too-strong-for-epoch: τ shorter than one epoch; nothing between one epoch and the run; no plan, no finding', () => {
    const [f] = rules(run({ s: 0.05, plans: [plan(2, 64)] }), 'decay-too-strong-for-epoch');
    expect(f.severity).toBe('warning');
    expect(f.message).toMatch(/^The decay of 4 weights .* has τ ≈ 20 steps \(0\.31 epochs\), shorter than one epoch of model\.fit \(line 50\) \(64 steps\): each epoch it removes 95\.9% of each/);
    const between = run({ s: 1e-3, plans: [plan(10, 200)] });
    expect([...rules(between, 'decay-too-strong-for-epoch'), ...rules(between, 'decay-too-weak-for-run')]).toEqual([]);
    expect(rules(run({}), 'decay-too-weak-for-run')).toEqual([]);
    // fit called in a loop: the whole run is not one call's plan, so "too weak for the run" is not said.
    expect(rules(run({ plans: [plan(1, 4), plan(1, 4)] }), 'decay-too-weak-for-run')).toEqual([]);
  });
});

describe('uneven-effective-decay on clear evidence only', () => {
  const ADAM = { className: 'Adam', config: { learningRate: 1e-3 } };
  const layers = [
    { name: 'a', line: 10, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
    { name: 'b', line: 11, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
  ];
  const inLoss = { 'a/kernel': [0.1, true], 'b/kernel': [0.1, true] } as Record<string, [number, boolean]>;
  const uneven = (ratios: number[]) => {
    const state = stateFrom(wire(syntheticRun({ layers, optimizer: ADAM, steps: ratios.map((r) => ({ total: 1, penalties: inLoss, decay: { 'a/kernel': 1e-7, 'b/kernel': r * 1e-7 } })) })));
    state.status = 'completed';
    return analyzeRun(state).filter((f) => f.ruleId === 'uneven-effective-decay');
  };

  it('a median ratio over 10 with one step at 10 or below is not clear: no finding; every step over 10 is', () => {
    expect(uneven([38, 40, 9, 50, 45])).toEqual([]);
    const [f] = uneven([38, 40, 12, 50, 45]);
    expect(f.message).toContain('40× apart (12×–50× at each of the 5 steps measured)');
    // Fewer than three steps measured for both: not enough to say.
    expect(uneven([40, 40])).toEqual([]);
  });
});
