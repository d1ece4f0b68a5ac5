import { beforeAll, describe, it } from 'vitest';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { expectClose, loadWasmTfjs, onWasmAndCpu } from './helpers/wasm-tfjs';
import type { Tensor, Tf } from './helpers/tfjs';

const CASES = 25;
let tf: Tf;

beforeAll(async () => {
  ({ tf } = await loadWasmTfjs());
});

describe('UnsortedSegmentSum on wasm matches cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 4000 + n;
    const rng = new SeededRandom(seed);
    const rows = rng.int(1, 40);
    const rowShape = Array.from({ length: rng.int(0, 2) }, () => rng.int(1, 6));
    const numSegments = rng.int(1, 12);
    const dtype = rng.next() < 0.25 ? 'int32' : 'float32';
    // Some ids fall outside [0, numSegments): both backends drop those rows.
    const ids = Int32Array.from({ length: rows }, () => rng.int(-1, numSegments));
    const values = rng.floats(rows * rowShape.reduce((a, b) => a * b, 1)).map((v) => (dtype === 'int32' ? Math.round(v * 100) : v));
    const label = `seed ${seed}: x [${rows},${rowShape}] ${dtype} into ${numSegments} segments`;
    it(label, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () =>
        tf.unsortedSegmentSum(tf.tensor(values, [rows, ...rowShape], dtype), tf.tensor1d(ids, 'int32'), numSegments) as Tensor,
      );
      expectClose(wasm[0], cpu[0], label);
    });
  }

  it('is the gradient of gather: an embedding lookup with repeated ids', async () => {
    const rng = new SeededRandom(baseSeed() + 4999);
    const table = rng.floats(30 * 8);
    const ids = Int32Array.from({ length: 64 }, () => rng.int(0, 29));
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const t = tf.tensor2d(table, [30, 8]);
      return tf.grad((w: Tensor) => tf.gather(w, tf.tensor2d(ids, [8, 8], 'int32')).square().sum())(t);
    });
    expectClose(wasm[0], cpu[0], 'gather gradient');
  });
});
