import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { penaltyTermId } from '../../src/shared/protocol/term-ids';
import { handCoefficient, handWeight, randomSpec, regularizedWeights, scriptFor, type LoopKind } from '../helpers/generated-model';
import { analyzeOn, MATRIX_BACKENDS } from '../helpers/backends';
import { ROOT } from '../helpers/run';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-ground-truth-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Empirical truth, without Loss Lens: does raising penalty i's coefficient change one SGD step's update? */
function empirical(script: string): { layers: boolean[]; hand: boolean[] } {
  const out = execFileSync(process.execPath, [script], {
    env: { ...process.env, GROUND_TRUTH: '1', NODE_PATH: path.join(ROOT, 'node_modules') },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = out.split('\n').find((l) => l.startsWith('GROUND_TRUTH '));
  if (!line) throw new Error(`no ground truth printed by ${script}`);
  return JSON.parse(line.slice('GROUND_TRUTH '.length)) as { layers: boolean[]; hand: boolean[] };
}

// Every case replays from its seed alone.
const seeds = Array.from({ length: 24 }, (_, i) => i + 1);
const covered = new Set<LoopKind>(seeds.map((s) => randomSpec(s).loop));
const hands = seeds.flatMap((s) => randomSpec(s).hand.map((h) => ({ ...h, drop: randomSpec(s).handDrop })));

describe.each(MATRIX_BACKENDS)('on %s', (backend) => {
  const analyze = analyzeOn(backend);

  describe('reachesMinimizedLoss agrees with the empirical truth on random models and loops', () => {
    it('covers every kind of training loop, and every hand-written form both in the loss and dropped', () => {
      expect([...covered].sort()).toEqual(['fit', 'minimize-all', 'minimize-none', 'minimize-subset', 'trainOnBatch', 'variableGrads-all']);
      for (const form of ['l2', 'l2-half', 'l1', 'norm']) {
        expect(hands.some((h) => h.form === form && h.included), `${form} in the loss`).toBe(true);
        expect(hands.some((h) => h.form === form && !h.included), `${form} dropped`).toBe(true);
      }
      expect(hands.some((h) => !h.included && h.drop === 'sum')).toBe(true);
      expect(hands.some((h) => !h.included && h.drop === 'bare')).toBe(true);
    });

    it.each(seeds)('seed %i', async (seed) => {
      const spec = randomSpec(seed);
      const script = path.join(dir, `model-${seed}.js`);
      fs.writeFileSync(script, scriptFor(spec));
      const truth = empirical(script);
      const weights = regularizedWeights(spec);
      expect(truth.layers).toHaveLength(weights.length);
      expect(truth.hand).toHaveLength(spec.hand.length);

      const { report } = await analyze(script, { steps: 2 });
      expect(report.status, `${spec.loop}: ${report.error?.message}`).not.toBe('failed');
      const verdicts = weights.map((w) => report.terms.find((t) => t.id === penaltyTermId(w))?.reachesMinimizedLoss);
      expect(verdicts, `loop ${spec.loop}, weights ${weights.join(', ')}`).toEqual(truth.layers);

      // Every hand-written penalty, in the loss (the kept ones are one tf.addN: one term over their variables) or
      // computed and dropped, is found once, with its form and coefficient.
      const hand = report.terms.filter((t) => t.kind === 'hand-written');
      const termOf = (w: string) => hand.filter((t) => t.pieces.some((p) => p.weight === w));
      const context = `hand-written ${JSON.stringify(spec.hand)}, dropped by ${spec.handDrop}; found ${JSON.stringify(hand.map((t) => [t.id, t.pieces]))}`;
      for (const h of spec.hand) expect(termOf(handWeight(h)), context).toHaveLength(1);
      expect(hand.flatMap((t) => t.pieces).length, context).toBe(spec.hand.length);
      const handVerdicts = spec.hand.map((h) => termOf(handWeight(h))[0]?.reachesMinimizedLoss);
      expect(handVerdicts, context).toEqual(truth.hand);
      for (const h of spec.hand) {
        const piece = termOf(handWeight(h))[0]?.pieces.find((p) => p.weight === handWeight(h));
        expect(piece?.form, context).toBe(h.form === 'l2-half' ? 'l2' : h.form);
        expect(piece?.coefficient, context).toBeCloseTo(handCoefficient(h), 7);
      }
    });
  });
});

