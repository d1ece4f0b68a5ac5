// AssemblyScript: the filter gradient of a depthwise conv2d with channel multiplier 1 and channels a
// multiple of 4 (the MobileNet case; the JS kernel takes every other):
//
//   dW[kh, kw, c] = Σ_{b, oh, ow} x[b, oh·sh + kh·dh − top, ow·sw + kw·dw − left, c] · dy[b, oh, ow, c]
//
// One output row at a time, four channels per vector, two accumulators along the row; each row's
// partial sums are added into float64 accumulators (`acc`, KH·KW·C doubles of scratch), so long
// reductions keep the precision of the cpu kernel, which sums in float64 too.

@inline
function firstInside(colOff: i32, stride: i32): i32 {
  return colOff >= 0 ? 0 : (-colOff + stride - 1) / stride;
}

@inline
function endInside(colOff: i32, stride: i32, inW: i32, outW: i32): i32 {
  const reach = inW - colOff;
  if (reach <= 0) return 0;
  return min(outW, (reach + stride - 1) / stride);
}

export function depthwiseFilterGrad(
  x: usize,
  dy: usize,
  dw: usize,
  acc: usize,
  batch: i32,
  inH: i32,
  inW: i32,
  channels: i32,
  outH: i32,
  outW: i32,
  kH: i32,
  kW: i32,
  strideH: i32,
  strideW: i32,
  dilH: i32,
  dilW: i32,
  padTop: i32,
  padLeft: i32,
): void {
  const taps = kH * kW;
  memory.fill(acc, 0, <usize>(taps * channels) * 8);
  const xStep = <usize>(strideW * channels) * 4;
  const dyStep = <usize>channels * 4;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const dyRow = dy + <usize>((b * outH + oh) * outW * channels) * 4;
      for (let i = 0; i < kH; i++) {
        const ih = oh * strideH + i * dilH - padTop;
        if (ih < 0 || ih >= inH) continue;
        const xRow = x + <usize>((b * inH + ih) * inW * channels) * 4;
        for (let j = 0; j < kW; j++) {
          const shift = j * dilW - padLeft;
          const lo = firstInside(shift, strideW);
          const hi = endInside(shift, strideW, inW, outW);
          if (lo >= hi) continue;
          const tapAcc = acc + <usize>((i * kW + j) * channels) * 8;
          for (let c = 0; c < channels; c += 4) {
            let xp = xRow + <usize>((lo * strideW + shift) * channels + c) * 4;
            let dp = dyRow + <usize>(lo * channels + c) * 4;
            let s0 = f32x4.splat(0);
            let s1 = f32x4.splat(0);
            let ow = lo;
            for (; ow + 2 <= hi; ow += 2) {
              s0 = f32x4.add(s0, f32x4.mul(v128.load(xp), v128.load(dp)));
              s1 = f32x4.add(s1, f32x4.mul(v128.load(xp + xStep), v128.load(dp + dyStep)));
              xp += 2 * xStep;
              dp += 2 * dyStep;
            }
            if (ow < hi) s0 = f32x4.add(s0, f32x4.mul(v128.load(xp), v128.load(dp)));
            const s = f32x4.add(s0, s1);
            const a = tapAcc + <usize>c * 8;
            v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(s)));
            v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 2, 3))), 16);
          }
        }
      }
    }
  }
  const n = taps * channels;
  for (let k = 0; k < n; k++) store<f32>(dw + <usize>k * 4, <f32>load<f64>(acc + <usize>k * 8));
}
