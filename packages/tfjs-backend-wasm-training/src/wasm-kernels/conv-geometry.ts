import { computeConvGeometry, type ConvGeometry, type Tf } from '../tfjs-private';

export type { ConvGeometry } from '../tfjs-private';
import type { Attrs } from './wasm-backend-handle';

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
  return computeConvGeometry(
    tf,
    inShapeNHWC,
    filterShape,
    attrs.strides as number | [number, number],
    (attrs.dilations as number | [number, number] | undefined) ?? 1,
    explicit,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

function toChannelsLastPad(pad: number[][]): number[][] {
  return [pad[0], pad[2], pad[3], pad[1]];
}
