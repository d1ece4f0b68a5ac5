import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileLossFix } from '../../src/host/editor/minimize-fix';
import { layerNotes } from '../../src/shared/analysis/layer-notes';
import { reportSchema, type Report } from '../../src/shared/analysis/report';
import { toWireJson } from '../../src/shared/protocol/wire-number';
import { renderTextReport } from '../../src/cli/text-report';
import { analyzeOn, MATRIX_BACKENDS } from '../helpers/backends';
import { analyze, fixtureScript, ROOT } from '../helpers/run';

const penalties = (r: Report) => r.terms.filter((t) => t.collection === 'regularization');
const errors = (r: Report, rule: string) => r.findings.filter((f) => f.ruleId === rule);
const weightsOf = (r: Report) => [...r.layers.flatMap((l) => l.weights), ...r.variables];
const lineOf = (r: Report, name: string) => r.variables.find((v) => v.name === name)?.source?.line;

describe.each(MATRIX_BACKENDS)('on %s', (backend) => {
  const analyze = analyzeOn(backend);

  describe('hand-written penalties', () => {
    it('hand-written L2 in a custom loop, with the ½ of l2Loss, reaching the loss: regularization at every step, decay per weight', async () => {
      const steps = 3;
      const { report, state } = await analyze(fixtureScript('hand-written-l2-in-loss.ts'), { steps });
      expect(report.status).toBe('step-limit');
      const hand = penalties(report);
      expect(hand.map((t) => [t.id, t.kind, t.reachesMinimizedLoss, t.stepsInLoss])).toEqual([
        ['hand:local3/weights', 'hand-written', true, steps],
        ['hand:softmax_linear/weights', 'hand-written', true, steps],
      ]);
      // tf.mul(tf.sum(tf.square(v)), wd / 2) with wd = 0.004 is L2 2e-3 in tfjs's convention (c·Σw²).
      for (const t of hand) expect(t.pieces).toEqual([{ weight: t.weight, form: 'l2', coefficient: 0.002 }]);
      expect(hand[0].source).toMatchObject({ line: 28, name: 'losses' });
      // The loss split counts them as regularization, at every step.
      for (const t of hand) expect(report.curves.terms[t.id]).toHaveLength(steps);
      report.curves.step.forEach((_, i) => {
        const sum = hand.reduce((s, t) => s + (report.curves.terms[t.id][i] ?? 0), 0);
        expect(report.curves.regularizationLoss[i]).toBeCloseTo(sum, 7);
        expect(report.curves.dataLoss[i] + report.curves.regularizationLoss[i]).toBeCloseTo(report.curves.totalLoss[i], 6);
      });
      expect(report.curves.regularizationLoss[0]).toBeGreaterThan(0);
      // Raw tf.variables, where the helper created them; decay 1 − 2·lr·c under plain SGD lr 0.1.
      expect(report.variables.map((v) => v.name)).toEqual(['local3/weights', 'local3/biases', 'softmax_linear/weights', 'softmax_linear/biases']);
      expect(lineOf(report, 'local3/weights')).toBe(8);
      expect(lineOf(report, 'local3/biases')).toBe(15);
      const w = report.variables.find((v) => v.name === 'local3/weights')!;
      expect(w).toMatchObject({ role: 'kernel', penalties: ['hand:local3/weights'], optimizer: 0 });
      expect(w.decayPerStep).toBeCloseTo(1 - 2 * 0.1 * 0.002, 9);
      expect(report.variables.find((v) => v.name === 'local3/biases')?.decayPerStep).toBeUndefined();
      expect(report.findings).toEqual([]);
      // The notes show each variable on the line that created it: the helper's tf.variable line holds both kernels.
      const note = layerNotes(state).find((n) => n.line === 8)!;
      expect(note).toMatchObject({ text: '2 variables · hand-written L2 2e-3 on local3/weights, softmax_linear/weights · reaches loss', tone: 'reaches' });
      expect(note.layers.map((l) => [l.name, l.className])).toEqual([
        ['local3/weights', 'tf.variable'],
        ['softmax_linear/weights', 'tf.variable'],
      ]);
      expect(renderTextReport(report, ROOT)).toMatch(/Variables.*\n.*\n\s+local3\/weights\s+8×6\s+test\/fixtures\/scripts\/hand-written-l2-in-loss\.ts:8:16\s+hand-written L2 2e-3\s+yes\s+×0\.9996/);
      expect(reportSchema.safeParse(JSON.parse(toWireJson(report))).success).toBe(true);
    });

    it('hand-written L2 computed and dropped: an error naming the sum that adds it and the value the step returns', async () => {
      const { report, state } = await analyze(fixtureScript('hand-written-l2-dropped.ts'), { steps: 3 });
      const hand = penalties(report);
      expect(hand.map((t) => [t.kind, t.reachesMinimizedLoss, t.evaluated, t.stepsInLoss])).toEqual([
        ['hand-written', false, true, 0],
        ['hand-written', false, true, 0],
      ]);
      expect(report.lossSplit.first?.regularizationLoss).toBe(0);
      const [f] = errors(report, 'regularizer-not-in-loss');
      expect(errors(report, 'regularizer-not-in-loss')).toHaveLength(1);
      expect(f.severity).toBe('error');
      expect(f.message).toMatch(/^`totalLoss` \(line 21\) adds these 2 penalties \(.*\), but the step returns `crossEntropy` \(line 19\)/);
      expect(f.source).toMatchObject({ line: 21 });
      expect(f.related.map((r) => r.termId)).toEqual(hand.map((t) => t.id));
      // What the penalties would have added is their own value, at every step.
      for (const t of hand) expect(report.curves.terms[t.id].every((v) => v !== null && v > 0)).toBe(true);
      expect(weightsOf(report).find((w) => w.name === 'local3/weights')?.decayPerStep).toBe(1);
      const notes = layerNotes(state);
      expect(notes.find((n) => n.line === 6)).toMatchObject({ tone: 'missing', text: '⚠ hand-written L2 2e-3 never reaches the minimized loss' });
    });

    it('hand-written L1 over a layers model, through tf.addN: one term covering both kernels, per-layer decay text', async () => {
      const { report } = await analyze(fixtureScript('hand-written-l1-layers.ts'), { steps: 2 });
      const [t, ...rest] = penalties(report);
      expect(rest).toEqual([]);
      expect(t).toMatchObject({ kind: 'hand-written', reachesMinimizedLoss: true, layer: null, weight: null });
      expect(t.pieces).toEqual([
        { weight: 'dense_Dense1/kernel', form: 'l1', coefficient: 0.001 },
        { weight: 'dense_Dense2/kernel', form: 'l1', coefficient: 0.001 },
      ]);
      expect(report.layers.map((l) => l.weights.map((w) => w.penalties))).toEqual([[[t.id], []], [[t.id], []]]);
      // L1 has no per-step decay factor.
      expect(weightsOf(report).every((w) => w.decayPerStep === undefined)).toBe(true);
      expect(report.variables).toEqual([]);
      expect(report.findings).toEqual([]);
      expect(renderTextReport(report, ROOT)).toContain('hand-written L1 1e-3 on kernel');
    });

    it('a penalty that reaches the loss every other step, with the same ops each step: intermittent, counted where it reached', async () => {
      const { report } = await analyze(fixtureScript('hand-written-intermittent.ts'), { steps: 4 });
      const [t] = penalties(report);
      expect(t).toMatchObject({ id: 'hand:w', stepsInLoss: 2, stepsObserved: 4, reachesMinimizedLoss: false });
      expect(report.findings.map((f) => f.ruleId)).toEqual(['regularizer-intermittent']);
      expect(report.curves.regularizationLoss.map((v) => v > 0)).toEqual([true, false, true, false]);
    });

    it('a weight norm logged in the step is not a penalty: clean, "no regularization terms"', async () => {
      const { report, output } = await analyze(fixtureScript('logged-weight-norm.ts'), { steps: 3 });
      expect(output).toContain('|w|');
      expect(penalties(report)).toEqual([]);
      expect(report.findings).toEqual([]);
      expect(report.curves.regularizationLoss.every((v) => v === 0)).toBe(true);
      expect(renderTextReport(report, ROOT)).toContain('none: no regularization terms.');
    });
  });

  describe('RNN cells and wrappers', () => {
    const RNN_LAYERS = ['lstm_LSTM1', 'bidirectional_Bidirectional1', 'time_distributed_TimeDistributed1', 'gru_GRU2', 'dense_Dense2'];

    for (const [script, loop] of [
      ['rnn-regularizers-fit.ts', 'model.fit'],
      ['rnn-regularizers-loop.ts', 'a custom loop that adds model.calculateLosses()'],
    ] as const) {
      it(`LSTM, GRU and Bidirectional with regularizers under ${loop}: listed once, counted once, the cell advice`, async () => {
        const { report, state } = await analyze(fixtureScript(script), { steps: 2 });
        expect(report.status).toBe('step-limit');
        expect(layerNotes(state).find((n) => n.line === 7)?.text).toBe('⚠ L2 1e-3 never reaches the minimized loss (RNN cell: tfjs never adds it)');
        // The layers the user wrote, no cells, no inner layers; every weight once.
        expect(report.layers.map((l) => l.name)).toEqual(RNN_LAYERS);
        const names = weightsOf(report).map((w) => w.name);
        expect(new Set(names).size).toBe(names.length);
        expect(names).toHaveLength(3 + 6 + 2 + 3 + 2);
        expect(report.layers[0].weights.map((w) => [w.shortName, w.heldBy?.path])).toEqual([
          ['kernel', 'cell'],
          ['recurrent_kernel', 'cell'],
          ['bias', 'cell'],
        ]);
        expect(report.layers[1].weights.map((w) => w.heldBy?.path)).toEqual([...Array(3).fill('forwardLayer.cell'), ...Array(3).fill('backwardLayer.cell')]);
        const ids = report.terms.map((t) => t.id);
        expect(new Set(ids).size).toBe(ids.length);
        const verdict = Object.fromEntries(penalties(report).map((t) => [t.layer, t.reachesMinimizedLoss]));
        expect(verdict).toEqual({
          lstm_LSTM1: false,
          bidirectional_Bidirectional1: false,
          time_distributed_TimeDistributed1: true,
          gru_GRU2: false,
          dense_Dense2: true,
        });
        // Left out of the loss, each cell penalty once: l2·Σw² of the four regularized recurrent weights at step 1.
        const leftOut = penalties(report).filter((t) => !t.reachesMinimizedLoss);
        expect(leftOut).toHaveLength(4);
        const expected = leftOut.reduce((s, t) => s + 1e-3 * (report.curves.weightNorms[t.weight!][0] ?? NaN) ** 2, 0);
        expect(leftOut.reduce((s, t) => s + (t.value ?? 0), 0)).toBeCloseTo(expected, 6);
        const found = errors(report, 'regularizer-not-in-loss');
        expect(found.map((f) => f.layer)).toEqual(['lstm_LSTM1', 'bidirectional_Bidirectional1', 'gru_GRU2']);
        for (const f of found) {
          expect(f.message).toContain("does not add an RNN cell's regularizers to the loss, even in model.fit");
          expect(f.message).not.toContain('Add model.calculateLosses()');
          expect(f.message).not.toContain('model.fit adds');
        }
        expect(found[0].message).toContain('tf.addN(lstm.cell.calculateLosses())');
        expect(found[0].addToLoss).toBe('lstm.cell.calculateLosses()');
        expect(found[1].addToLoss).toBe(
          "[...$model.getLayer('bidirectional_Bidirectional1').forwardLayer.cell.calculateLosses(), ...$model.getLayer('bidirectional_Bidirectional1').backwardLayer.cell.calculateLosses()]",
        );
        expect(found[1].related).toHaveLength(2);
        expect(found[2].addToLoss).toBe('gru.cell.calculateLosses()');
        // Advice that can be followed where the script trains: a loop returns its loss, fit builds it from compile().
        if (script === 'rnn-regularizers-fit.ts') expect(found[0].message).toContain('give compile() a loss function that adds them');
        else expect(found[0].message).toContain('Add tf.addN(lstm.cell.calculateLosses()) to the loss');
      });
    }

    it("model.fit: the advised compile() loss (the quick fix's text) brings the cell's penalty into the minimized loss", async () => {
      const script = fixtureScript('rnn-regularizers-fit.ts');
      const before = await analyze(script, { steps: 2 });
      const lstm = before.findings.find((f) => f.ruleId === 'regularizer-not-in-loss' && f.layer === 'lstm_LSTM1')!;
      const text = fs.readFileSync(script, 'utf8');
      const fix = compileLossFix(text, text.indexOf('.fit('), true, lstm.addToLoss!)!;
      expect(fix).not.toBeNull();
      const out = path.join(ROOT, 'out', 'rnn-fit-fix', 'rnn-regularizers-fit.ts');
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, text.slice(0, fix.start) + fix.newText + text.slice(fix.end));
      const { report } = await analyze(out, { steps: 2 });
      expect(report.status).toBe('step-limit');
      const reaches = Object.fromEntries(report.terms.filter((t) => t.kind === 'weight-penalty').map((t) => [t.layer, t.reachesMinimizedLoss]));
      expect(reaches.lstm_LSTM1).toBe(true);
      expect(reaches.gru_GRU2).toBe(false);
      expect(report.findings.filter((f) => f.ruleId === 'regularizer-not-in-loss').map((f) => f.layer)).toEqual(['bidirectional_Bidirectional1', 'gru_GRU2']);
    });
  });

  describe('the optimizer that trains each weight', () => {
    it('two optimizers on disjoint variables with a shared loss: per-weight optimizer, decay and adaptive finding', async () => {
      const { report } = await analyze(fixtureScript('two-optimizers.ts'), { steps: 3 });
      expect(report.optimizers.map((o) => [o.index, o.className, o.weights])).toEqual([
        [0, 'SGD', ['dense_Dense1/kernel', 'dense_Dense1/bias']],
        [1, 'Adam', ['dense_Dense2/kernel', 'dense_Dense2/bias']],
      ]);
      const [encoder, head] = report.layers;
      expect(encoder.weights.map((w) => w.optimizer)).toEqual([0, 0]);
      expect(head.weights.map((w) => w.optimizer)).toEqual([1, 1]);
      expect(encoder.weights[0].decayPerStep).toBeCloseTo(1 - 2 * 0.1 * 0.01, 9);
      expect(head.weights.every((w) => w.decayPerStep === undefined)).toBe(true);
      const adaptive = errors(report, 'l2-with-adaptive-optimizer');
      expect(adaptive).toHaveLength(1);
      expect(adaptive[0].layer).toBe('dense_Dense2');
      // Each weight by its own regularizer, not "L2 0.01 on dense (kernel, bias)".
      expect(adaptive[0].message).toContain('L2 0.01 on kernel, L1 0.5 on bias of dense_Dense2 with Adam');
      expect(adaptive[0].related.map((r) => r.weight)).toEqual(['dense_Dense2/kernel', 'dense_Dense2/bias']);
    });

    it('a penalty on a weight no optimizer updates (a frozen target network) gets no decay findings', async () => {
      const { report, state } = await analyze(fixtureScript('frozen-target.ts'), { steps: 3 });
      const targetWeights = report.layers.slice(2).flatMap((l) => l.weights);
      expect(targetWeights.map((w) => w.optimizer)).toEqual([null, null, null, null]);
      expect(targetWeights.every((w) => w.decayPerStep === undefined)).toBe(true);
      expect(report.findings).toEqual([]);
      const text = renderTextReport(report, ROOT);
      expect(text).toContain('not trained');
      expect(text).not.toContain('left out of the loss');
      expect(layerNotes(state).map((n) => n.tone)).toEqual(['reaches', 'reaches']);
    });
  });

  describe('bad coefficients (issue 9)', () => {
    it('Infinity, NaN and negative coefficients are reported as written, with invalid-regularizer', async () => {
      const { report } = await analyze(fixtureScript('bad-coefficients.ts'), { steps: 2 });
      expect(report.layers.map((l) => l.weights[0].regularizer)).toEqual([
        { className: 'L1L2', l1: 0, l2: Infinity },
        { className: 'L1L2', l1: NaN, l2: 0 },
        { className: 'L1L2', l1: 0, l2: -1e-3 },
      ]);
      const json = toWireJson(report);
      expect(json).toContain('"l2":"Infinity"');
      expect(json).toContain('"l1":"NaN"');
      expect(reportSchema.parse(JSON.parse(json)).layers[0].weights[0].regularizer?.l2).toBe(Infinity);
      const invalid = errors(report, 'invalid-regularizer');
      expect(invalid.map((f) => [f.layer, f.severity])).toEqual([
        ['dense_Dense1', 'error'],
        ['dense_Dense2', 'error'],
        ['dense_Dense3', 'warning'],
      ]);
      expect(invalid[2].message).toContain('a negative L2 grows the weights');
      expect(report.layers[2].weights[0].decayPerStep).toBeGreaterThan(1);
      expect(report.layers[0].weights[0].decayPerStep).toBeUndefined();
    });
  });
});


describe('small things', () => {
  it('a failed build has no data term; the header shows paths as the tables do', async () => {
    const { report } = await analyze(fixtureScript('syntax-error.ts'));
    expect(report.status).toBe('failed');
    expect(report.terms).toEqual([]);
    const outside = path.join(path.parse(ROOT).root, 'elsewhere');
    expect(renderTextReport(report, outside).split('\n')[0]).toBe(`Loss Lens · ${report.script}`);
    expect(renderTextReport(report, ROOT).split('\n')[0]).toBe('Loss Lens · test/fixtures/scripts/syntax-error.ts');
  });
});
