import { beforeAll, describe, it } from 'vitest';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { expectClose, loadWasmTfjs, onWasmAndCpu } from './helpers/wasm-tfjs';
import type { Tensor, Tf } from './helpers/tfjs';

const CASES = 30;
let tf: Tf;

beforeAll(async () => {
  ({ tf } = await loadWasmTfjs());
});

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'prelu' | 'leakyrelu' | 'sigmoid';

/** Batch layouts the replacement treats differently: none, folded into rows, truly batched, broadcast. */
function batchShapes(rng: SeededRandom): [number[], number[]] {
  switch (rng.int(0, 4)) {
    case 0: return [[], []];
    case 1: return [[1], []];
    case 2: { const b = [rng.int(2, 3), rng.int(1, 3)]; return [b, []]; }
    case 3: { const b = [rng.int(2, 4)]; return [b, b]; }
    default: return [[1], [rng.int(2, 3)]];
  }
}

describe('BatchMatMul and _FusedMatMul on wasm match cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 5000 + n;
    const rng = new SeededRandom(seed);
    const [batchA, batchB] = batchShapes(rng);
    const [m, k, cols] = [rng.int(1, 17), rng.int(1, 17), rng.int(1, 17)];
    const transposeA = rng.next() < 0.5;
    const transposeB = rng.next() < 0.5;
    const fused = rng.next() < 0.5;
    const activation = rng.pick<Activation>(['linear', 'relu', 'relu6', 'elu', 'prelu', 'leakyrelu', 'sigmoid']);
    const withBias = rng.next() < 0.7;
    const aShape = [...batchA, ...(transposeA ? [k, m] : [m, k])];
    const bShape = [...batchB, ...(transposeB ? [cols, k] : [k, cols])];
    const av = rng.floats(aShape.reduce((x, y) => x * y, 1));
    const bv = rng.floats(bShape.reduce((x, y) => x * y, 1));
    const biasV = rng.floats(cols);
    const preluV = rng.floats(cols);
    const label = `seed ${seed}: a [${aShape}]${transposeA ? 'ᵀ' : ''} · b [${bShape}]${transposeB ? 'ᵀ' : ''}` +
      (fused ? ` fused ${activation}${withBias ? ' + bias' : ''}` : '');
    it(label, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const a = tf.tensor(av, aShape);
        const b = tf.tensor(bv, bShape);
        if (!fused) return tf.matMul(a, b, transposeA, transposeB);
        return tf.fused.matMul({
          a, b, transposeA, transposeB, activation,
          bias: withBias ? tf.tensor1d(biasV) : undefined,
          preluActivationWeights: activation === 'prelu' ? tf.tensor1d(preluV) : undefined,
          leakyreluAlpha: 0.3,
        }) as Tensor;
      });
      expectClose(wasm[0], cpu[0], label);
    });
  }

  // Only broadcasts cpu gets right: it indexes batches modulo each side's batch size.
  const batched: Array<[number[], number[], boolean]> = [
    [[3, 40, 36], [3, 36, 48], false],
    [[1, 33, 40], [2, 3, 48, 40], true],
  ];
  for (const [aShape, bShape, transposeB] of batched) {
    it(`truly batched, item by item: a [${aShape}] · b [${bShape}]${transposeB ? 'ᵀ' : ''}`, async () => {
      const rng = new SeededRandom(baseSeed() + 5500 + aShape.length);
      const av = rng.floats(aShape.reduce((x, y) => x * y, 1));
      const bv = rng.floats(bShape.reduce((x, y) => x * y, 1));
      const { wasm, cpu } = await onWasmAndCpu(tf, () => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), false, transposeB));
      expectClose(wasm[0], cpu[0], `a [${aShape}] · b [${bShape}]`);
    });
  }

  it('dense-layer gradients: xᵀ·dy and dy·Wᵀ', async () => {
    const rng = new SeededRandom(baseSeed() + 5999);
    const xv = rng.floats(32 * 96);
    const wv = rng.floats(96 * 40);
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const loss = (x: Tensor, w: Tensor) => tf.matMul(x, w).relu().square().sum();
      return tf.grads(loss)([tf.tensor2d(xv, [32, 96]), tf.tensor2d(wv, [96, 40])]);
    });
    expectClose(wasm[0], cpu[0], 'dx');
    expectClose(wasm[1], cpu[1], 'dW');
  });
});
