import type { SeededRandom } from './seeded-random';

export type Padding = 'same' | 'valid' | number[][];

/** One randomized NHWC convolution: shapes, stride, dilation and padding. */
export interface ConvCase {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  /** Output channels (regular conv) or channel multiplier (depthwise). */
  outChannels: number;
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: Padding;
}

export function describeCase(c: ConvCase, seed: number): string {
  return `seed ${seed}: x [${c.batch},${c.height},${c.width},${c.inChannels}] kernel ${c.kernel} out/mult ${c.outChannels} ` +
    `strides ${c.strides} dilations ${c.dilations} pad ${JSON.stringify(c.pad)}`;
}

/** Output size along one axis, as tfjs computes it (floor rounding for explicit pads). */
export function outputSize(size: number, kernel: number, stride: number, dilation: number, pad: Padding, axis: 0 | 1): number {
  const reach = (kernel - 1) * dilation + 1;
  if (pad === 'same') return Math.ceil(size / stride);
  if (pad === 'valid') return Math.ceil((size - reach + 1) / stride);
  const [lo, hi] = pad[axis + 1];
  return Math.floor((size + lo + hi - reach) / stride) + 1;
}

/** A random case whose output is non-empty; `dilate` allows dilation > 1 (strides stay 1 then, as tfjs requires). */
export function randomConvCase(rng: SeededRandom, options: { dilate: boolean; maxChannels?: number }): ConvCase {
  const maxChannels = options.maxChannels ?? 5;
  for (;;) {
    const dilated = options.dilate && rng.next() < 0.5;
    const c: ConvCase = {
      batch: rng.int(1, 3),
      height: rng.int(1, 11),
      width: rng.int(1, 11),
      inChannels: rng.int(1, maxChannels),
      outChannels: rng.int(1, maxChannels),
      kernel: [rng.int(1, 5), rng.int(1, 5)],
      strides: dilated ? [1, 1] : [rng.int(1, 3), rng.int(1, 3)],
      dilations: dilated ? [rng.int(1, 3), rng.int(1, 3)] : [1, 1],
      pad: rng.pick(['same', 'valid', 'explicit'] as const) === 'explicit'
        ? [[0, 0], [rng.int(0, 3), rng.int(0, 3)], [rng.int(0, 3), rng.int(0, 3)], [0, 0]]
        : rng.pick(['same', 'valid'] as const),
    };
    const oh = outputSize(c.height, c.kernel[0], c.strides[0], c.dilations[0], c.pad, 0);
    const ow = outputSize(c.width, c.kernel[1], c.strides[1], c.dilations[1], c.pad, 1);
    if (oh >= 1 && ow >= 1) return c;
  }
}
