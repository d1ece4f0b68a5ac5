import type { Tf } from '../../tfjs-internals';
import type { Attrs } from './wasm-backend-handle';

/** The subset of tfjs's `Conv2DInfo` the gradient kernels read. */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; bottom: number; left: number; right: number };
}

/** tfjs's own shape arithmetic for an NHWC convolution, so our kernels agree with every other backend. */
export function convGeometry(
  tf: Tf,
  inShapeNHWC: number[],
  filterShape: number[],
  attrs: Attrs,
  depthwise: boolean,
): ConvGeometry {
  const pad = attrs.pad as 'same' | 'valid' | number | number[][];
  const explicit = Array.isArray(pad) && attrs.dataFormat === 'NCHW' ? toChannelsLastPad(pad) : pad;
  return tf.backend_util.computeConv2DInfo(
    inShapeNHWC as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations as number | [number, number] | undefined) ?? 1,
    explicit as never,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
    'channelsLast',
  ) as unknown as ConvGeometry;
}

function toChannelsLastPad(pad: number[][]): number[][] {
  return [pad[0], pad[2], pad[3], pad[1]];
}
