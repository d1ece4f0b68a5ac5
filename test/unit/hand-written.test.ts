import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { recognizeHandWritten, type Recognition } from '../../src/runner/probes/tape/hand-written';
import type { TapeNode, TapeTensor } from '../../src/runner/tfjs-internals';

/**
 * Recognition on tapes tfjs itself records: each case runs a loss function under tf.variableGrads (cpu backend)
 * and hands the live tape to the recognizer, exactly as the step probe does inside engine.gradients.
 */
let w: tf.Variable;
let v: tf.Variable;
let x: tf.Tensor;
let y: tf.Tensor;

beforeAll(async () => {
  await tf.setBackend('cpu');
  w = tf.variable(tf.tensor2d([[0.5, -1], [2, 0.25], [-0.75, 1.5]]), true, 'w');
  v = tf.variable(tf.tensor1d([1, -2]), true, 'v');
  x = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [2, 0, -1], [1, 1, 1]]);
  y = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0]]);
});

const tapeOf = () => (tf.engine() as unknown as { state: { activeTape: TapeNode[] } }).state.activeTape;
const readConstant = (t: TapeTensor) => {
  try {
    return (t as unknown as tf.Tensor).dataSync()[0];
  } catch {
    return null;
  }
};

/** Runs `loss` as a training step would and recognises its tape; `tagged` marks layer-penalty outputs. */
function recognize(loss: (tag: (t: tf.Tensor) => tf.Tensor) => tf.Tensor): { r: Recognition; values: number[] } {
  let r: Recognition | null = null;
  let values: number[] = [];
  const tagged = new Set<number>();
  tf.variableGrads(() => {
    const out = loss((t) => {
      tagged.add(t.id);
      return t;
    }) as tf.Scalar;
    r = recognizeHandWritten({
      tape: tapeOf(),
      yTensorId: out.id,
      variableOf: (t) => (t instanceof tf.Variable && t.trainable ? t.name : null),
      tagged,
      constantValue: readConstant,
      parseForms: true,
    });
    values = r.terms.map((t) => (t.tensor as unknown as tf.Tensor).dataSync()[0] * (t.scale ?? 1));
    return out;
  }, [w, v]);
  return { r: r!, values };
}

const dataLoss = () => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), v));
const sumSq = (t: tf.Tensor) => tf.sum(tf.square(t));
const closeTo = (c: number) => expect.closeTo(c, 6);

describe('hand-written penalties in the minimized loss', () => {
  it('c·Σw² added to the data loss: an L2 term with coefficient c, counted once', () => {
    const { r, values } = recognize(() => tf.add(dataLoss(), tf.mul(1e-3, sumSq(w))));
    expect(r.terms).toHaveLength(1);
    expect(r.terms[0]).toMatchObject({ inLoss: true, scale: 1, weights: ['w'], summedAtNodeId: null, pieces: [{ weight: 'w', form: 'l2', coefficient: closeTo(1e-3) }] });
    expect(values[0]).toBeCloseTo(1e-3 * (0.25 + 1 + 4 + 0.0625 + 0.5625 + 2.25), 6);
  });

  it("l2Loss-style ½·wd·Σw² (TensorFlow's CIFAR-10 port) is L2 with coefficient wd/2", () => {
    const { r } = recognize(() => tf.addN([dataLoss(), tf.mul(tf.sum(tf.square(w)), 0.004 / 2)]));
    expect(r.terms[0].pieces).toEqual([{ weight: 'w', form: 'l2', coefficient: closeTo(0.002) }]);
    const halved = recognize(() => tf.add(dataLoss(), tf.mul(0.004, tf.div(sumSq(w), 2)))).r;
    expect(halved.terms[0].pieces).toEqual([{ weight: 'w', form: 'l2', coefficient: closeTo(0.002) }]);
  });

  it('c·Σ|w| is L1, c·‖w‖ a norm penalty, and a mean of squares L2 with c/size', () => {
    expect(recognize(() => tf.add(dataLoss(), tf.mul(0.01, tf.sum(tf.abs(w))))).r.terms[0].pieces).toEqual([{ weight: 'w', form: 'l1', coefficient: closeTo(0.01) }]);
    expect(recognize(() => tf.add(dataLoss(), tf.mul(0.1, tf.norm(w)))).r.terms[0].pieces).toEqual([{ weight: 'w', form: 'norm', coefficient: closeTo(0.1) }]);
    expect(recognize(() => tf.add(dataLoss(), tf.mul(0.6, tf.mean(tf.square(w))))).r.terms[0].pieces).toEqual([{ weight: 'w', form: 'l2', coefficient: closeTo(0.1) }]);
  });

  it('a sum over several variables is one term covering all of them; tf.addN of a list gives one term per item', () => {
    const one = recognize(() => tf.add(dataLoss(), tf.mul(1e-2, tf.add(sumSq(w), sumSq(v))))).r;
    expect(one.terms).toHaveLength(1);
    expect(one.terms[0].weights).toEqual(['w', 'v']);
    expect(one.terms[0].pieces).toEqual([
      { weight: 'w', form: 'l2', coefficient: closeTo(1e-2) },
      { weight: 'v', form: 'l2', coefficient: closeTo(1e-2) },
    ]);
    const list = recognize(() => tf.addN([dataLoss(), ...[w, v].map((p) => tf.mul(5e-3, sumSq(p)))])).r;
    expect(list.terms.map((t) => t.weights)).toEqual([['w'], ['v']]);
    const added = recognize(() => tf.add(dataLoss(), tf.addN([w, v].map((p) => tf.mul(5e-3, sumSq(p)))))).r;
    expect(added.terms.map((t) => t.weights)).toEqual([['w', 'v']]);
  });

  it('scales through the sums around it: ½·(data + penalty) halves it, a mean over a broadcast keeps it, a difference negates it', () => {
    const half = recognize(() => tf.mul(0.5, tf.add(dataLoss(), tf.mul(1e-3, sumSq(w))))).r;
    expect(half.terms[0]).toMatchObject({ scale: closeTo(0.5), pieces: [{ form: 'l2', coefficient: closeTo(5e-4) }] });
    const perExample = () => tf.mean(tf.square(tf.sub(y, tf.add(tf.matMul(x, w), v))), 1);
    const mean = recognize(() => tf.mean(tf.add(perExample(), tf.mul(1e-3, sumSq(w))))).r;
    expect(mean.terms[0]).toMatchObject({ scale: closeTo(1), inLoss: true });
    const sum = recognize(() => tf.sum(tf.add(perExample(), tf.mul(1e-3, sumSq(w))))).r;
    expect(sum.terms[0].scale).toBeCloseTo(4, 6);
    const negated = recognize(() => tf.sub(dataLoss(), tf.mul(1e-3, sumSq(w)))).r;
    expect(negated.terms[0].pieces).toEqual([{ weight: 'w', form: 'l2', coefficient: closeTo(-1e-3) }]);
  });
});

describe('hand-written penalties computed and dropped', () => {
  it('a total that adds the penalties but is not returned: the penalties, with the sum that adds them', () => {
    let addN = -1;
    const { r } = recognize(() => {
      const ce = dataLoss();
      const penalties = [w, v].map((p) => tf.mul(tf.sum(tf.square(p)), 2e-3));
      const total = tf.addN([ce, ...penalties]);
      addN = tapeOf().find((n) => n.outputs.some((o) => o.id === total.id))!.id;
      return ce;
    });
    expect(r.terms.map((t) => [t.weights, t.inLoss, t.summedAtNodeId])).toEqual([
      [['w'], false, addN],
      [['v'], false, addN],
    ]);
  });

  it('a list of penalties never added is still reported: each has an explicit coefficient', () => {
    const { r } = recognize(() => {
      [w, v].map((p) => tf.mul(1e-3, sumSq(p)));
      return dataLoss();
    });
    expect(r.terms.map((t) => [t.weights, t.inLoss, t.summedAtNodeId])).toEqual([
      [['w'], false, null],
      [['v'], false, null],
    ]);
  });

  it('a logged weight statistic is not a penalty: a norm, Σw², a mean of squares', () => {
    const { r } = recognize(() => {
      tf.norm(w).dataSync();
      sumSq(v).dataSync();
      tf.mean(tf.square(w)).dataSync();
      return dataLoss();
    });
    expect(r.terms).toEqual([]);
  });
});

describe('what is not a hand-written penalty', () => {
  it('a loss with no data in it (fitting a function of the variables alone)', () => {
    expect(recognize(() => tf.add(sumSq(tf.sub(w, 3)), tf.mul(1e-3, sumSq(v)))).r.terms).toEqual([]);
  });

  it('a penalty on activations depends on the data', () => {
    expect(recognize(() => tf.add(dataLoss(), tf.mul(1e-3, sumSq(tf.matMul(x, w))))).r.terms).toEqual([]);
  });

  it('a weight statistic inside the model (weight normalization) is not additive: not a term', () => {
    expect(recognize(() => tf.losses.meanSquaredError(y, tf.div(tf.matMul(x, w), tf.norm(w)))).r.terms).toEqual([]);
  });

  it("a layer's own regularizer (tagged) is the layer probe's term, inside and out, and its dropped sum is found", () => {
    const reg = tf.regularizers.l2({ l2: 1e-3 });
    const inLoss = recognize((tag) => tf.add(dataLoss(), tag(reg.apply(w)))).r;
    expect(inLoss.terms).toEqual([]);
    let total = -1;
    let taggedId = -1;
    const dropped = recognize((tag) => {
      const p = tag(reg.apply(w));
      taggedId = p.id;
      const ce = dataLoss();
      const t = tf.add(ce, tf.addN([p]));
      total = tapeOf().find((n) => n.outputs.some((o) => o.id === t.id))!.id;
      return ce;
    }).r;
    expect(dropped.terms).toEqual([]);
    expect(dropped.taggedSummedAt.get(taggedId)).toBe(total);
  });

  it('a hand-written penalty beside the layer penalties in one sum is still found', () => {
    const reg = tf.regularizers.l2({ l2: 1e-3 });
    const { r } = recognize((tag) => tf.add(dataLoss(), tf.add(tf.addN([tag(reg.apply(w))]), tf.mul(0.1, tf.sum(tf.abs(v))))));
    expect(r.terms.map((t) => [t.weights, t.inLoss, t.pieces])).toEqual([[['v'], true, [{ weight: 'v', form: 'l1', coefficient: closeTo(0.1) }]]]);
  });

  it('a data-free summand that is linear in the weights (a bias in a loss linear in the outputs, as a WGAN critic\'s) is not a penalty', () => {
    const critic = () => tf.mean(tf.add(tf.matMul(x, w), tf.reshape(v, [1, 2])));
    expect(recognize(() => critic()).r.terms).toEqual([]);
    expect(recognize(() => tf.add(critic(), tf.mul(3, tf.sum(v)))).r.terms).toEqual([]);
    // w·w is quadratic, not linear.
    expect(recognize(() => tf.add(dataLoss(), tf.mul(1e-3, tf.sum(tf.mul(w, w))))).r.terms[0].pieces).toEqual([{ weight: 'w', form: 'l2', coefficient: closeTo(1e-3) }]);
  });

  it('an unusual form is a term of unknown form (its value still counts)', () => {
    const { r, values } = recognize(() => tf.add(dataLoss(), tf.sum(tf.exp(w))));
    expect(r.terms[0].pieces).toEqual([{ weight: 'w', form: 'unknown', coefficient: null }]);
    expect(values[0]).toBeGreaterThan(0);
  });
});
