import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInChild } from './helpers/child-tfjs';
import { ADAPTIVE, SideChooser } from '../src/wasm-threads/adaptive-threads';
import { threadPoolPointerAddress } from '../src/wasm-threads/thread-pool-address';

const require = createRequire(import.meta.url);
const wasmOut = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'));

describe('the thread pool pointer', () => {
  it('is found in every build tfjs-backend-wasm ships, and nowhere else', () => {
    for (const f of ['tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm']) {
      const address = threadPoolPointerAddress(readFileSync(path.join(wasmOut, f)));
      expect(address, f).toBeGreaterThan(0);
      expect(address! % 4, f).toBe(0);
    }
    expect(threadPoolPointerAddress(readFileSync(path.join(__dirname, '../src/simd/wasm-training-simd.wasm')))).toBeNull();
    expect(threadPoolPointerAddress(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 10, 200]))).toBeNull();
  });
});

describe('choosing a side per kernel shape', () => {
  const drive = (chooser: SideChooser, ms: { one: number; many: number }, calls: number) => {
    const sides: Array<string | null> = [];
    for (let i = 0; i < calls; i++) {
      const side = chooser.next();
      sides.push(side);
      if (side) chooser.record(side, ms[side]);
    }
    return sides;
  };

  it('stays on one thread while the pool is not ready, and starts its trials once it is', () => {
    const c = new SideChooser();
    c.poolReady = false;
    const before = drive(c, { one: 10, many: 1 }, 20);
    expect(before.filter((s) => s === 'many')).toEqual([]);
    expect(c.decided).toBeNull();
    c.poolReady = true;
    const after = drive(c, { one: 10, many: 1 }, 2 * ADAPTIVE.trials + 2);
    expect(after.filter((s) => s === 'many').length).toBe(ADAPTIVE.trials + 1);
    expect(c.decided).toBe('many');
  });

  it('keeps a small kernel on one thread without trying the pool', () => {
    const c = new SideChooser();
    const sides = drive(c, { one: ADAPTIVE.minMs / 2, many: ADAPTIVE.minMs / 10 }, 100);
    expect(sides.filter((s) => s === 'many')).toEqual([]);
    expect(c.decided).toBe('one');
  });

  it('tries both sides in blocks, then runs on the pool when it is clearly faster, and rechecks one thread now and then', () => {
    const c = new SideChooser();
    const sides = drive(c, { one: 10, many: 6 }, 400);
    expect(sides.slice(0, ADAPTIVE.warmup)).toEqual([...Array(ADAPTIVE.warmup - 1).fill(null), 'one']);
    // One block per side: an untimed call, then the timed trials.
    const trials = sides.slice(ADAPTIVE.warmup, ADAPTIVE.warmup + 2 * (ADAPTIVE.trials + 1));
    expect(trials).toEqual([...Array(ADAPTIVE.trials + 1).fill('many'), ...Array(ADAPTIVE.trials + 1).fill('one')]);
    expect(c.decided).toBe('many');
    const after = sides.slice(ADAPTIVE.warmup + trials.length);
    const ones = after.filter((s) => s === 'one').length;
    expect(ones).toBeGreaterThan(0);
    expect(ones).toBeLessThanOrEqual(3 * Math.ceil(after.length / ADAPTIVE.recheckEvery));
  });

  it('stays on one thread when the pool is not faster by the margin, and moves when the machine changes', () => {
    const c = new SideChooser();
    drive(c, { one: 10, many: 9 }, 60);
    expect(c.decided).toBe('one');
    // The other cores free up: the rechecks see the pool win and the choice follows.
    drive(c, { one: 10, many: 4 }, 600);
    expect(c.decided).toBe('many');
    // And back, when the pool gets slow (another process took the second core).
    drive(c, { one: 10, many: 30 }, 600);
    expect(c.decided).toBe('one');
  });
});

// Gradients of a conv step, computed once on one thread and once with the pool forced on.
const POOL_STEP = `
  const pools = setup.threadPoolsOf(tf.backend().wasm);
  const x = tf.tensor4d(Array.from({ length: 8 * 24 * 24 * 8 }, (_, i) => Math.sin(i)), [8, 24, 24, 8]);
  const w1 = tf.variable(tf.tensor4d(Array.from({ length: 3 * 3 * 8 * 16 }, (_, i) => Math.cos(i) / 4), [3, 3, 8, 16]));
  const w2 = tf.variable(tf.tensor2d(Array.from({ length: 12 * 12 * 16 * 5 }, (_, i) => Math.sin(3 * i) / 8), [12 * 12 * 16, 5]));
  const step = () => Object.values(tf.variableGrads(() =>
    tf.maxPool(tf.relu(tf.conv2d(x, w1, 1, 'same')), 2, 2, 'valid').reshape([8, -1]).matMul(w2).square().mean()).grads)
    .map((g) => Array.from(g.dataSync()));
  const startedOn = tf.backend().wasm.tfjs.getThreadsCount();
  const spawnedAtStart = pools.spawned;
  pools.spawn();
  const t0 = Date.now();
  while (!pools.ready()) {
    if (Date.now() - t0 > 30000) throw new Error('the pool workers never loaded');
    step();
  }
  pools.useMany(false);
  const one = step();
  const onOne = tf.backend().wasm.tfjs.getThreadsCount();
  pools.useMany(true);
  const onMany = tf.backend().wasm.tfjs.getThreadsCount();
  const many = step();
  pools.useMany(false);
  for (let i = 0; i < 6; i++) step();
  console.log(JSON.stringify({ startedOn, spawnedAtStart, onOne, onMany, one, many, stats: setup.adaptiveThreadsStats(tf) }));
`;

// Many steps of a small dense model: no kernel is large enough to try the pool.
const SMALL_MODEL = `
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [32], units: 16, activation: 'relu' }), tf.layers.dense({ units: 4 })] });
  model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  const x = tf.randomNormal([64, 32]);
  const y = tf.randomNormal([64, 4]);
  for (let i = 0; i < 60; i++) await model.trainOnBatch(x, y);
  console.log(JSON.stringify(setup.adaptiveThreadsStats(tf)));
`;

describe('adaptive threads in a real process', () => {
  it('never starts a thread for a small model', async () => {
    const run = await runInChild(SMALL_MODEL, 2, 90_000, true);
    expect(run.code, run.stderr).toBe(0);
    const stats = JSON.parse(run.stdout) as { spawned: boolean; onPool: number };
    expect(stats.spawned).toBe(false);
    expect(stats.onPool).toBe(0);
  });

  it('starts on one thread, makes the pool once its workers load (in a loop that never yields), gives the same gradients on it, and exits by itself', async () => {
    const run = await runInChild(POOL_STEP, 2, 90_000, true);
    expect(run.code, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as { startedOn: number; spawnedAtStart: boolean; onOne: number; onMany: number; one: number[][]; many: number[][]; stats: { threads: number } };
    expect(r.startedOn).toBe(1);
    expect(r.spawnedAtStart).toBe(false);
    expect(r.onOne).toBe(1);
    expect(r.onMany).toBe(2);
    expect(r.stats.threads).toBe(2);
    r.many.forEach((g, k) => {
      const scale = Math.max(...r.one[k].map(Math.abs));
      const worst = Math.max(...g.map((v, i) => Math.abs(v - r.one[k][i])));
      expect(worst, `gradient ${k}`).toBeLessThanOrEqual(1e-5 * scale);
    });
  });
});
