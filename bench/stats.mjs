// Small statistics for the benches: medians, percentiles and a seeded bootstrap of the median.
import * as os from 'node:os';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))));
  return s[i];
}

/** mulberry32, so a bench's interval is reproducible from its data. */
function rng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 95% percentile-bootstrap interval of the median of `xs` (resampling the pairs). */
export function bootstrapMedianCI(xs, { resamples = 10_000, seed = 1 } = {}) {
  const next = rng(seed);
  const meds = new Float64Array(resamples);
  const sample = new Array(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) sample[i] = xs[Math.floor(next() * xs.length)];
    meds[r] = median(sample);
  }
  meds.sort();
  return [meds[Math.floor(0.025 * resamples)], meds[Math.ceil(0.975 * resamples) - 1]];
}

export function loadAverage() {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

/** "×1.012 [1.003, 1.021] (n=15)". */
export function describeRatio(ratios, digits = 3) {
  const [lo, hi] = bootstrapMedianCI(ratios);
  return `×${median(ratios).toFixed(digits)} [${lo.toFixed(digits)}, ${hi.toFixed(digits)}] (n=${ratios.length})`;
}
