import { expect } from 'vitest';
import type { SeededRandom } from './seeded-random';
import { expectClose } from './wasm-tfjs';
import type { Tensor, Tf } from './tfjs';

type LayersModel = import('@tensorflow/tfjs').LayersModel;

export interface ModelCase {
  name: string;
  build(tf: Tf): LayersModel;
  /** Input and one-hot target for a batch, from plain arrays so both backends see the same data. */
  batch(tf: Tf, rng: SeededRandom): { x: () => Tensor; y: () => Tensor };
}

export function oneHotLabels(tf: Tf, rng: SeededRandom, rows: number, classes: number): () => Tensor {
  const labels = Array.from({ length: rows }, () => rng.int(0, classes - 1));
  return () => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
}

type Values = { shape: number[]; values: Float32Array };

/**
 * Gradients of every trainable weight for one batch, and the weights after one SGD step
 * (not Adam: it would turn float noise in a near-zero gradient into a full step).
 */
async function oneStep(tf: Tf, model: LayersModel, x: Tensor, y: Tensor, initial: Tensor[]) {
  model.setWeights(initial);
  const weights = model.trainableWeights.map((w) => w.read());
  const grads = tf.tidy(() => {
    const loss = () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as Tensor).mean() as never;
    const { grads } = tf.variableGrads(loss);
    return weights.map((w) => grads[(w as unknown as { name: string }).name]);
  });
  const gradValues: Values[] = grads.map((g) => ({ shape: g.shape.slice(), values: g.dataSync() as Float32Array }));
  tf.dispose(grads);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  await model.trainOnBatch(x, y);
  const after: Values[] = model.getWeights().map((w) => ({ shape: w.shape.slice(), values: w.dataSync() as Float32Array }));
  return { grads: gradValues, after };
}

/**
 * Trains `c` one step on wasm and on cpu from the same weights and data; expects no kernel to
 * fall back to cpu on wasm and every gradient and updated weight to match.
 */
export async function expectSameTrainingStep(tf: Tf, c: ModelCase, rng: SeededRandom, fellBack: string[]): Promise<void> {
  const data = c.batch(tf, rng);
  const model = c.build(tf);
  // Read to plain arrays: no tensor crosses backends.
  const initial = model.getWeights().map((w) => ({ shape: w.shape.slice(), values: w.dataSync().slice() }));
  const run = async () => {
    const x = data.x();
    const y = data.y();
    const start = initial.map((w) => tf.tensor(w.values, w.shape));
    try {
      return await oneStep(tf, model, x, y, start);
    } finally {
      tf.dispose([x, y, ...start]);
    }
  };
  fellBack.length = 0;
  const wasm = await run();
  expect(fellBack, `${c.name}: kernels that fell back to cpu`).toEqual([]);
  await tf.setBackend('cpu');
  let cpu;
  try {
    cpu = await run();
  } finally {
    await tf.setBackend('wasm');
  }
  const names = model.trainableWeights.map((w) => w.name);
  const context = `${c.name} (seed ${rng.seed})`;
  wasm.grads.forEach((g, k) => expectClose(g, cpu.grads[k], `${context}: gradient of ${names[k]}`));
  wasm.after.forEach((w, k) => expectClose(w, cpu.after[k], `${context}: weight ${k} after one SGD step`));
  model.dispose();
}

/**
 * Our kernels allocate and free buffers below the engine, where tf.memory() cannot see a leak:
 * count the wasm backend's buffers around two training steps instead.
 */
export async function expectNoLeakedBuffers(tf: Tf, c: ModelCase, rng: SeededRandom): Promise<void> {
  const model = c.build(tf);
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const data = c.batch(tf, rng);
  const [x, y] = [data.x(), data.y()];
  await model.trainOnBatch(x, y);
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const before = backend.numDataIds();
  await model.trainOnBatch(x, y);
  await model.trainOnBatch(x, y);
  expect(backend.numDataIds(), `${c.name}: wasm buffers after two more steps`).toBe(before);
  tf.dispose([x, y]);
  model.dispose();
}
