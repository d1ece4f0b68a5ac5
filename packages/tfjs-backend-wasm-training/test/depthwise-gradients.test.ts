import { beforeAll, describe, it } from 'vitest';
import { describeCase, outputSize, randomConvCase, type ConvCase } from './helpers/conv-cases';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { expectClose, loadWasmTfjs, onWasmAndCpu } from './helpers/wasm-tfjs';
import type { Tensor, Tf } from './helpers/tfjs';

type Tensor4D = import('@tensorflow/tfjs').Tensor4D;

const CASES = 60;
let tf: Tf;

beforeAll(async () => {
  ({ tf } = await loadWasmTfjs());
});

/** `outChannels` is the channel multiplier here. */
function shapes(c: ConvCase) {
  const oh = outputSize(c.height, c.kernel[0], c.strides[0], c.dilations[0], c.pad, 0);
  const ow = outputSize(c.width, c.kernel[1], c.strides[1], c.dilations[1], c.pad, 1);
  return {
    x: [c.batch, c.height, c.width, c.inChannels],
    filter: [c.kernel[0], c.kernel[1], c.inChannels, c.outChannels],
    dy: [c.batch, oh, ow, c.inChannels * c.outChannels],
  };
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const isDilated = (c: ConvCase) => c.dilations[0] > 1 || c.dilations[1] > 1;

/**
 * cpu's depthwise gradient kernels size their output for a dilation but loop as if it were 1
 * (tfjs never asks them for one). The reference for a dilated case is therefore the undilated
 * kernel on the equivalent wide filter, whose taps between the real ones are zero.
 */
function wideShape(c: ConvCase): number[] {
  return [(c.kernel[0] - 1) * c.dilations[0] + 1, (c.kernel[1] - 1) * c.dilations[1] + 1, c.inChannels, c.outChannels];
}

function widenFilter(values: Float32Array, c: ConvCase): Float32Array {
  const [wh, ww, ci, m] = wideShape(c);
  const out = new Float32Array(wh * ww * ci * m);
  const inner = ci * m;
  for (let i = 0; i < c.kernel[0]; i++) {
    for (let j = 0; j < c.kernel[1]; j++) {
      const from = (i * c.kernel[1] + j) * inner;
      out.set(values.subarray(from, from + inner), (i * c.dilations[0] * ww + j * c.dilations[1]) * inner);
    }
  }
  return out;
}
const multiplierCase = (rng: SeededRandom) => {
  const c = randomConvCase(rng, { dilate: true, maxChannels: 6 });
  return { ...c, outChannels: rng.pick([1, 1, 2, 3]) };
};

describe('DepthwiseConv2dNativeBackpropFilter on wasm matches cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 2000 + n;
    const rng = new SeededRandom(seed);
    const c = multiplierCase(rng);
    const s = shapes(c);
    const xv = rng.floats(size(s.x));
    const dyv = rng.floats(size(s.dy));
    it(describeCase(c, seed), async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const inputs = { x: tf.tensor(xv, s.x), dy: tf.tensor(dyv, s.dy) };
        if (!isDilated(c) || tf.getBackend() === 'wasm') {
          return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', inputs, {
            strides: c.strides, pad: c.pad, dilations: c.dilations, filterShape: s.filter,
          } as never) as Tensor;
        }
        const wide = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', inputs, {
          strides: c.strides, pad: c.pad, dilations: 1, filterShape: wideShape(c),
        } as never) as Tensor;
        return tf.stridedSlice(wide, [0, 0, 0, 0], wideShape(c), [c.dilations[0], c.dilations[1], 1, 1]);
      });
      expectClose(wasm[0], cpu[0], describeCase(c, seed));
    });
  }
});

describe('DepthwiseConv2dNativeBackpropInput on wasm matches cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 3000 + n;
    const rng = new SeededRandom(seed);
    const c = multiplierCase(rng);
    const s = shapes(c);
    const dyv = rng.floats(size(s.dy));
    const fv = rng.floats(size(s.filter));
    it(describeCase(c, seed), async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const reference = isDilated(c) && tf.getBackend() === 'cpu';
        return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', {
          dy: tf.tensor(dyv, s.dy),
          filter: reference ? tf.tensor(widenFilter(fv, c), wideShape(c)) : tf.tensor(fv, s.filter),
        }, { strides: c.strides, pad: c.pad, dilations: reference ? 1 : c.dilations, inputShape: s.x } as never) as Tensor;
      });
      expectClose(wasm[0], cpu[0], describeCase(c, seed));
    });
  }
});

describe('depthwise gradients at MobileNet scale', () => {
  it('a 3×3 stride-2 depthwise conv over a 16×16×32 batch of 8: dx and dW', async () => {
    const rng = new SeededRandom(baseSeed() + 8);
    const xv = rng.floats(8 * 16 * 16 * 32);
    const fv = rng.floats(3 * 3 * 32);
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const x = tf.tensor4d(xv, [8, 16, 16, 32]);
      const f = tf.tensor4d(fv, [3, 3, 32, 1]);
      const loss = (a: Tensor, b: Tensor) => tf.depthwiseConv2d(a as Tensor4D, b as Tensor4D, 2, 'same').square().sum();
      return tf.grads(loss)([x, f]);
    });
    expectClose(wasm[0], cpu[0], 'dx');
    expectClose(wasm[1], cpu[1], 'dW');
  });
});
