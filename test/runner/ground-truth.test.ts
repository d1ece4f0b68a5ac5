import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { penaltyTermId } from '../../src/shared/protocol/term-ids';
import { randomSpec, regularizedWeights, scriptFor, type LoopKind } from '../helpers/generated-model';
import { analyze, ROOT } from '../helpers/run';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-ground-truth-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Empirical truth, without Loss Lens: does raising regularizer i change one SGD step's update? */
function empirical(script: string): boolean[] {
  const out = execFileSync(process.execPath, [script], {
    env: { ...process.env, GROUND_TRUTH: '1', NODE_PATH: path.join(ROOT, 'node_modules') },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = out.split('\n').find((l) => l.startsWith('GROUND_TRUTH '));
  if (!line) throw new Error(`no ground truth printed by ${script}`);
  return JSON.parse(line.slice('GROUND_TRUTH '.length)) as boolean[];
}

// Every case replays from its seed alone.
const seeds = Array.from({ length: 18 }, (_, i) => i + 1);
const covered = new Set<LoopKind>(seeds.map((s) => randomSpec(s).loop));

describe('reachesMinimizedLoss agrees with the empirical truth on random models and loops', () => {
  it('covers every kind of training loop', () => {
    expect([...covered].sort()).toEqual(['fit', 'minimize-all', 'minimize-none', 'minimize-subset', 'trainOnBatch', 'variableGrads-all']);
  });

  it.each(seeds)('seed %i', async (seed) => {
    const spec = randomSpec(seed);
    const script = path.join(dir, `model-${seed}.js`);
    fs.writeFileSync(script, scriptFor(spec));
    const truth = empirical(script);
    const weights = regularizedWeights(spec);
    expect(truth).toHaveLength(weights.length);

    const { report } = await analyze(script, { steps: 2 });
    expect(report.status, `${spec.loop}: ${report.error?.message}`).not.toBe('failed');
    const verdicts = weights.map((w) => report.terms.find((t) => t.id === penaltyTermId(w))?.reachesMinimizedLoss);
    expect(verdicts, `loop ${spec.loop}, weights ${weights.join(', ')}`).toEqual(truth);
  });
});
