/**
 * Random training scripts for the ground-truth test: random architectures, random regularizers on
 * random weights, random hand-written penalties (in the loss or computed and dropped), and every kind of
 * training loop. Each script can also compute the empirical truth itself: does raising one penalty's
 * coefficient change the step's update?
 */
export type LoopKind = 'fit' | 'trainOnBatch' | 'minimize-none' | 'minimize-all' | 'minimize-subset' | 'variableGrads-all';

export interface RegSpec {
  l1: number;
  l2: number;
}

export interface LayerSpec {
  kind: 'dense' | 'conv2d' | 'batchNorm' | 'flatten';
  units: number;
  kernel?: RegSpec;
  bias?: RegSpec;
  gamma?: RegSpec;
  beta?: RegSpec;
}

/** A penalty written by hand on one layer weight, in one of the forms people write. */
export interface HandSpec {
  layer: number;
  weight: 'kernel' | 'bias';
  form: 'l2' | 'l2-half' | 'l1' | 'norm';
  c: number;
  /** Added to the returned loss, or computed in the step and left out. */
  included: boolean;
}

export interface ModelSpec {
  seed: number;
  conv: boolean;
  layers: LayerSpec[];
  loop: LoopKind;
  /** For minimize-subset: which of model.calculateLosses() (in order) are added. */
  subset: number[];
  /** Hand-written penalties (custom loops only). */
  hand: HandSpec[];
  /** How the dropped hand-written penalties are left out: summed into a total that is not returned, or never summed. */
  handDrop: 'sum' | 'bare';
}

/** mulberry32: a tiny seeded PRNG so a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOOPS: LoopKind[] = ['fit', 'trainOnBatch', 'minimize-none', 'minimize-all', 'minimize-subset', 'variableGrads-all'];

export function randomSpec(seed: number): ModelSpec {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const maybeReg = (p: number): RegSpec | undefined =>
    r() < p ? pick([{ l1: 0, l2: 1e-2 }, { l1: 1e-3, l2: 0 }, { l1: 1e-3, l2: 1e-2 }, { l1: 0, l2: 0.3 }]) : undefined;
  const conv = r() < 0.4;
  const layers: LayerSpec[] = [];
  if (conv) {
    layers.push({ kind: 'conv2d', units: 2 + Math.floor(r() * 3), kernel: maybeReg(0.6), bias: maybeReg(0.3) });
    if (r() < 0.5) layers.push({ kind: 'batchNorm', units: 0, gamma: maybeReg(0.5), beta: maybeReg(0.3) });
    layers.push({ kind: 'flatten', units: 0 });
  }
  const depth = 1 + Math.floor(r() * 3);
  for (let i = 0; i < depth; i++) {
    layers.push({ kind: 'dense', units: 3 + Math.floor(r() * 4), kernel: maybeReg(0.6), bias: maybeReg(0.3) });
    if (r() < 0.25) layers.push({ kind: 'batchNorm', units: 0, gamma: maybeReg(0.5), beta: maybeReg(0.3) });
  }
  layers.push({ kind: 'dense', units: 2, kernel: maybeReg(0.5) });
  // Make sure every model has something to verify.
  if (!layers.some((l) => l.kernel || l.bias || l.gamma || l.beta)) layers[layers.length - 1].kernel = { l1: 0, l2: 1e-2 };
  const regCount = layers.reduce((n, l) => n + [l.kernel, l.bias, l.gamma, l.beta].filter(Boolean).length, 0);
  const subset = [...Array(regCount).keys()].filter(() => r() < 0.5);
  const loop = pick(LOOPS);
  // A PRNG of its own, so the hand-written penalties do not change the models earlier seeds made.
  const h = prng(seed + 7919);
  const hand: HandSpec[] = [];
  if (loop !== 'fit' && loop !== 'trainOnBatch') {
    const forms: HandSpec['form'][] = ['l2', 'l2-half', 'l1', 'norm'];
    layers.forEach((l, i) => {
      if (l.kind !== 'dense' && l.kind !== 'conv2d') return;
      for (const weight of ['kernel', 'bias'] as const) {
        if (h() < (weight === 'kernel' ? 0.45 : 0.15)) {
          hand.push({ layer: i, weight, form: forms[Math.floor(h() * forms.length)], c: [1e-2, 3e-3, 0.1][Math.floor(h() * 3)], included: h() < 0.55 });
        }
      }
    });
  }
  return { seed, conv, layers, loop, subset, hand, handDrop: h() < 0.5 ? 'sum' : 'bare' };
}

/** The weight id of a hand-written penalty's variable (layers are named l0, l1, …). */
export function handWeight(h: HandSpec): string {
  return `l${h.layer}/${h.weight}`;
}

/** The coefficient Loss Lens should read, in tfjs's convention (L2 c·Σw², L1 c·Σ|w|, norm c·‖w‖). */
export function handCoefficient(h: HandSpec): number {
  return h.form === 'l2-half' ? h.c / 2 : h.c;
}

/** The regularized weights of a spec, in the order tfjs creates them (which is calculateLosses order). */
export function regularizedWeights(spec: ModelSpec): string[] {
  const out: string[] = [];
  spec.layers.forEach((l, i) => {
    const order: Array<keyof LayerSpec> = l.kind === 'batchNorm' ? ['gamma', 'beta'] : ['kernel', 'bias'];
    for (const w of order) if (l[w]) out.push(`l${i}/${w}`);
  });
  return out;
}

/** A plain CommonJS training script for the spec. GROUND_TRUTH=1 makes it print the empirical verdicts. */
export function scriptFor(spec: ModelSpec): string {
  return `// generated from seed ${spec.seed}
const tf = require('@tensorflow/tfjs');
const SPEC = ${JSON.stringify(spec)};
const N = 8;

function reg(spec, scale) {
  return spec ? tf.regularizers.l1l2({ l1: spec.l1 * scale, l2: spec.l2 * scale }) : undefined;
}

function build(scales) {
  let k = 0;
  const next = (spec) => (spec ? reg(spec, scales[k++]) : undefined);
  const model = tf.sequential();
  SPEC.layers.forEach((l, i) => {
    const first = i === 0 ? { inputShape: SPEC.conv ? [5, 5, 2] : [6] } : {};
    const seeded = { seed: SPEC.seed * 100 + i };
    if (l.kind === 'dense' || l.kind === 'conv2d') {
      const common = {
        ...first,
        name: 'l' + i,
        kernelInitializer: tf.initializers.glorotUniform(seeded),
        biasInitializer: tf.initializers.randomNormal({ mean: 0.3, stddev: 0.2, seed: SPEC.seed * 100 + i + 50 }),
        kernelRegularizer: next(l.kernel),
        biasRegularizer: next(l.bias),
        activation: 'tanh',
      };
      model.add(l.kind === 'dense' ? tf.layers.dense({ ...common, units: l.units }) : tf.layers.conv2d({ ...common, filters: l.units, kernelSize: 3 }));
    } else if (l.kind === 'batchNorm') {
      model.add(tf.layers.batchNormalization({
        ...first,
        name: 'l' + i,
        gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: SPEC.seed * 100 + i }),
        betaInitializer: tf.initializers.randomUniform({ minval: 0.1, maxval: 0.5, seed: SPEC.seed * 100 + i + 7 }),
        gammaRegularizer: next(l.gamma),
        betaRegularizer: next(l.beta),
      }));
    } else {
      model.add(tf.layers.flatten({ name: 'l' + i }));
    }
  });
  return model;
}

const x = tf.randomNormal(SPEC.conv ? [N, 5, 5, 2] : [N, 6], 0, 1, 'float32', SPEC.seed);

/** The hand-written penalties of the spec, each scaled; [kept, dropped]. */
function handPenalties(model, handScales) {
  const kept = [];
  const dropped = [];
  SPEC.hand.forEach((h, i) => {
    const w = model.getLayer('l' + h.layer).trainableWeights.find((v) => v.originalName.endsWith('/' + h.weight)).read();
    const c = h.c * handScales[i];
    let p;
    if (h.form === 'l2') p = tf.mul(c, tf.sum(tf.square(w)));
    else if (h.form === 'l2-half') p = tf.mul(tf.sum(tf.square(w)), c / 2);
    else if (h.form === 'l1') p = tf.mul(c, tf.sum(tf.abs(w)));
    else p = tf.mul(c, tf.norm(w));
    (h.included ? kept : dropped).push(p);
  });
  return { kept, dropped };
}

/** The data loss plus the kept hand-written penalties; the dropped ones are computed and left out. */
function withHand(model, loss, handScales) {
  if (SPEC.hand.length === 0) return loss;
  const { kept, dropped } = handPenalties(model, handScales);
  if (dropped.length && SPEC.handDrop === 'sum') tf.addN([loss, ...dropped]);
  return kept.length ? tf.add(loss, tf.addN(kept)) : loss;
}
const y = tf.randomNormal([N, 2], 0, 1, 'float32', SPEC.seed + 1);
const dataLoss = (model) => tf.losses.meanSquaredError(y, model.apply(x, { training: true }));

async function step(model, handScales) {
  const opt = tf.train.sgd(0.1);
  switch (SPEC.loop) {
    case 'fit':
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      await model.fit(x, y, { epochs: 1, batchSize: N, shuffle: false, verbose: 0 });
      return;
    case 'trainOnBatch':
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      await model.trainOnBatch(x, y);
      return;
    case 'minimize-none':
      opt.minimize(() => withHand(model, dataLoss(model), handScales));
      return;
    case 'minimize-all':
      opt.minimize(() => withHand(model, tf.add(dataLoss(model), tf.addN(model.calculateLosses())), handScales));
      return;
    case 'minimize-subset':
      opt.minimize(() => {
        const penalties = model.calculateLosses();
        const kept = penalties.filter((_, i) => SPEC.subset.includes(i));
        return withHand(model, kept.length ? tf.add(dataLoss(model), tf.addN(kept)) : dataLoss(model), handScales);
      });
      return;
    case 'variableGrads-all': {
      const { value, grads } = tf.variableGrads(() => withHand(model, tf.add(dataLoss(model), tf.addN(model.calculateLosses())), handScales));
      opt.applyGradients(grads);
      value.dispose();
      tf.dispose(grads);
      return;
    }
  }
}

async function weightsAfterOneStep(scales, handScales) {
  const model = build(scales);
  await step(model, handScales);
  const values = model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
  model.dispose();
  return values;
}

async function groundTruth() {
  const count = SPEC.layers.reduce((n, l) => n + ['kernel', 'bias', 'gamma', 'beta'].filter((w) => l[w]).length, 0);
  const ones = new Array(count).fill(1);
  const handOnes = new Array(SPEC.hand.length).fill(1);
  const base = await weightsAfterOneStep(ones, handOnes);
  const changes = async (scales, handScales) => {
    const raised = await weightsAfterOneStep(scales, handScales);
    let diff = 0;
    raised.forEach((w, j) => w.forEach((v, k) => (diff = Math.max(diff, Math.abs(v - base[j][k])))));
    return diff > 1e-6;
  };
  const verdicts = [];
  for (let i = 0; i < count; i++) {
    const scales = ones.slice();
    scales[i] = 11;
    verdicts.push(await changes(scales, handOnes));
  }
  const hand = [];
  for (let i = 0; i < SPEC.hand.length; i++) {
    const handScales = handOnes.slice();
    handScales[i] = 11;
    hand.push(await changes(ones, handScales));
  }
  console.log('GROUND_TRUTH ' + JSON.stringify({ layers: verdicts, hand }));
}

(async () => {
  if (process.env.GROUND_TRUTH === '1') return groundTruth();
  const model = build(new Array(64).fill(1));
  for (let i = 0; i < 3; i++) await step(model, new Array(SPEC.hand.length).fill(1));
})();
`;
}
