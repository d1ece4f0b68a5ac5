import { describe, expect, it } from 'vitest';
import { CurveSet } from '../../src/webview/series/curve-set';
import { downsampleM4 } from '../../src/webview/series/downsample';
import { EmaColumn, smoothEma } from '../../src/webview/series/ema';
import { LodColumn, lowerBound } from '../../src/webview/series/lod-column';
import { emptySeries } from '../../src/shared/model/run-state';

/** A deterministic noisy curve with spikes, zeros, a NaN run and an Infinity. */
function makeColumn(n: number, seed = 7): number[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(2 * Math.exp(-i / (n / 3)) + 0.2 * rand());
  out[Math.floor(n * 0.37)] = 50; // a one-step spike
  out[Math.floor(n * 0.61)] = -20;
  for (let i = Math.floor(n * 0.8); i < Math.floor(n * 0.8) + 25; i++) out[i] = NaN;
  out[Math.floor(n * 0.9)] = Infinity;
  return out;
}

function bruteExtent(values: number[], from: number, to: number) {
  let min = Infinity;
  let max = -Infinity;
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return { min, max };
}

describe('level-of-detail column', () => {
  const values = makeColumn(100_003);
  const col = new LodColumn((i) => values[i]);
  col.sync(values.length);

  it('gives the exact extent of any range', () => {
    let s = 3;
    for (let k = 0; k < 300; k++) {
      s = (s * 48271) % 2147483647;
      const a = s % values.length;
      s = (s * 48271) % 2147483647;
      const b = Math.min(values.length, a + 1 + (s % 40_000));
      const e = col.extent(a, b);
      const t = bruteExtent(values, a, b);
      expect([e.min, e.max]).toEqual([t.min, t.max]);
    }
  });

  it('keeps the non-finite runs', () => {
    const runs = col.nonFiniteRuns();
    const expected: Array<[number, number]> = [];
    for (let i = 0; i < values.length; i++) {
      if (Number.isFinite(values[i])) continue;
      const last = expected[expected.length - 1];
      if (last && last[1] === i) last[1] = i + 1;
      else expected.push([i, i + 1]);
    }
    expect(runs).toEqual(expected);
  });

  it('indexes appends incrementally to the same result as indexing at once', () => {
    const inc = new LodColumn((i) => values[i]);
    for (let n = 0; n < values.length; n += 977) inc.sync(Math.min(values.length, n + 977));
    for (const [a, b] of [[0, values.length], [5, 70_001], [33_333, 33_400]]) expect(inc.extent(a, b)).toEqual(col.extent(a, b));
  });
});

describe('M4 downsampling', () => {
  const values = makeColumn(250_000);
  const steps = values.map((_, i) => i + 1);
  const col = new LodColumn((i) => values[i]);
  col.sync(values.length);

  it('draws each pixel column from exactly its rows: min and max kept, spikes kept', () => {
    const pixels = 800;
    const p = downsampleM4({ steps, column: col, x0: 1, x1: values.length, pixels });
    expect(p.raw).toBe(false);
    expect(p.length).toBeLessThanOrEqual(pixels * 4 + 4);
    const ys = Array.from(p.y.subarray(0, p.length)).filter((v) => !Number.isNaN(v));
    expect(ys.reduce((a, b) => Math.max(a, b), -Infinity)).toBe(50);
    expect(ys.reduce((a, b) => Math.min(a, b), Infinity)).toBe(-20);
    // Every pixel: the points drawn inside it span exactly the rows' min..max.
    const width = (values.length - 1) / pixels;
    for (let c = 0; c < pixels; c += 37) {
      const lo = 1 + c * width;
      const hi = c === pixels - 1 ? values.length + 1 : 1 + (c + 1) * width;
      const a = lowerBound(steps, lo);
      const b = lowerBound(steps, hi);
      const t = bruteExtent(values, a, b);
      const inPixel: number[] = [];
      for (let i = 0; i < p.length; i++) if (p.x[i] >= steps[a] && p.x[i] <= steps[b - 1] && !Number.isNaN(p.y[i])) inPixel.push(p.y[i]);
      if (t.min <= t.max) expect([Math.min(...inPixel), Math.max(...inPixel)]).toEqual([t.min, t.max]);
    }
  });

  it('returns every row when zoomed in, with breaks where the values are not finite', () => {
    const a = Math.floor(values.length * 0.8) - 10;
    const p = downsampleM4({ steps, column: col, x0: steps[a], x1: steps[a + 99], pixels: 800 });
    expect(p.raw).toBe(true);
    expect(Array.from(p.x.subarray(0, p.length))).toEqual(steps.slice(a - 1, a + 101));
    for (let i = 0; i < p.length; i++) {
      const v = values[a - 1 + i];
      expect(Number.isFinite(v) ? p.y[i] === v : Number.isNaN(p.y[i])).toBe(true);
    }
  });

  it('log scale turns values ≤ 0 into breaks and uses the smallest positive value', () => {
    const p = downsampleM4({ steps, column: col, x0: 1, x1: values.length, pixels: 400, log: true });
    const ys = Array.from(p.y.subarray(0, p.length)).filter((v) => !Number.isNaN(v));
    expect(ys.every((v) => v > 0)).toBe(true);
    expect(ys.reduce((a, b) => Math.min(a, b), Infinity)).toBe(values.filter((v) => v > 0 && Number.isFinite(v)).reduce((a, b) => Math.min(a, b), Infinity));
  });
});

describe('smoothing', () => {
  it('is TensorBoard\'s debiased EMA, over every raw step, with non-finite values passed through', () => {
    const values = [1, 2, NaN, 4, Infinity, 3, 3, 10];
    const w = 0.6;
    // TensorBoard's loop, written out.
    let last = 0;
    let n = 0;
    const expected = values.map((v) => {
      if (!Number.isFinite(v)) return v;
      last = last * w + (1 - w) * v;
      n++;
      return last / (1 - Math.pow(w, n));
    });
    expect(smoothEma(values, w)).toEqual(expected);
    const ema = new EmaColumn((i) => values[i], w);
    ema.sync(3);
    ema.sync(values.length);
    // Stored as float32: the drawn copy.
    expect(values.map((_, i) => ema.valueAt(i))).toEqual(expected.map(Math.fround));
    ema.setWeight(0.9);
    ema.sync(values.length);
    expect(values.map((_, i) => ema.valueAt(i))).toEqual(smoothEma(values, 0.9).map((v) => Math.fround(v!)));
  });

  it('a curve set indexes appended rows and per-layer norms as √Σ‖w‖²', () => {
    const series = emptySeries();
    const set = new CurveSet(series, (w) => w.split('/')[0], 0.5);
    for (let i = 0; i < 100; i++) {
      series.step.push(i + 1);
      series.totalLoss.push(10 - i * 0.05);
      series.dataLoss.push(9 - i * 0.05);
      series.regularizationLoss.push(1);
      series.learningRate.push(0.1);
      series.wallMs.push(1);
      (series.weightNorms['a/kernel'] ??= []).push(3);
      (series.weightNorms['a/bias'] ??= []).push(4);
      if (i % 10 === 9) set.sync();
    }
    const norm = set.curves.find((c) => c.id === 'norm:a')!;
    expect(norm.valueAt(0)).toBe(5);
    expect(norm.raw.extent(0, 100)).toMatchObject({ min: 5, max: 5 });
    const total = set.curves.find((c) => c.id === 'totalLoss')!;
    expect(total.raw.length).toBe(100);
    expect(total.smooth.extent(0, 100).max).toBeLessThanOrEqual(10);
    expect(total.ema.valueAt(99)).toBeCloseTo(smoothEma(series.totalLoss, 0.5)[99]!, 6);
  });
});

describe('rows without a value', () => {
  // A sampled weight norm: a value every third step, null in between, and one NaN.
  const values: Array<number | null> = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? 1 + i / 1000 : null));
  values[1500] = NaN;
  const steps = values.map((_, i) => i + 1);
  const col = new LodColumn((i) => values[i]);
  col.sync(values.length);

  it('are left out, so the line joins the sampled rows, while NaN still breaks it (full resolution)', () => {
    const p = downsampleM4({ steps, column: col, x0: 1, x1: 300, pixels: 800 });
    const ys = Array.from(p.y.subarray(0, p.length));
    expect(ys.every((y) => !Number.isNaN(y))).toBe(true);
    expect(Array.from(p.x.subarray(0, p.length)).every((x) => (x - 1) % 3 === 0)).toBe(true);
    const around = downsampleM4({ steps, column: col, x0: 1490, x1: 1510, pixels: 800 });
    expect(Array.from(around.y.subarray(0, around.length)).filter(Number.isNaN)).toHaveLength(1);
  });

  it('are left out when downsampled too', () => {
    const p = downsampleM4({ steps, column: col, x0: 1, x1: 3000, pixels: 100 });
    const ys = Array.from(p.y.subarray(0, p.length));
    // One break, for the NaN; every other point is a sampled value.
    expect(ys.filter(Number.isNaN).length).toBeLessThanOrEqual(2);
    expect(ys.filter((y) => !Number.isNaN(y)).every((y) => y >= 1 && y <= 4)).toBe(true);
  });
});

describe('smoothing across rows without a value (a weight norm sampled less often later in the run)', () => {
  // Every step at first, then every 4th: the sampling thins out as the run goes on.
  const values: Array<number | null> = Array.from({ length: 200 }, (_, i) => (i < 40 || i % 4 === 0 ? 5 - i / 100 : null));
  values[120] = NaN;
  const steps = values.map((_, i) => i + 1);
  const ema = new EmaColumn((i) => values[i], 0.6);
  ema.sync(values.length);
  const smooth = new LodColumn(ema.valueAt, 32);
  smooth.sync(values.length);

  it('is a gap where the source has none, not a break, and still a break at a non-finite value', () => {
    expect(ema.valueAt(41)).toBeNull();
    expect(ema.valueAt(44)).toBeCloseTo(smoothEma(values, 0.6)[44]!, 5);
    expect(Number.isNaN(ema.valueAt(120))).toBe(true);
  });

  it('downsamples to one line from the first step to the last, broken only at the NaN', () => {
    for (const pixels of [800, 20]) {
      const p = downsampleM4({ steps, column: smooth, x0: 1, x1: 200, pixels });
      const ys = Array.from(p.y.subarray(0, p.length));
      // Full resolution keeps the NaN as one break; a pixel column holding it and finite rows draws those (M4).
      expect(ys.filter(Number.isNaN).length, `${pixels} px`).toBe(pixels === 800 ? 1 : 0);
      expect(p.x[p.length - 1]).toBeGreaterThan(190);
    }
  });
});

describe('lazy indexing', () => {
  const values = makeColumn(300_000);
  it('a large backlog is scanned until it is indexed, with the same answers before and after', () => {
    const eager = new LodColumn((i) => values[i]);
    for (let n = 0; n < values.length; n += 50_000) eager.sync(Math.min(values.length, n + 50_000));
    const lazy = new LodColumn((i) => values[i]);
    lazy.sync(values.length);
    expect(lazy.length).toBe(values.length);
    expect(lazy.pending).toBe(values.length);
    const ranges = [[0, values.length], [7, 123_456], [200_001, 200_017]];
    const check = () => {
      for (const [a, b] of ranges) expect(lazy.extent(a, b)).toEqual(eager.extent(a, b));
      expect(lazy.nonFiniteRuns()).toEqual(eager.nonFiniteRuns());
      expect(lazy.nonFiniteRuns(240_000, 260_000)).toEqual(eager.nonFiniteRuns(240_000, 260_000));
    };
    check();
    // Part of the way: an open non-finite run across the boundary still comes out whole.
    const nanRow = Math.floor(values.length * 0.8) + 10;
    lazy.indexMore(nanRow);
    expect(lazy.pending).toBe(values.length - nanRow);
    check();
    while (lazy.indexMore(65_536) > 0);
    expect(lazy.pending).toBe(0);
    check();
  });
});
