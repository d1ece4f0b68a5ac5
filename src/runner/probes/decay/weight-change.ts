// How a weight's sampled values changed across an update or an assignment, allowing for float32 rounding.

/** An upper bound of the spacing of float32 numbers around |x| (at most twice it): no log2 per element. */
function ulp32(x: number): number {
  return Math.abs(x) * 1.2e-7 + 1.4e-45;
}

/**
 * How far the real update (after − before, in float32) is from the shadow's: null when they agree within 1% plus
 * the float32 rounding of the weights, else the relative difference.
 */
export function mismatchOf(before: Float64Array, after: Float64Array, shadow: Float64Array): number | null {
  let err = 0;
  let scale = 0;
  let rounding = 0;
  for (let i = 0; i < before.length; i++) {
    const real = after[i] - before[i];
    const d = real - shadow[i];
    err += d * d;
    scale += shadow[i] * shadow[i];
    const u = 2 * (ulp32(before[i]) + ulp32(after[i]));
    rounding += u * u;
  }
  if (!Number.isFinite(err)) return Number.isFinite(scale) ? Number.POSITIVE_INFINITY : null;
  if (err <= 1e-4 * scale + rounding) return null;
  return Math.sqrt(err / Math.max(scale, 1e-300));
}

/**
 * When `after` is `before` multiplied by one factor c (up to float32 rounding), the shrink 1 − c; else null (the
 * assignment was not a rescaling: a checkpoint load, a copy, a clip of some elements).
 */
export function rescaleShrink(before: Float64Array, after: Float64Array): number | null {
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < before.length; i++) {
    dot += before[i] * after[i];
    norm += before[i] * before[i];
  }
  if (!(norm > 0)) return null;
  const c = dot / norm;
  let residual = 0;
  let rounding = 0;
  for (let i = 0; i < before.length; i++) {
    const d = after[i] - c * before[i];
    residual += d * d;
    const u = ulp32(after[i]);
    rounding += u * u;
  }
  return residual <= rounding + 1e-14 * norm ? 1 - c : null;
}
