import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, fixtureScript, ROOT } from '../helpers/run';

describe('the scripts people write', () => {
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

  it('maps an import of @tensorflow/tfjs-node onto the bundled tfjs on wasm, and says so once', async () => {
    const { report } = await analyze(fixtureScript('cjs-script.js'), { steps: 2 });
    expect(report.backend).toMatchObject({ name: 'wasm', tfjsSource: 'bundled' });
    expect(report.notices.filter((n) => n.includes('tfjs-node is not installed'))).toHaveLength(1);
  });

  it('honours --backend cpu', async () => {
    const { report } = await analyze(path.join(ROOT, 'examples/custom-loop-with-penalty.ts'), { steps: 2, backend: 'cpu' });
    expect(report.backend?.name).toBe('cpu');
    expect(report.steps).toBe(2);
  });

  it('fails clearly when --backend tensorflow is asked for and tfjs-node is absent', async () => {
    const { report } = await analyze(path.join(ROOT, 'examples/custom-loop-with-penalty.ts'), { backend: 'tensorflow' });
    expect(report.status).toBe('failed');
    expect(report.error?.message).toContain('@tensorflow/tfjs-node');
  });

  it("uses the workspace's own tfjs-node when it has one", async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'll-ws-'));
    // A stand-in for tfjs-node: our tfjs with its cpu backend registered under the name "tensorflow".
    const pkg = path.join(ws, 'node_modules', '@tensorflow', 'tfjs-node');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '9.9.9-fake', main: 'index.js' }));
    fs.writeFileSync(
      path.join(pkg, 'index.js'),
      `const tf = require(${JSON.stringify(require.resolve('@tensorflow/tfjs', { paths: [ROOT] }))});\n` +
        `tf.registerBackend('tensorflow', () => tf.findBackend('cpu') || new (Object.getPrototypeOf(tf.engine().registry.cpu || {}).constructor)(), 3);\n` +
        `for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });\n` +
        `module.exports = tf;\n`,
    );
    const script = path.join(ws, 'train.js');
    fs.copyFileSync(fixtureScript('cjs-script.js'), script);
    try {
      const { report } = await analyze(script, { cwd: ws });
      expect(report.backend).toMatchObject({ name: 'tensorflow', tfjsSource: 'user', tfjsVersion: '9.9.9-fake' });
      expect(report.steps).toBe(3);
      expect(report.notices.some((n) => n.includes('not installed'))).toBe(false);
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });

  it('model.fitDataset over tf.data, with RMSProp', async () => {
    const { report } = await analyze(fixtureScript('fit-dataset.ts'));
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(8);
    expect(report.optimizer).toMatchObject({ className: 'RMSProp', config: { learningRate: 1e-3 } });
    expect(report.terms.filter((t) => t.collection === 'regularization').map((t) => t.reachesMinimizedLoss)).toEqual([true, true]);
    expect(report.findings.map((f) => f.ruleId)).toEqual(['l2-with-adaptive-optimizer', 'l2-with-adaptive-optimizer', 'decay-too-weak-for-run']);
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
