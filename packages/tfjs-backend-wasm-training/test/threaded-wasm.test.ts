import { describe, expect, it } from 'vitest';
import { runInChild } from './helpers/child-tfjs';

// A CNN training step's gradients, printed in full so two processes can be compared.
const TRAIN_STEP = `
  const threads = tf.backend().wasm.tfjs.getThreadsCount();
  const x = tf.tensor4d(Array.from({ length: 4 * 12 * 12 * 3 }, (_, i) => Math.sin(i)), [4, 12, 12, 3]);
  const w1 = tf.variable(tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 8 }, (_, i) => Math.cos(i) / 4), [3, 3, 3, 8]));
  const w2 = tf.variable(tf.tensor2d(Array.from({ length: 6 * 6 * 8 * 5 }, (_, i) => Math.sin(3 * i) / 8), [6 * 6 * 8, 5]));
  const { grads } = tf.variableGrads(() =>
    tf.maxPool(tf.relu(tf.conv2d(x, w1, 1, 'same')), 2, 2, 'valid').reshape([4, -1]).matMul(w2).square().mean());
  console.log(JSON.stringify({ threads, grads: Object.values(grads).map((g) => Array.from(g.dataSync())) }));
`;

describe('multithreaded wasm in Node', () => {
  it('runs on two threads, gives the one-thread gradients, and lets the process end by itself', async () => {
    const [one, two] = [await runInChild(TRAIN_STEP, 1), await runInChild(TRAIN_STEP, 2)];
    for (const run of [one, two]) expect(run.code, run.stderr).toBe(0);
    const a = JSON.parse(one.stdout) as { threads: number; grads: number[][] };
    const b = JSON.parse(two.stdout) as { threads: number; grads: number[][] };
    expect(a.threads).toBe(1);
    expect(b.threads).toBe(2);
    expect(b.grads.length).toBe(a.grads.length);
    b.grads.forEach((g, k) => {
      const scale = Math.max(...a.grads[k].map(Math.abs));
      const worst = Math.max(...g.map((v, i) => Math.abs(v - a.grads[k][i])));
      expect(worst, `gradient ${k}`).toBeLessThanOrEqual(1e-5 * scale);
    });
  });
});
