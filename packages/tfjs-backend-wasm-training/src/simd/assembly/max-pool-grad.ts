// AssemblyScript: dx of max-pooling over NHWC, channels a multiple of 4. Each window's dy goes to
// the first maximum of its input in row-major order (NaN and −∞ never win), as on cpu and in the
// JS kernel, which keeps the other channel counts. `dx` arrives zeroed.

export function maxPoolGrad(
  x: usize,
  dy: usize,
  dx: usize,
  batch: i32,
  inH: i32,
  inW: i32,
  channels: i32,
  outH: i32,
  outW: i32,
  strideH: i32,
  strideW: i32,
  effH: i32,
  effW: i32,
  padTop: i32,
  padLeft: i32,
): void {
  const negInf = f32x4.splat(-Infinity);
  const none = i32x4.splat(-1);
  const lanes = i32x4(0, 1, 2, 3);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const top = oh * strideH - padTop;
      const rowFrom = max(0, top);
      const rowTo = min(inH, top + effH);
      for (let ow = 0; ow < outW; ow++) {
        const left = ow * strideW - padLeft;
        const colFrom = max(0, left);
        const colTo = min(inW, left + effW);
        if (rowFrom >= rowTo || colFrom >= colTo) continue;
        const dyAt = ((b * outH + oh) * outW + ow) * channels;
        for (let ch = 0; ch < channels; ch += 4) {
          let best = negInf;
          let at = none;
          let first = true;
          for (let r = rowFrom; r < rowTo; r++) {
            for (let c = colFrom; c < colTo; c++) {
              const idx = ((b * inH + r) * inW + c) * channels + ch;
              const v = v128.load(x + <usize>idx * 4);
              const here = i32x4.add(i32x4.splat(idx), lanes);
              if (first) {
                best = v;
                at = v128.bitselect(here, none, f32x4.gt(v, negInf));
                first = false;
                continue;
              }
              const take = v128.or(f32x4.gt(v, best), v128.and(i32x4.lt_s(at, i32x4.splat(0)), f32x4.gt(v, negInf)));
              best = v128.bitselect(v, best, take);
              at = v128.bitselect(here, at, take);
            }
          }
          const g = v128.load(dy + <usize>(dyAt + ch) * 4);
          scatter(dx, i32x4.extract_lane(at, 0), f32x4.extract_lane(g, 0));
          scatter(dx, i32x4.extract_lane(at, 1), f32x4.extract_lane(g, 1));
          scatter(dx, i32x4.extract_lane(at, 2), f32x4.extract_lane(g, 2));
          scatter(dx, i32x4.extract_lane(at, 3), f32x4.extract_lane(g, 3));
        }
      }
    }
  }
}

@inline
function scatter(dx: usize, at: i32, g: f32): void {
  if (at < 0) return;
  const p = dx + <usize>at * 4;
  store<f32>(p, load<f32>(p) + g);
}
