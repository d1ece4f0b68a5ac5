// Issue 18, "the report must be complete, or say it isn't": what the probes send must describe what the script
// really built and trained, whatever it named things, however its steps went.
import { describe, expect, it } from 'vitest';
import { exitCodeFor, reportSchema, type Report } from '../../src/shared/analysis/report';
import { renderTextReport } from '../../src/cli/text-report';
import { toWireJson } from '../../src/shared/protocol/wire-number';
import { analyze, fixtureScript, ROOT } from '../helpers/run';

const penalties = (r: Report) => r.terms.filter((t) => t.collection === 'regularization');
const rules = (r: Report) => r.findings.map((f) => f.ruleId);
const validates = (r: Report) => expect(reportSchema.safeParse(JSON.parse(toWireJson(r))).success).toBe(true);

describe('names and classes of the script’s own', () => {
  it('a custom RNN cell with no registered class name: layers listed, the head’s L2 reaches the loss, the cell’s is dropped like a built-in cell’s', async () => {
    const { report, state } = await analyze(fixtureScript('custom-rnn-cell.ts'), { steps: 2 });
    expect(state.protocolErrors).toBe(0);
    expect(report.status).toBe('step-limit');
    expect(report.layers.map((l) => [l.name, l.className, l.source?.line])).toEqual([
      ['rnn_RNN1', 'RNN', 34],
      ['dense_Dense1', 'Dense', 35],
    ]);
    // The cell's weights, once, on the RNN layer; the class is the constructor's name.
    expect(report.layers[0].weights.map((w) => [w.shortName, w.heldBy])).toEqual([
      ['kernel', { layer: 'tiny_cell', className: 'TinyCell', path: 'cell' }],
      ['recurrent_kernel', { layer: 'tiny_cell', className: 'TinyCell', path: 'cell' }],
    ]);
    const verdict = Object.fromEntries(penalties(report).map((t) => [t.id, [t.reachesMinimizedLoss, t.evaluated]]));
    expect(verdict).toEqual({ 'penalty:rnn_RNN1/kernel': [false, false], 'penalty:dense_Dense1/kernel': [true, true] });
    expect(report.lossSplit.first!.regularizationLoss).toBeGreaterThan(0);
    const [dropped, ...more] = report.findings.filter((f) => f.ruleId === 'regularizer-not-in-loss');
    expect(more).toEqual([]);
    expect(dropped.layer).toBe('rnn_RNN1');
    expect(dropped.message).toContain("does not add an RNN cell's regularizers to the loss, even in model.fit");
    expect(dropped.addToLoss).toBe("$model.getLayer('rnn_RNN1').cell.calculateLosses()");
    expect(renderTextReport(report, ROOT)).not.toContain('no regularization terms');
    validates(report);
  });

  it('an unregistered regularizer class, an optimizer whose config holds NaN and Infinity, a variable named 42, a layer renamed 5, a cell that failed to build', async () => {
    const { report, state, output } = await analyze(fixtureScript('odd-names.ts'), { steps: 3 });
    expect(output).toContain('no cell:');
    expect(state.protocolErrors).toBe(0);
    expect(report.status).toBe('step-limit');
    expect(report.steps).toBe(3);
    // The cell whose constructor threw is no layer of the script's; the head renamed to 5 is '5'.
    expect(report.layers.map((l) => l.name)).toEqual(['dense_Dense1', '5']);
    expect(report.graph?.nodes.some((n) => n.kind === 'op' && n.layer === '5')).toBe(true);
    expect(report.layers[0].weights[0].regularizer).toEqual({ className: 'SquaredSum', l1: 0, l2: 5e-3 });
    expect(report.variables.map((v) => [v.name, v.penalties])).toEqual([['42', ['hand:42']]]);
    expect(penalties(report).map((t) => [t.id, t.reachesMinimizedLoss])).toEqual([
      ['penalty:dense_Dense1/kernel', true],
      ['hand:42', true],
    ]);
    expect(report.optimizers[0].config).toEqual({ learningRate: 0.05, noise: Number.NaN, clip: Number.POSITIVE_INFINITY });
    expect(report.optimizers[0].weights).toContain('42');
    expect(report.graph?.variables).toContain('42');
    validates(report);
  });

  it('an error whose name and message are numbers: the script-error says them, the step before it is kept', async () => {
    const { report, state } = await analyze(fixtureScript('throws-odd-error.js'));
    expect(state.protocolErrors).toBe(0);
    expect(report.status).toBe('failed');
    expect(report.steps).toBe(1);
    expect(report.error).toMatchObject({ phase: 'run', name: '42', message: '7', source: { line: 5 } });
    expect(rules(report)).toContain('script-error');
  });
});

describe('steps', () => {
  it('a step tfjs refuses (no variable on the loss’s path) or whose loss throws, caught by the script, is no step: no-training-step', async () => {
    const { report, output } = await analyze(fixtureScript('refused-steps.ts'));
    expect(output).toContain('refused 6 steps, 3 failed; bias 0');
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(0);
    expect(report.stepsByObjective).toEqual([]);
    expect(report.objectives).toBe(0);
    expect(report.graph).toBeNull();
    expect(rules(report)).toEqual(['no-training-step']);
    expect(exitCodeFor(report)).toBe(1);
  });

  it('two models, two optimizers, no varList: two objectives, model a’s penalty reaches its loss at every step', async () => {
    const { report, state } = await analyze(fixtureScript('two-models-no-varlist.ts'), { steps: 100 });
    expect(report.status).toBe('completed');
    expect(report.objectives).toBe(2);
    expect(report.stepsByObjective).toEqual([8, 8]);
    expect(report.steps).toBe(16);
    const [a] = penalties(report);
    expect(penalties(report)).toHaveLength(1);
    expect(a).toMatchObject({ id: 'penalty:dense_Dense1/kernel', reachesMinimizedLoss: true, stepsInLoss: 8, stepsObserved: 8 });
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    // Each objective differentiates its own model's weights only.
    expect(state.graphs[0].variables).toEqual(['dense_Dense1/kernel', 'dense_Dense1/bias']);
    expect(state.graphs[1].variables).toEqual(['dense_Dense2/kernel', 'dense_Dense2/bias']);
    // Model b's first step came with no ops recorded (the call looked like model a's): its graph was taken again,
    // with every op placed in its layer.
    expect(state.graphs[1].step).toBe(2);
    const matMul = state.graphs[1].nodes.filter((n) => n.kind === 'op' && /MatMul/i.test(n.label));
    expect(matMul.map((n) => n.layer)).toEqual(['dense_Dense2']);
    expect(report.optimizers.map((o) => o.weights)).toEqual([
      ['dense_Dense1/kernel', 'dense_Dense1/bias'],
      ['dense_Dense2/kernel', 'dense_Dense2/bias'],
    ]);
    validates(report);
  });
});

describe('objectives that share variables', () => {
  it('two heads on a shared trunk, an optimizer each, no varList: two objectives; a switched optimizer on the same head stays in its objective', async () => {
    const { report } = await analyze(fixtureScript('shared-trunk-two-heads.ts'), { steps: 100 });
    expect(report.status).toBe('completed');
    expect(report.stepsByObjective).toEqual([6, 4]);
    expect(report.steps).toBe(10);
    expect(penalties(report).map((t) => [t.id, t.stepsInLoss, t.stepsObserved])).toEqual([['penalty:dense_Dense2/kernel', 6, 6]]);
    expect(rules(report).filter((r) => r !== 'no-decay')).toEqual([]);
    expect(report.optimizers.map((o) => o.weights)).toEqual([
      ['dense_Dense1/kernel', 'dense_Dense1/bias', 'dense_Dense2/kernel', 'dense_Dense2/bias'],
      ['dense_Dense1/kernel', 'dense_Dense1/bias', 'dense_Dense3/kernel', 'dense_Dense3/bias'],
      ['dense_Dense1/kernel', 'dense_Dense1/bias', 'dense_Dense2/kernel', 'dense_Dense2/bias'],
    ]);
  });
});

describe('save, load, and train on', () => {
  const LOAD_LINE = 18;

  it('without a limit: 10 steps in all, over two objectives; the loaded layers are at the line that loaded them', async () => {
    const { report } = await analyze(fixtureScript('save-load-train.ts'), { steps: 100 });
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(10);
    expect(report.stepsByObjective).toEqual([5, 5]);
    expect(report.layers.map((l) => [l.name, l.source?.line, l.weights.map((w) => w.name)])).toEqual([
      ['dense_Dense1', 5, ['dense_Dense1/kernel', 'dense_Dense1/bias']],
      ['dense_Dense2', 6, ['dense_Dense2/kernel', 'dense_Dense2/bias']],
      ['dense_Dense1', LOAD_LINE, ['dense_Dense1/kernel_1', 'dense_Dense1/bias_1']],
      ['dense_Dense2', LOAD_LINE, ['dense_Dense2/kernel_1', 'dense_Dense2/bias_1']],
    ]);
    // The copy's L2 came with its topology, and reaches its loss under fit.
    expect(penalties(report).map((t) => [t.weight, t.reachesMinimizedLoss])).toEqual([
      ['dense_Dense1/kernel', true],
      ['dense_Dense1/kernel_1', true],
    ]);
    expect(report.findings.every((f) => f.source !== null)).toBe(true);
    expect(renderTextReport(report, ROOT)).toMatch(/^10 optimizer steps, the script ran to its end/m);
    validates(report);
  });

  it('--steps 8 stops after 8 steps in all, 3 of them on the loaded model', async () => {
    const { report, state } = await analyze(fixtureScript('save-load-train.ts'), { steps: 8 });
    expect(report.status).toBe('step-limit');
    expect(report.steps).toBe(8);
    expect(report.stepsByObjective).toEqual([5, 3]);
    expect(state.layers.every((l) => l.source !== null)).toBe(true);
    // The load's line binds the model, not a layer: no quick fix may call a loaded layer by it.
    expect(state.layers.slice(2).map((l) => l.binding)).toEqual([null, null]);
  });
});
