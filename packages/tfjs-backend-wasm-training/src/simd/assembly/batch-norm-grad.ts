// AssemblyScript: every gradient of batch norm with per-channel statistics, in one pass over x and dy
// (tfjs's composite gradient makes ~14 passes over the activation: subtract, tile, multiplies and
// four reductions). With f = 1/√(variance + ε), s = scale, per channel c over all rows:
//
//   dx = dy·s·f                      dmean = −f·Σ dy·s
//   dvariance = −½·f³·Σ dy·s·(x − mean)   dscale = f·Σ dy·(x − mean)   doffset = Σ dy
//
// Eight rows are summed in float32 registers, then into float64 accumulators (`acc`: 4·C doubles).
// Channels a multiple of 4. `stats` holds mean[C], f[C], s[C]; `out` receives dmean, dvariance,
// dscale, doffset (4·C floats, in that order).

export function batchNormGrad(x: usize, dy: usize, stats: usize, dx: usize, acc: usize, out: usize, rows: i32, c: i32): void {
  memory.fill(acc, 0, <usize>(4 * c) * 8);
  const stride = <usize>c * 4;
  const mean = stats;
  const f = stats + stride;
  const s = stats + 2 * stride;
  let r0 = 0;
  while (r0 < rows) {
    const block = min(8, rows - r0);
    const base = <usize>(r0 * c) * 4;
    for (let j = 0; j < c; j += 4) {
      const o = <usize>j * 4;
      const mv = v128.load(mean + o);
      const fv = v128.load(f + o);
      const sv = v128.load(s + o);
      let aDys = f32x4.splat(0);
      let aDysXm = f32x4.splat(0);
      let aDyXm = f32x4.splat(0);
      let aDy = f32x4.splat(0);
      for (let k = 0; k < block; k++) {
        const p = base + <usize>k * stride + o;
        const xv = v128.load(x + p);
        const dyv = v128.load(dy + p);
        const xm = f32x4.sub(xv, mv);
        const dys = f32x4.mul(dyv, sv);
        v128.store(dx + p, f32x4.mul(dys, fv));
        aDys = f32x4.add(aDys, dys);
        aDysXm = f32x4.add(aDysXm, f32x4.mul(dys, xm));
        aDyXm = f32x4.add(aDyXm, f32x4.mul(dyv, xm));
        aDy = f32x4.add(aDy, dyv);
      }
      accumulate(acc + <usize>j * 8, aDys);
      accumulate(acc + <usize>(c + j) * 8, aDysXm);
      accumulate(acc + <usize>(2 * c + j) * 8, aDyXm);
      accumulate(acc + <usize>(3 * c + j) * 8, aDy);
    }
    r0 += block;
  }
  for (let j = 0; j < c; j++) {
    const fj = <f64>load<f32>(f + <usize>j * 4);
    store<f32>(out + <usize>j * 4, <f32>(-fj * load<f64>(acc + <usize>j * 8)));
    store<f32>(out + <usize>(c + j) * 4, <f32>(-0.5 * fj * fj * fj * load<f64>(acc + <usize>(c + j) * 8)));
    store<f32>(out + <usize>(2 * c + j) * 4, <f32>(fj * load<f64>(acc + <usize>(2 * c + j) * 8)));
    store<f32>(out + <usize>(3 * c + j) * 4, <f32>load<f64>(acc + <usize>(3 * c + j) * 8));
  }
}

@inline
function accumulate(a: usize, v: v128): void {
  v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
  v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3))), 16);
}
