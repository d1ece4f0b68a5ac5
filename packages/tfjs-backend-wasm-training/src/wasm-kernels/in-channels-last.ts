import type { Attrs, TensorInfo, WasmBackendHandle } from './wasm-backend-handle';

/** Runs `body` on NHWC data: NCHW inputs are transposed in and the result transposed back. */
export function inChannelsLast(
  wasm: WasmBackendHandle,
  attrs: Attrs,
  inputs: TensorInfo[],
  body: (nhwc: TensorInfo[]) => TensorInfo,
  resultIsActivation: boolean,
): TensorInfo {
  if (attrs.dataFormat !== 'NCHW') return body(inputs);
  const nhwc = inputs.map((t) => wasm.transpose(t, [0, 2, 3, 1]));
  let out: TensorInfo;
  try {
    out = body(nhwc);
  } finally {
    wasm.free(...nhwc);
  }
  if (!resultIsActivation) return out;
  return wasm.runAndFree('Transpose', { x: out }, { perm: [0, 3, 1, 2] }, [out]);
}

export function nchwToNhwcShape(shape: number[]): number[] {
  return [shape[0], shape[2], shape[3], shape[1]];
}
