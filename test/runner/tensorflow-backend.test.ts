import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MATRIX_BACKENDS, OWN_TFJS_NODE, workspaceWithOwnTfjsNode } from '../helpers/backends';
import { analyze, fixtureScript, ROOT } from '../helpers/run';
import { node24 } from '../helpers/runtimes';

// The real @tensorflow/tfjs-node, as `npm run setup:tfjs-node` builds it (the README's test command runs it).
// Only in the matrix's tensorflow row: LOSS_LENS_TEST_BACKENDS=wasm leaves these out with the rest of that row.
describe.each(MATRIX_BACKENDS.filter((b) => b === 'tensorflow'))('@tensorflow/tfjs-node (%s), built here', () => {
  it('loads from the project root on native TensorFlow and computes: matMul and a fit that lowers the loss', () => {
    const check =
      "const tf = require('@tensorflow/tfjs-node');" +
      '(async () => {' +
      '  const p = Array.from(tf.tensor2d([[1, 2], [3, 4]]).matMul(tf.tensor2d([[5, 6], [7, 8]])).dataSync());' +
      "  const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });" +
      "  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });" +
      '  const h = await m.fit(tf.tensor2d([[0, 1], [1, 0], [1, 1], [0, 0]]), tf.tensor2d([[1], [2], [3], [0]]), { epochs: 20, verbose: 0 });' +
      '  console.log(JSON.stringify({ backend: tf.getBackend(), tf: tf.backend().binding.TF_Version, p, loss: h.history.loss }));' +
      '})();';
    let out: string;
    try {
      out = execFileSync(process.execPath, ['-e', check], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    } catch (err) {
      throw new Error(`@tensorflow/tfjs-node does not load: run \`npm run setup:tfjs-node\` (${(err as Error).message.split('\n').slice(0, 3).join(' ')})`);
    }
    const r = JSON.parse(out.trim().split('\n').pop()!) as { backend: string; tf: string; p: number[]; loss: number[] };
    expect(r.backend).toBe('tensorflow');
    expect(r.tf).toMatch(/^2\.\d+\.\d+$/);
    expect(r.p).toEqual([19, 22, 43, 50]);
    expect(r.loss.at(-1)!).toBeLessThan(r.loss[0]);
  });

  it("--backend auto picks the workspace's own tfjs-node when it has one", async () => {
    const ws = workspaceWithOwnTfjsNode();
    try {
      const script = path.join(ws, 'train.js');
      fs.copyFileSync(fixtureScript('cjs-script.js'), script);
      const { report } = await analyze(script, { cwd: ws, backend: 'auto' });
      expect(report.status).toBe('completed');
      expect(report.backend).toMatchObject({ name: 'tensorflow', tfjsSource: 'user', tfjsPath: path.join(ws, 'node_modules', '@tensorflow', 'tfjs-node') });
      expect(report.steps).toBe(3);
      expect(report.notices.some((n) => n.includes('not installed') || n.includes('failed to load'))).toBe(false);
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });

  it("--backend auto picks Loss Lens's own tfjs-node in a workspace without one", async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'll-ws-'));
    try {
      const script = path.join(ws, 'train.js');
      fs.copyFileSync(fixtureScript('cjs-script.js'), script);
      const { report } = await analyze(script, { cwd: ws, backend: 'auto' });
      expect(report.status).toBe('completed');
      expect(report.backend).toMatchObject({ name: 'tensorflow', tfjsSource: 'bundled', tfjsPath: OWN_TFJS_NODE });
      expect(report.notices.some((n) => n.includes('not installed') || n.includes('failed to load'))).toBe(false);
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });

  it("runs under Node 24, the extension host's runtime: the N-API addon loads, and tfjs-node's calls to util functions Node 23 removed work", async () => {
    const { report } = await analyze(fixtureScript('cjs-script.js'), { nodePath: node24(), backend: 'tensorflow' });
    expect(report.status, report.error?.message).toBe('completed');
    expect(report.backend?.name).toBe('tensorflow');
    expect(report.steps).toBe(3);
    // The same findings as on wasm (scripts.test.ts): the bias decay, and fit's 3 planned steps against τ ≈ 2e4.
    expect(report.findings.map((f) => f.ruleId)).toEqual(['decay-on-bias-or-norm', 'decay-too-weak-for-run']);
  });

  it("a script in Loss Lens's own tree runs on Loss Lens's tfjs-node, not the user's", async () => {
    const { report } = await analyze(path.join(ROOT, 'examples/custom-loop-with-penalty.ts'), { steps: 2, backend: 'tensorflow' });
    expect(report.backend).toMatchObject({ name: 'tensorflow', tfjsSource: 'bundled', tfjsPath: OWN_TFJS_NODE });
  });
});
