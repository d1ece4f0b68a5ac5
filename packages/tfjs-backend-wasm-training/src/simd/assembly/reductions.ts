// AssemblyScript: column sums of a row-major [rows, width] float32 matrix (Sum and Mean over leading
// axes: bias and batch-norm gradients). Eight rows are added in float32 per pass, then into float64
// accumulators (`acc`, width doubles of scratch), as the JS kernel did; `scale` is 1 for Sum and
// 1 / rows for Mean.

export function columnSums(x: usize, rows: i32, width: i32, acc: usize, out: usize, scale: f64): void {
  memory.fill(acc, 0, <usize>width * 8);
  const vec = width & ~3;
  const stride = <usize>width * 4;
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const row = x + <usize>(r * width) * 4;
    for (let c = 0; c < vec; c += 4) {
      const p = row + <usize>c * 4;
      const s01 = f32x4.add(v128.load(p), v128.load(p + stride));
      const s23 = f32x4.add(v128.load(p + 2 * stride), v128.load(p + 3 * stride));
      const s45 = f32x4.add(v128.load(p + 4 * stride), v128.load(p + 5 * stride));
      const s67 = f32x4.add(v128.load(p + 6 * stride), v128.load(p + 7 * stride));
      const s = f32x4.add(f32x4.add(s01, s23), f32x4.add(s45, s67));
      const a = acc + <usize>c * 8;
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(s)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(s, s, 2, 3, 2, 3))), 16);
    }
    for (let c = vec; c < width; c++) {
      const p = row + <usize>c * 4;
      let s: f64 = 0;
      for (let k = 0; k < 8; k++) s += <f64>load<f32>(p + <usize>k * stride);
      store<f64>(acc + <usize>c * 8, load<f64>(acc + <usize>c * 8) + s);
    }
  }
  for (; r < rows; r++) {
    const row = x + <usize>(r * width) * 4;
    for (let c = 0; c < width; c++) {
      const a = acc + <usize>c * 8;
      store<f64>(a, load<f64>(a) + <f64>load<f32>(row + <usize>c * 4));
    }
  }
  for (let c = 0; c < width; c++) store<f32>(out + <usize>c * 4, <f32>(load<f64>(acc + <usize>c * 8) * scale));
}
