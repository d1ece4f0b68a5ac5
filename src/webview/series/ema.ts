import type { ValueAt } from './lod-column';

/**
 * TensorBoard's scalar smoothing: an exponential moving average, debiased so the first points are not
 * dragged towards zero (`smoothed = ema / (1 − weightⁿ)`). Non-finite values pass through unchanged and
 * do not disturb the average, as in TensorBoard. It runs over every raw step, so the smoothed curve does
 * not change with zoom or downsampling.
 */
export class EmaColumn {
  // float32: the smoothed curve is drawn and read out to 6 digits, never computed on; half the memory.
  private values = new Float32Array(1024);
  private length = 0;
  private last = 0;
  /** weightⁿ for the n finite values seen so far, kept by multiplying: Math.pow per row was most of a sync. */
  private power = 1;

  constructor(
    private readonly source: ValueAt,
    private weight: number,
  ) {}

  get smoothing(): number {
    return this.weight;
  }

  /** A new weight recomputes from the first row on the next sync. */
  setWeight(weight: number): void {
    if (weight === this.weight) return;
    this.weight = weight;
    this.length = 0;
    this.last = 0;
    this.power = 1;
  }

  get synced(): number {
    return this.length;
  }

  sync(length: number): void {
    if (length > this.values.length) {
      let cap = this.values.length;
      while (cap < length) cap *= 2;
      const next = new Float32Array(cap);
      next.set(this.values.subarray(0, this.length));
      this.values = next;
    }
    const w = this.weight;
    const values = this.values;
    const source = this.source;
    // The running average stays float64 (last); only the stored copy is float32.
    let last = this.last;
    let power = this.power;
    for (let i = this.length; i < length; i++) {
      const v = source(i);
      if (v === null) values[i] = NaN;
      else if (v - v !== 0) values[i] = v;
      else {
        last = last * w + (1 - w) * v;
        // Once 1 − power is exactly 1, power stops mattering; left alone it would sink to the smallest
        // subnormal and stay there (0.6 × 5e-324 rounds back up), and subnormal multiplies are ~20× slower.
        power = power < 2 ** -60 ? 0 : power * w;
        values[i] = w === 1 ? last : last / (1 - power);
      }
    }
    this.last = last;
    this.power = power;
    this.length = Math.max(this.length, length);
  }

  /**
   * A row without a value in the source (a weight norm not sampled that step) is a gap here too, not a break:
   * the smoothed line joins the rows around it as the raw one does. Told from a non-finite value, which is a break,
   * by asking the source (only for the NaN rows, so the cost stays with the gaps).
   */
  readonly valueAt: ValueAt = (i) => {
    const v = this.values[i];
    return v !== v && this.source(i) === null ? null : v;
  };

  byteLength(): number {
    return this.values.byteLength;
  }
}

/** The same smoothing over a plain array, for tests and exports. */
export function smoothEma(values: ReadonlyArray<number | null>, weight: number): Array<number | null> {
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (v === null) return null;
    if (!Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    count++;
    return weight === 1 ? last : last / (1 - Math.pow(weight, count));
  });
}
