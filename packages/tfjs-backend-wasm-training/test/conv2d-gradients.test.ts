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

function shapes(c: ConvCase) {
  const oh = outputSize(c.height, c.kernel[0], c.strides[0], c.dilations[0], c.pad, 0);
  const ow = outputSize(c.width, c.kernel[1], c.strides[1], c.dilations[1], c.pad, 1);
  return {
    x: [c.batch, c.height, c.width, c.inChannels],
    filter: [c.kernel[0], c.kernel[1], c.inChannels, c.outChannels],
    dy: [c.batch, oh, ow, c.outChannels],
  };
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const nchw = (s: number[]) => [s[0], s[3], s[1], s[2]];
const nchwPad = (pad: ConvCase['pad']) => (Array.isArray(pad) ? [pad[0], pad[3], pad[1], pad[2]] : pad);

/** cpu's kernel has no dilation: a dilated filter is a larger filter with zero taps between. */
function dilatedFilterGradOnCpu(tf: Tf, x: Tensor, dy: Tensor, c: ConvCase): Tensor {
  const [kh, kw] = c.kernel;
  const [dh, dw] = c.dilations;
  const wide = [(kh - 1) * dh + 1, (kw - 1) * dw + 1, c.inChannels, c.outChannels];
  const full = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: wide,
  } as never) as Tensor;
  return tf.stridedSlice(full, [0, 0, 0, 0], wide, [dh, dw, 1, 1]);
}

describe('Conv2DBackpropFilter on wasm matches cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + n;
    const rng = new SeededRandom(seed);
    const c = randomConvCase(rng, { dilate: true });
    const channelsFirst = rng.next() < 0.15 && c.dilations[0] === 1 && c.dilations[1] === 1;
    const s = shapes(c);
    const xv = rng.floats(size(s.x));
    const dyv = rng.floats(size(s.dy));
    it(`${describeCase(c, seed)}${channelsFirst ? ' NCHW' : ''}`, async () => {
      const dilated = c.dilations[0] > 1 || c.dilations[1] > 1;
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const x = tf.tensor4d(xv, s.x as [number, number, number, number]);
        const dy = tf.tensor4d(dyv, s.dy as [number, number, number, number]);
        if (channelsFirst) {
          return tf.engine().runKernel('Conv2DBackpropFilter', { x: x.transpose([0, 3, 1, 2]), dy: dy.transpose([0, 3, 1, 2]) }, {
            strides: c.strides, pad: nchwPad(c.pad), dataFormat: 'NCHW', filterShape: s.filter,
          } as never) as Tensor;
        }
        if (dilated && tf.getBackend() === 'cpu') return dilatedFilterGradOnCpu(tf, x, dy, c);
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: s.filter, dilations: c.dilations,
        } as never) as Tensor;
      });
      expectClose(wasm[0], cpu[0], describeCase(c, seed));
    });
  }
});

describe('Conv2DBackpropInput on wasm matches cpu', () => {
  for (let n = 0; n < CASES; n++) {
    const seed = baseSeed() + 1000 + n;
    const rng = new SeededRandom(seed);
    const c = randomConvCase(rng, { dilate: false });
    const channelsFirst = rng.next() < 0.15;
    const s = shapes(c);
    const dyv = rng.floats(size(s.dy));
    const fv = rng.floats(size(s.filter));
    it(`${describeCase(c, seed)}${channelsFirst ? ' NCHW' : ''}`, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const dy = tf.tensor4d(dyv, s.dy as [number, number, number, number]);
        const filter = tf.tensor4d(fv, s.filter as [number, number, number, number]);
        return tf.engine().runKernel('Conv2DBackpropInput', { dy: channelsFirst ? dy.transpose([0, 3, 1, 2]) : dy, filter }, {
          strides: c.strides,
          pad: channelsFirst ? nchwPad(c.pad) : c.pad,
          dataFormat: channelsFirst ? 'NCHW' : 'NHWC',
          inputShape: channelsFirst ? nchw(s.x) : s.x,
        } as never) as Tensor;
      });
      expectClose(wasm[0], cpu[0], describeCase(c, seed));
    });
  }
});

describe('pointwise (1×1) conv2d gradients, computed as matmuls, match cpu', () => {
  for (const [n, pad, dataFormat] of [[0, 'valid', 'NHWC'], [1, 'same', 'NHWC'], [2, 'valid', 'NCHW']] as const) {
    const seed = baseSeed() + 1500 + n;
    const rng = new SeededRandom(seed);
    const [b, h, w, ci, co] = [rng.int(1, 4), rng.int(1, 9), rng.int(1, 9), rng.int(1, 40), rng.int(1, 40)];
    const xv = rng.floats(b * h * w * ci);
    const dyv = rng.floats(b * h * w * co);
    const fv = rng.floats(ci * co);
    const label = `seed ${seed}: x [${b},${h},${w},${ci}] 1×1 → ${co} ${pad} ${dataFormat}`;
    it(label, async () => {
      const { wasm, cpu } = await onWasmAndCpu(tf, () => {
        const toFormat = (t: Tensor) => (dataFormat === 'NCHW' ? t.transpose([0, 3, 1, 2]) : t);
        const x = toFormat(tf.tensor4d(xv, [b, h, w, ci]));
        const dy = toFormat(tf.tensor4d(dyv, [b, h, w, co]));
        const attrs = { strides: 1, pad, dataFormat };
        return [
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [1, 1, ci, co] } as never) as Tensor,
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: tf.tensor4d(fv, [1, 1, ci, co]) }, { ...attrs, inputShape: x.shape } as never) as Tensor,
        ];
      });
      expectClose(wasm[0], cpu[0], `${label}: dW`);
      expectClose(wasm[1], cpu[1], `${label}: dx`);
    });
  }
});

describe('conv2d gradients at CNN scale', () => {
  it('a 5×5 same conv over a 16×16×8 batch of 8: dx and dW', async () => {
    const rng = new SeededRandom(baseSeed() + 7);
    const xv = rng.floats(8 * 16 * 16 * 8);
    const fv = rng.floats(5 * 5 * 8 * 12);
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const x = tf.tensor4d(xv, [8, 16, 16, 8]);
      const f = tf.tensor4d(fv, [5, 5, 8, 12]);
      const loss = (a: Tensor, b: Tensor) => tf.conv2d(a as Tensor4D, b as Tensor4D, 1, 'same').square().sum();
      const [dx, df] = tf.grads(loss)([x, f]);
      return [dx, df];
    });
    expectClose(wasm[0], cpu[0], 'dx');
    expectClose(wasm[1], cpu[1], 'dW');
  });
});
