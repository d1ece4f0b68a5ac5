import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEdits, decoupledDecayFix, decoupledPlan } from '../../src/host/editor/decoupled-fix';
import { effectiveDecaySeries } from '../../src/shared/analysis/effective-decay';
import { layerNotes } from '../../src/shared/analysis/layer-notes';
import { analyze, fixtureScript, ROOT } from '../helpers/run';

/** Where fixed copies of scripts go: inside the repository, so their tfjs imports resolve as the originals' do. */
const OUT = path.join(ROOT, 'out', 'decoupled-fix');

/** Run a script, apply the quick fix of its first l2-with-adaptive-optimizer finding, and save the fixed copy. */
async function fixed(script: string, name: string) {
  const before = await analyze(script, { steps: 6 });
  const finding = before.findings.find((f) => f.ruleId === 'l2-with-adaptive-optimizer')!;
  const plan = decoupledPlan(before.state, finding)!;
  expect(plan, 'a plan for the finding').not.toBeNull();
  const text = fs.readFileSync(script, 'utf8');
  const fix = decoupledDecayFix(plan, { file: script, text }, { file: script, text }, true)!;
  expect(fix, 'edits for the script').not.toBeNull();
  expect(new Set(fix.edits.map((e) => e.file))).toEqual(new Set([script]));
  fs.mkdirSync(OUT, { recursive: true });
  const out = path.join(OUT, name);
  const after = applyEdits(text, fix.edits);
  fs.writeFileSync(out, after);
  return { before, plan, out, after };
}

/** The fixed file is valid TypeScript against tfjs's own types. */
function typecheck(file: string): void {
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', file],
    { cwd: ROOT, stdio: 'pipe' },
  );
}

describe('quick fix "Use decoupled weight decay"', () => {
  it('model.fit: the regularizers go, an onBatchEnd helper decays the kernels, and the run then measures lr·2·l2 per step', async () => {
    const { before, plan, out, after } = await fixed(path.join(ROOT, 'examples/adam-l2-decay.ts'), 'adam-l2-decay.ts');
    expect(plan).toMatchObject({ l2: 1e-3, learningRate: 1e-3, optimizer: 'Adam', weights: [{ short: 'kernel', property: 'kernelRegularizer' }] });
    // One finding covers the three layers of one cause (the same L2 under Adam): the fix takes all three.
    expect(plan.layers.map((l) => l.name)).toEqual(['dense_Dense1', 'dense_Dense2', 'dense_Dense3']);
    expect(after).not.toMatch(/kernelRegularizer: decay\(\)/);
    expect(after).toContain("kernelInitializer: seeded(1) }));");
    expect(after).toContain(
      "callbacks: { onBatchEnd: () => applyDecoupledWeightDecay([model.getLayer('dense_Dense1'), model.getLayer('dense_Dense2'), model.getLayer('dense_Dense3')], ['kernel'], 0.001, 0.002)",
    );
    expect(after).toMatch(/\/\/ Decoupled weight decay \(AdamW-style, Loshchilov & Hutter\), written by Loss Lens\./);
    typecheck(out);

    const { report, state } = await analyze(out, { steps: 6 });
    expect(report.status).toBe('step-limit');
    const kernel = report.layers[0].weights.find((w) => w.shortName === 'kernel')!;
    expect(kernel.regularizer).toBeNull();
    // Measured at the helper's assignment: lr·λ = 1e-3 · 2e-3 per step (the last step's, after the limit, is not seen).
    const s = effectiveDecaySeries(state, kernel.name)!;
    expect(s.values.length).toBeGreaterThanOrEqual(5);
    for (const v of s.values.slice(0, 5)) expect(Math.abs(v! / 2e-6 - 1)).toBeLessThan(1e-3);
    expect(layerNotes(state)[0].text).toMatch(/^decoupled 2e-6\/step \(script, line \d+\) on kernel$/);
    expect(kernel.decay).toMatchObject({ kind: 'decoupled', appliedBy: 'script' });
    // The one finding (listing the three layers) is gone with the three penalties.
    const adaptive = (r: typeof report) => r.findings.filter((f) => f.ruleId === 'l2-with-adaptive-optimizer');
    expect(adaptive(before.report).map((f) => [f.layer, f.related.map((x) => x.layer)])).toEqual([['dense_Dense1', ['dense_Dense1', 'dense_Dense2', 'dense_Dense3']]]);
    expect(adaptive(report)).toEqual([]);
    // Applied a second time for the same layer, it changes nothing.
    const again = decoupledDecayFix(plan, { file: out, text: after }, { file: out, text: after }, true);
    expect(again).toBeNull();
  });

  it('a minimize loop: the call goes after optimizer.minimize(…), once per step, and the decay measured is lr·2·l2', async () => {
    const { plan, out, after } = await fixed(fixtureScript('adam-l2-loop.ts'), 'adam-l2-loop.ts');
    expect(plan.layers).toEqual([{ name: 'dense_Dense1', binding: 'hidden' }]);
    expect(after).not.toContain('kernelRegularizer');
    expect(after).toMatch(/\n  \}\);\n  applyDecoupledWeightDecay\(\[model\.getLayer\('dense_Dense1'\)\], \['kernel'\], 0\.01, 0\.002\); \/\/ lr of the Adam optimizer; λ = 2·l2 \(was L2 1e-3 in the loss\)\n\}/);
    typecheck(out);
    const { report, state } = await analyze(out, { steps: 100 });
    expect(report.status).toBe('completed');
    const s = effectiveDecaySeries(state, 'dense_Dense1/kernel')!;
    expect(s.step).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const v of s.values) expect(Math.abs(v! / (0.01 * 2e-3) - 1)).toBeLessThan(1e-3);
    expect(report.findings.filter((f) => f.ruleId === 'l2-with-adaptive-optimizer')).toEqual([]);
    // Without a penalty in the loss, there is no regularization left in it.
    expect(report.curves.regularizationLoss.every((r) => r === 0)).toBe(true);
  });

  it('no fix where it would have to rewrite more than a layer config: hand-written penalties', async () => {
    // Two steps of each of the eight optimizers: --steps counts every step the script makes, whatever its objective.
    const { findings, state } = await analyze(fixtureScript('every-optimizer-decay.ts'), { steps: 16, backend: 'cpu' });
    const f = findings.find((x) => x.ruleId === 'l2-with-adaptive-optimizer')!;
    expect(decoupledPlan(state, f)).toBeNull();
  });
});
