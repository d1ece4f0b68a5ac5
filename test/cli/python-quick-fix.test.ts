import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportSchema, type Report } from '../../src/shared/analysis/report';
import { VENV_PYTHON } from '../helpers/python';
import { fixedExample } from '../helpers/python-fix';
import { ROOT } from '../helpers/run';

/**
 * The Python quick fixes do what they say: each example, edited by the fix the editor offers for its recorded run
 * (test/helpers/python-fix.ts), is run through the real CLI on the project venv's TensorFlow, and the penalties
 * now reach the minimized loss.
 */
const CLI = path.join(ROOT, 'bin', 'loss-lens.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-pyfix-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function analyzeFixed(stream: string): Promise<Report> {
  const fixed = await fixedExample(stream);
  if (!fixed) throw new Error(`no fix offered for ${stream}`);
  const script = path.join(dir, fixed.file);
  fs.writeFileSync(script, fixed.text);
  const r = spawnSync(process.execPath, [CLI, 'analyze', script, '--format', 'json', '--python', VENV_PYTHON], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', CUDA_VISIBLE_DEVICES: '' },
  });
  const parsed = reportSchema.safeParse(JSON.parse(r.stdout));
  if (!parsed.success) throw new Error(`${JSON.stringify(parsed.error.issues.slice(0, 5))}\n${r.stderr}`);
  return parsed.data;
}

const rules = (r: Report) => [...new Set(r.findings.map((f) => f.ruleId))].sort();
const reaching = (r: Report) => r.terms.filter((t) => t.kind !== 'data' && t.stepsInLoss > 0).length;

describe('Python quick fixes, run through loss-lens analyze', { timeout: 300_000 }, () => {
  it("the tape loop with tf.add_n(model.losses) added: both kernels' penalties reach the loss", async () => {
    const r = await analyzeFixed('python-tape-forgets');
    expect(r.status).toBe('completed');
    expect(rules(r)).not.toContain('regularizer-not-in-loss');
    expect(reaching(r)).toBe(2);
  });

  it('seed 000 minimizing total_loss: the REGULARIZATION_LOSSES reach the minimized loss', async () => {
    const r = await analyzeFixed('python-seed000-tf1-sum');
    expect(rules(r)).not.toContain('regularizer-not-in-loss');
    expect(reaching(r)).toBe(2);
  });

  it("seed 002 minimizing total_loss: the 'losses' collection reaches it (conv1's wd=None stays undecayed)", async () => {
    const r = await analyzeFixed('python-seed002-cifar10-sum');
    expect(rules(r)).toEqual(['no-decay']);
    expect(reaching(r)).toBe(2);
  });

  it('the tf.function step differentiating total: the sum is minimized', async () => {
    const r = await analyzeFixed('python-tf-function-sum');
    expect(rules(r)).not.toContain('regularizer-not-in-loss');
    expect(reaching(r)).toBe(2);
  });
});
