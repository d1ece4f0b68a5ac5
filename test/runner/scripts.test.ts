import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeOn, lossLensWithoutTfjsNode, MATRIX_BACKENDS } from '../helpers/backends';
import { analyze, fixtureScript, ROOT } from '../helpers/run';

describe.each(MATRIX_BACKENDS)('the scripts people write, on %s', (backend) => {
  const analyze = analyzeOn(backend);

  it('runs on the backend it was given', async () => {
    const { report } = await analyze(fixtureScript('cjs-script.js'), { steps: 1 });
    expect(report.backend?.name).toBe(backend);
  });

  it('CommonJS with require(), __dirname and an un-awaited fit promise', async () => {
    const { report, output } = await analyze(fixtureScript('cjs-script.js'));
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(3);
    expect(output).toContain('done in scripts');
    expect(report.optimizer).toMatchObject({ className: 'Momentum', config: { learningRate: 0.01, momentum: 0.9 } });
    const w = report.layers[0].weights;
    expect(w.map((x) => [x.shortName, x.role, x.regularizer?.l1, x.regularizer?.l2])).toEqual([
      ['kernel', 'kernel', 1e-4, 1e-3],
      ['bias', 'bias', 0, 1e-3],
    ]);
    // The kernel's decay acts over τ ≈ 2e4 steps; fit plans 3: an info says how little it does.
    expect(report.findings.map((f) => f.ruleId)).toEqual(['decay-on-bias-or-norm', 'decay-too-weak-for-run']);
  });

  it('the three examples: the dropped penalties are errors, the fixed loop is clean', async () => {
    const dropped = await analyze(path.join(ROOT, 'examples/custom-loop-drops-penalty.ts'), { steps: 5 });
    expect(dropped.report.findings.filter((f) => f.ruleId === 'regularizer-not-in-loss')).toHaveLength(3);
    expect(dropped.report.terms.filter((t) => t.collection === 'regularization').every((t) => !t.evaluated)).toBe(true);
    const fixed = await analyze(path.join(ROOT, 'examples/custom-loop-with-penalty.ts'), { steps: 5 });
    expect(fixed.report.findings).toEqual([]);
    expect(fixed.report.graph?.terms.filter((t) => t.reachesMinimizedLoss)).toHaveLength(4);
  });

  it('model.fitDataset over tf.data, with RMSProp', async () => {
    const { report } = await analyze(fixtureScript('fit-dataset.ts'));
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(8);
    expect(report.optimizer).toMatchObject({ className: 'RMSProp', config: { learningRate: 1e-3 } });
    expect(report.terms.filter((t) => t.collection === 'regularization').map((t) => t.reachesMinimizedLoss)).toEqual([true, true]);
    // The two layers' L2 under RMSProp is one cause: one finding that lists both.
    expect(report.findings.map((f) => f.ruleId)).toEqual(['l2-with-adaptive-optimizer', 'decay-too-weak-for-run']);
    expect(report.findings[0].related.map((r) => r.layer)).toHaveLength(2);
    // fitDataset's plan: 2 epochs of the dataset's 4 batches.
    expect(report.trainingPlans.map((p) => [p.method, p.epochs, p.stepsPerEpoch])).toEqual([['fitDataset', 2, 4]]);
  });

  it('ESM with top-level await, a custom layer subclass, and variableGrads + applyGradients', async () => {
    const { report } = await analyze(fixtureScript('esm-custom-layer.ts'));
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(4);
    const custom = report.layers.find((l) => l.className === 'ScaleLayer');
    // The custom layer maps to the line that constructs it, not to its class body.
    expect(custom?.source?.line).toBe(26);
    expect(report.terms.find((t) => t.weight === custom?.weights[0].name)).toMatchObject({ reachesMinimizedLoss: true });
    expect(report.optimizer?.className).toBe('Adam');
    expect(report.curves.learningRate.slice(1).every((lr) => lr === 0.01)).toBe(true);
  });
});

describe('choosing the backend', () => {
  it('maps an import of @tensorflow/tfjs-node onto the bundled tfjs on wasm, and says so once, where Loss Lens has no tfjs-node', async () => {
    const { dir, runner } = lossLensWithoutTfjsNode();
    try {
      const script = path.join(dir, 'train.js');
      fs.copyFileSync(fixtureScript('cjs-script.js'), script);
      const { report } = await analyze(script, { steps: 2, runnerPath: runner, cwd: dir });
      expect(report.backend).toMatchObject({ name: 'wasm', tfjsSource: 'bundled' });
      expect(report.notices.filter((n) => n.includes('tfjs-node is not installed'))).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours --backend cpu', async () => {
    const { report } = await analyze(path.join(ROOT, 'examples/custom-loop-with-penalty.ts'), { steps: 2, backend: 'cpu' });
    expect(report.backend?.name).toBe('cpu');
    expect(report.steps).toBe(2);
  });

  it('fails clearly when --backend tensorflow is asked for and tfjs-node is absent', async () => {
    const { dir, runner } = lossLensWithoutTfjsNode();
    try {
      const script = path.join(dir, 'train.ts');
      fs.copyFileSync(path.join(ROOT, 'examples/custom-loop-with-penalty.ts'), script);
      const { report } = await analyze(script, { backend: 'tensorflow', runnerPath: runner, cwd: dir });
      expect(report.status).toBe('failed');
      expect(report.error?.message).toContain('@tensorflow/tfjs-node');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
