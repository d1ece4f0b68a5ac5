import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderTextReport } from '../../src/cli/text-report';
import { effectiveDecaySeries } from '../../src/shared/analysis/effective-decay';
import { layerNotes } from '../../src/shared/analysis/layer-notes';
import { reportSchema, type Report } from '../../src/shared/analysis/report';
import { toWireJson } from '../../src/shared/protocol/wire-number';
import { decayProblem, L2, OPTIMIZERS, STEPS } from '../fixtures/scripts/helpers/decay-problem';
import { referenceOptimizer } from '../helpers/reference-optimizers';
import { analyzeOn, MATRIX_BACKENDS } from '../helpers/backends';
import { analyze, fixtureScript, ROOT } from '../helpers/run';

type Tf = typeof import('@tensorflow/tfjs');
const require = createRequire(import.meta.url);
let tf: Tf;
beforeAll(async () => {
  tf = require('@tensorflow/tfjs') as Tf;
  await tf.setBackend('cpu');
});

const weightsOf = (r: Report) => [...r.layers.flatMap((l) => l.weights), ...r.variables];
const weight = (r: Report, name: string) => weightsOf(r).find((w) => w.name === name)!;
const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe.each(MATRIX_BACKENDS)('on %s', (backend) => {
  const analyze = analyzeOn(backend);
  // The tests below that compare against this process's own tfjs were written on cpu, whose float32 arithmetic
  // the wasm row keeps; the tensorflow row runs them on native TensorFlow instead.
  const exact = backend === 'tensorflow' ? 'tensorflow' : 'cpu';

  describe('effective decay under plain SGD and momentum', () => {
    it('plain SGD with layer L2 penalties: exactly 2·lr·l2 at every step, the last one included, as the decay factor says', async () => {
      const steps = 5;
      const { report, state } = await analyze(`${ROOT}/examples/custom-loop-with-penalty.ts`, { steps });
      expect(report.status).toBe('step-limit');
      const kernels = report.layers.map((l) => l.weights.find((w) => w.shortName === 'kernel')!);
      for (const k of kernels) {
        const s = effectiveDecaySeries(state, k.name)!;
        // The step limit waits for the last step's update: every step has its value.
        expect(s.step).toEqual([1, 2, 3, 4, 5]);
        for (const x of s.values) expect(relative(x!, 2 * 0.1 * 1e-3)).toBeLessThan(1e-9);
        expect(relative(k.effectiveDecayPerStep!, k.decayPerStep!)).toBeLessThan(1e-12);
        expect(report.curves.effectiveDecay[k.name]).toHaveLength(steps);
      }
      // Under SGD the note has nothing to add to the verdict; the hover's sentence says it is 2·lr·l2.
      const note = layerNotes(state)[0];
      expect(note.text).toBe('L2 1e-3 on kernel · reaches loss');
      expect(note.layers[0].weights[0].decaySentence).toBe('L2 1e-3 · SGD shrinks this kernel 2e-4 per step (2·lr·l2, as expected) · τ ≈ 5000 steps');
      expect(reportSchema.safeParse(JSON.parse(toWireJson(report))).success).toBe(true);
    });

    it('a penalty that never reaches the loss decays nothing: 0 at every step, factor exactly 1', async () => {
      const { report } = await analyze(`${ROOT}/examples/custom-loop-drops-penalty.ts`, { steps: 3 });
      for (const l of report.layers) {
        const k = l.weights.find((w) => w.shortName === 'kernel')!;
        expect(k.effectiveDecay).toBe(0);
        expect(k.effectiveDecayPerStep).toBe(1);
        expect(report.curves.effectiveDecay[k.name]).toEqual([0, 0, 0]);
      }
    });
  });

  describe('effective decay under every optimizer, against the test’s own re-implementation', () => {
    it('matches a float64 re-implementation of each optimizer step for step; momentum rises towards 1/(1 − m) of SGD; Adam decays by gradient scale', async () => {
      const { report, state } = await analyze(fixtureScript('every-optimizer-decay.ts'), { steps: 1000, backend: exact });
      expect(report.status).toBe('completed');
      expect(report.findings.filter((f) => f.ruleId === 'non-finite-loss')).toEqual([]);
      const sgdScale = 2 * 0.01 * L2;

      for (const [name, make] of Object.entries(OPTIMIZERS)) {
        // The same problem, rebuilt here (seeded), trained by tfjs itself; the reference runs beside it twice, once on
        // the gradient tfjs applies and once on the data gradient alone (tfjs's own autodiff of the data loss).
        const problem = decayProblem(`ref-${backend}-${name}`);
        const opt = make();
        const className = opt.getClassName();
        const full = referenceOptimizer(className, opt.getConfig());
        const dataOnly = referenceOptimizer(className, opt.getConfig());
        const expected: Record<string, number[]> = { big: [], tiny: [] };
        for (let t = 0; t < STEPS; t++) {
          const w = problem.variables.map((v) => Float64Array.from(v.dataSync()));
          const withPenalty = tf.variableGrads(() => tf.add(problem.dataLoss(), problem.penalty()) as never, problem.variables);
          const withoutPenalty = tf.variableGrads(problem.dataLoss as never, problem.variables);
          problem.variables.forEach((v, k) => {
            const g = withPenalty.grads[v.name].dataSync();
            const gData = withoutPenalty.grads[v.name].dataSync();
            let dot = 0;
            let norm = 0;
            for (let i = 0; i < g.length; i++) {
              const dFull = full.update(v.name, i, g[i]);
              const dData = dataOnly.update(v.name, i, gData[i]);
              dot += (dFull - dData) * w[k][i];
              norm += w[k][i] * w[k][i];
            }
            expected[k === 0 ? 'big' : 'tiny'].push(-dot / norm);
          });
          full.endStep();
          dataOnly.endStep();
          opt.applyGradients(withPenalty.grads);
          tf.dispose([withPenalty.value, withoutPenalty.value, ...Object.values(withPenalty.grads), ...Object.values(withoutPenalty.grads)]);
        }
        for (const which of ['big', 'tiny'] as const) {
          const measured = effectiveDecaySeries(state, `${name}/${which}`);
          expect(measured?.step, `${name}/${which}`).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
          measured!.values.forEach((s, i) => {
            // The runner subtracts the analytic 2·l2·w; the reference uses tfjs's autodiff of the data loss.
            // Where the penalty's gradient is 10⁴× the data gradient (tiny), the runner's data gradient g − 2·l2·w is only
            // known to float32's resolution of g, ~1e-3 of it: centered RMSProp's √(ms − mg²) amplifies that to ~3e-3.
            // (Its first step is lr·sign(g)/√(ρ(1 − ρ)) whatever g is: a decay of 0 up to rounding, hence the floor.)
            const tolerance = 1e-2 * Math.abs(expected[which][i]) + 1e-9 * sgdScale;
            expect(Math.abs(s! - expected[which][i]), `${name}/${which} step ${i + 1}: ${s} vs ${expected[which][i]}`).toBeLessThan(tolerance);
          });
        }
      }

      const sgd = 2 * 0.01 * L2;
      // Momentum 0.9: the first step is SGD's, then the decay builds up towards 10× it. The tiny-gradient weight barely
      // moves, so it follows the closed form (1 − mᵗ)/(1 − m) closely.
      const tinyMomentum = effectiveDecaySeries(state, 'momentum/tiny')!.values as number[];
      expect(relative(tinyMomentum[0], sgd)).toBeLessThan(1e-6);
      for (let t = 1; t < STEPS; t++) expect(tinyMomentum[t]).toBeGreaterThan(tinyMomentum[t - 1]);
      tinyMomentum.forEach((s, t) => expect(relative(s / sgd, (1 - 0.9 ** (t + 1)) / (1 - 0.9))).toBeLessThan(0.01));

      // Adam: the same L2 decays the large-gradient weight far less than SGD would and the tiny-gradient one far more.
      const big = weight(report, 'adam/big').effectiveDecay!;
      const tiny = weight(report, 'adam/tiny').effectiveDecay!;
      expect(tiny / big).toBeGreaterThan(1e3);
      expect(big).toBeLessThan(sgd);
      expect(tiny).toBeGreaterThan(sgd);
      // Every optimizer's weights are made at the same helper line, so their findings fold into one that lists them all.
      const [uneven, ...more] = report.findings.filter((f) => f.ruleId === 'uneven-effective-decay');
      expect(more).toEqual([]);
      expect(uneven.severity).toBe('warning');
      expect(uneven.message).toMatch(/^Under Adam, the same L2 0\.01 shrinks adam\/big by .* per step and adam\/tiny by .* per step: .*× apart \(.*× at each of the \d+ steps measured\) \(plain SGD would shrink each by 2e-4\)/);
      const named = uneven.related.map((r) => r.weight);
      expect(named.slice(0, 2)).toEqual(['adam/big', 'adam/tiny']);
      // Momentum rescales every weight alike: never uneven.
      expect(named.some((w) => w?.startsWith('momentum/') || w?.startsWith('nesterov/'))).toBe(false);
      // The text report's column says what SGD would do next to what the optimizer does.
      expect(renderTextReport(report, ROOT)).toMatch(/adam\/tiny\s.*\s0\.0\d+ \(SGD 2e-4\)/);
    });

    it('says why a custom optimizer, or one whose updates do not follow its own config, has no effective decay', async () => {
      const { report, state } = await analyze(fixtureScript('custom-optimizers.ts'), { steps: 100, backend: exact });
      expect(report.status).toBe('completed');
      expect(weight(report, 'custom/w')).toMatchObject({ effectiveDecayUnavailable: "Loss Lens has no model of SignSgd's update" });
      expect(weight(report, 'custom/w').effectiveDecay).toBeUndefined();
      const mis = weight(report, 'misreported/w');
      expect(mis.effectiveDecay).toBeUndefined();
      expect(mis.effectiveDecayUnavailable).toMatch(/^the updates of this Adam do not follow tfjs's Adam formula \(relative difference .*: a custom optimizer or a subclass\?\)$/);
      const note = layerNotes(state).find((n) => n.layers.some((l) => l.name === 'misreported/w'))!;
      expect(note.layers[0].weights[0].decaySentence).toMatch(/^hand-written L2 0\.01 · its effective decay is not measured: the updates of this Adam/);
      expect(renderTextReport(report, ROOT)).toMatch(/misreported\/w .* n\/a \(the updates of this Adam/);
    });

    it('measures a decay the script applies itself after each step (no penalty in the loss): lr·λ per step', async () => {
      const { report, state } = await analyze(fixtureScript('script-decays-weights.ts'), { steps: 100, backend: exact });
      const kernel = weight(report, 'dense_Dense1/kernel');
      const s = effectiveDecaySeries(state, 'dense_Dense1/kernel')!;
      expect(s.step).toEqual([1, 2, 3, 4, 5, 6]);
      // The script multiplies by 1 − lr·λ in float32: what it really removes is 1 − fround(1 − lr·λ), 1.4e-3 off lr·λ
      // (and each product rounds again: over 2,048 elements that averages out to ~1e-4).
      const applied = 1 - Math.fround(1 - 0.01 * 2e-3);
      for (const x of s.values) expect(relative(x!, applied)).toBeLessThan(3e-4);
      expect(relative(kernel.effectiveDecay!, applied)).toBeLessThan(3e-4);
      // The bias is not decayed: no number for it.
      expect(weight(report, 'dense_Dense1/bias').effectiveDecay).toBeUndefined();
      // A decay of kind decoupled, applied by the script at its own line, never "no decay".
      expect(layerNotes(state)[0].text).toBe('decoupled 2e-5/step (script, line 15) on kernel');
      expect(kernel.decay).toMatchObject({ kind: 'decoupled', appliedBy: 'script', className: null, source: { file: fixtureScript('script-decays-weights.ts'), line: 15 } });
      expect(relative(kernel.decay!.shrinkPerStep, applied)).toBeLessThan(3e-4);
      expect(relative(kernel.decayHorizonSteps!, 1 / applied)).toBeLessThan(3e-4);
    });
  });

  describe('the decoupled what-if (--weight-decay decoupled)', () => {
    it('takes the L2 penalties out of the loss and multiplies each weight by exactly 1 − lr·2·l2 after its update', async () => {
      const asWritten = await analyze(fixtureScript('decoupled-factor.ts'), { steps: 100, backend: exact });
      const decoupled = await analyze(fixtureScript('decoupled-factor.ts'), { steps: 100, backend: exact, weightDecay: 'decoupled' });
      const r = decoupled.report;
      expect(r.weightDecay).toBe('decoupled');
      expect(asWritten.report.weightDecay).toBe('as-written');
      // Nothing regularizes the minimized loss any more: its regularization curve is 0 and it is the data loss.
      expect(r.curves.regularizationLoss.every((x) => x === 0)).toBe(true);
      r.curves.totalLoss.forEach((t, i) => expect(t).toBe(r.curves.dataLoss[i]));
      expect(asWritten.report.curves.regularizationLoss.every((x) => x > 0)).toBe(true);
      // Seeded: both variants start from the same weights and data, so step 1's data loss is the same.
      expect(relative(r.curves.dataLoss[0], asWritten.report.curves.dataLoss[0])).toBeLessThan(1e-6);
      // The reachability verdicts stay those of the script as written.
      expect(r.terms.filter((t) => t.collection === 'regularization').every((t) => t.reachesMinimizedLoss)).toBe(true);

      const lr = 0.01;
      const expected = { 'dense_Dense1/kernel': 2 * lr * 1e-3, 'mix/w': 2 * lr * 5e-3, 'idle/w': 2 * lr * 5e-3 };
      for (const [name, s] of Object.entries(expected)) {
        const series = effectiveDecaySeries(decoupled.state, name)!;
        expect(series.values, name).toHaveLength(8);
        for (const x of series.values) expect(relative(x!, s)).toBeLessThan(1e-12);
        expect(relative(weight(r, name).effectiveDecay!, s)).toBeLessThan(1e-12);
      }
      // idle/w gets no data gradient: only the decay moves it, so its norm shrinks by exactly 1 − lr·2·l2 per step.
      // (Norms are measured on a schedule: compare the steps that have one.)
      const idle = r.curves.weightNorms['idle/w'].map((n, i) => [r.curves.step[i], n] as const).filter((e): e is readonly [number, number] => e[1] !== null);
      expect(idle.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < idle.length; i++) {
        const [s0, n0] = idle[i - 1];
        const [s1, n1] = idle[i];
        expect(relative(n1 / n0, (1 - 2 * lr * 5e-3) ** (s1 - s0))).toBeLessThan(1e-6);
      }
      // As written, Adam turns the same penalty's gradient into full-size steps on idle/w: far more than the decoupled decay.
      expect(weight(asWritten.report, 'idle/w').effectiveDecay!).toBeGreaterThan(10 * expected['idle/w']);
      // No finding about uneven decay once it is decoupled.
      expect(r.findings.some((f) => f.ruleId === 'uneven-effective-decay')).toBe(false);
      expect(asWritten.report.findings.some((f) => f.ruleId === 'uneven-effective-decay')).toBe(true);
      expect(renderTextReport(r, ROOT)).toContain('What-if: decoupled weight decay.');
      expect(layerNotes(decoupled.state)[0].layers[0].weights[0].decaySentence).toBe('L2 1e-3, decoupled (what-if) · shrinks this kernel 2e-5 per step, after each Adam update · τ ≈ 5e4 steps');
      // The what-if's decay is a decay of kind decoupled too: lr·2·l2, by construction following the learning rate.
      expect(weight(r, 'dense_Dense1/kernel').decay).toMatchObject({ kind: 'decoupled', appliedBy: 'what-if', className: 'Adam', followsLearningRate: true });
      expect(relative(weight(r, 'dense_Dense1/kernel').decay!.shrinkPerStep, 2 * lr * 1e-3)).toBeLessThan(1e-12);
    });

    it('under model.fit too: every penalized weight decays by lr·2·l2, the regularization curve is 0', async () => {
      const { report } = await analyze(`${ROOT}/examples/fit-cnn-with-decay.ts`, { steps: 3, weightDecay: 'decoupled' });
      expect(report.status).toBe('step-limit');
      expect(report.curves.regularizationLoss).toEqual([0, 0, 0]);
      const decayed = weightsOf(report).filter((w) => w.regularizer);
      expect(decayed.map((w) => w.name)).toEqual(['conv2d_Conv2D1/kernel', 'conv2d_Conv2D2/kernel', 'batch_normalization_BatchNormalization1/gamma', 'dense_Dense1/kernel']);
      for (const w of decayed) {
        expect(relative(w.effectiveDecay!, 2 * 1e-3 * 5e-4)).toBeLessThan(1e-12);
        const curve = report.curves.effectiveDecay[w.name];
        expect(curve).toHaveLength(3);
        for (const x of curve) expect(relative(x!, 1e-6)).toBeLessThan(1e-12);
      }
    });
  });
});

