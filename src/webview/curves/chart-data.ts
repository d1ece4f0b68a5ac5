import { tickStep, ticks } from 'd3';
import type { Curve } from '../series/curve-set';
import { downsampleM4, type CurvePoints } from '../series/downsample';
import { emptyExtent, isEmptyExtent, lowerBound, type Extent } from '../series/lod-column';

/**
 * The pure half of a chart: which rows are visible, the y domain they need, the non-finite bands to mark
 * and the line paths to draw. Everything here is a function of the data and the scales; chart-marks.ts
 * puts the results on screen.
 */
export type Scale = (v: number) => number;

/** Rows [i0, i1) that fall in the visible step range, plus one either side so lines run to the edges. */
export function visibleRows(steps: ArrayLike<number>, x0: number, x1: number): [number, number] {
  return [Math.max(0, lowerBound(steps, x0) - 1), Math.min(steps.length, lowerBound(steps, x1) + 1)];
}

/** The extent of every curve's raw values over the visible steps (each curve on its own step column). */
export function curvesExtent(curves: ReadonlyArray<{ curve: Curve }>, x0: number, x1: number): Extent {
  const ext = emptyExtent();
  for (const c of curves) {
    const [i0, i1] = visibleRows(c.curve.steps, x0, x1);
    c.curve.raw.extent(i0, Math.min(i1, c.curve.raw.length), ext);
  }
  return ext;
}

/**
 * The extent a chart's value axis must cover: the curves over the visible steps from `rangeFrom` on (a section
 * leaves out step 1, whose start-up values, down to 1e-16 for a decay, would otherwise set the range; they are
 * still drawn, clipped), and every reference line, so a reference is never off the chart.
 */
export function chartExtent(curves: ReadonlyArray<{ curve: Curve }>, x0: number, x1: number, references: readonly number[] = [], rangeFrom?: number): Extent {
  let ext = emptyExtent();
  if (rangeFrom !== undefined && rangeFrom > x0) {
    for (const c of curves) {
      const steps = c.curve.steps;
      const i0 = lowerBound(steps, rangeFrom);
      const i1 = Math.min(steps.length, lowerBound(steps, x1) + 1);
      if (i1 > i0) c.curve.raw.extent(i0, Math.min(i1, c.curve.raw.length), ext);
    }
  }
  // Nothing after the start-up step in view (zoomed in on step 1, or a one-step run): the start-up values it is.
  if (isEmptyExtent(ext)) ext = curvesExtent(curves, x0, x1);
  for (const v of references) {
    if (!Number.isFinite(v)) continue;
    ext.min = Math.min(ext.min, v);
    ext.max = Math.max(ext.max, v);
    if (v > 0) ext.minPositive = Math.min(ext.minPositive, v);
  }
  return ext;
}

/**
 * Runs of exact zeros in downsampled points, as [first step, last step] pairs. On a log axis a zero has no place,
 * so a chart that knows what a zero means (a decay that never reaches the loss) draws these in a band of their own.
 */
export function zeroRuns(points: CurvePoints): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start: number | null = null;
  let last = 0;
  for (let i = 0; i < points.length; i++) {
    if (points.y[i] === 0) {
      if (start === null) start = points.x[i];
      last = points.x[i];
    } else if (start !== null) {
      runs.push([start, last]);
      start = null;
    }
  }
  if (start !== null) runs.push([start, last]);
  return runs;
}

/**
 * The y domain for an extent, before d3's nice(): linear scales get 5% room above and below (10% of the
 * value, or ±1, for a flat line); log scales start at the smallest positive value and widen a flat line
 * to a factor of 2 either side. An empty extent gives [0, 1] ([0.1, 1] on a log scale).
 */
export function yDomain(ext: Extent, log: boolean): [number, number] {
  let lo = log ? ext.minPositive : ext.min;
  let hi = ext.max;
  if (isEmptyExtent(ext) || !(lo <= hi)) {
    lo = log ? 0.1 : 0;
    hi = 1;
  }
  if (log) return lo === hi ? [lo / 2, hi * 2] : [lo, hi];
  const pad = lo === hi ? Math.abs(lo) * 0.1 || 1 : (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/**
 * The step axis's ticks: whole steps only, each once, about `count` of them. d3's own ticks go below 1 on a
 * short run (1, 1.5, 2 …), which an integer format prints as "1 2 2 3 3"; a step between two steps does not exist.
 */
export function stepTicks(x0: number, x1: number, count: number): number[] {
  if (!(x1 >= x0) || !Number.isFinite(x0) || !Number.isFinite(x1)) return [];
  const step = Math.max(1, tickStep(x0, x1, Math.max(1, count)));
  const out: number[] = [];
  for (let t = Math.ceil(x0 / step) * step; t <= x1 + 1e-9; t += step) out.push(Math.round(t));
  return out;
}

/**
 * The value axis's ticks on a log scale, about `count` of them: d3 gives every 1…9 multiple of each decade, which
 * crowds the labels into one another on a short chart. Thinned to 1·2·5 multiples, then to powers of ten, then to
 * every other power, until they fit; a range inside one decade keeps d3's linear-looking ticks.
 */
export function logTicks(lo: number, hi: number, count: number): number[] {
  if (!(lo > 0) || !(hi >= lo)) return [];
  const limit = Math.max(2, count);
  const all: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const v = Number(`${m}e${e}`);
      if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) all.push(v);
    }
  const mantissa = (v: number) => Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-12));
  const decades = all.filter((v) => mantissa(v) === 1);
  if (decades.length < 2) return all.length <= limit ? all : ticks(lo, hi, limit);
  if (all.length <= limit) return all;
  const fives = all.filter((v) => [1, 2, 5].includes(mantissa(v)));
  if (fives.length <= limit) return fives;
  let every = 1;
  while (Math.ceil(decades.length / every) > limit) every++;
  return decades.filter((_, i) => i % every === 0);
}

export interface NonFiniteBand {
  id: string;
  /** Pixel span, first to last non-finite step. */
  x0: number;
  x1: number;
  label: string;
}

/** What a non-finite value is called on the chart. */
export function nonFiniteName(v: number | null): string {
  return v !== null && Number.isNaN(v) ? 'NaN' : v !== null && v < 0 ? '−∞' : '∞';
}

/**
 * One band per run of non-finite values (NaN, ±∞) in the marked curves, left to right; runs of different
 * curves closer than 3 px merge into one band, labelled after the first.
 */
export function nonFiniteBands(curves: ReadonlyArray<{ curve: Curve; markNonFinite: boolean }>, x0: number, x1: number, x: Scale): NonFiniteBand[] {
  const bands: NonFiniteBand[] = [];
  for (const c of curves) {
    if (!c.markNonFinite) continue;
    const steps = c.curve.steps;
    const [i0, i1] = visibleRows(steps, x0, x1);
    for (const [s, e] of c.curve.raw.nonFiniteRuns(i0, Math.min(i1, c.curve.raw.length))) {
      const bx0 = x(steps[s]);
      const bx1 = x(steps[e - 1]);
      const last = bands[bands.length - 1];
      if (last && bx0 - last.x1 < 3) {
        last.x1 = Math.max(last.x1, bx1);
        continue;
      }
      bands.push({ id: `${c.curve.id}:${s}`, x0: bx0, x1: bx1, label: `${nonFiniteName(c.curve.valueAt(s))} from step ${steps[s]}` });
    }
  }
  return bands.sort((a, b) => a.x0 - b.x0);
}

/** Keep path strings short: a tenth of a pixel is plenty. */
function r1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** An SVG path through the points; NaN values and points the scale cannot place (log of ≤ 0) break the line. */
export function pathOf(points: CurvePoints, x: Scale, y: Scale): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < points.length; i++) {
    const vy = points.y[i];
    const py = Number.isNaN(vy) ? NaN : y(vy);
    if (!Number.isFinite(py)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${r1(x(points.x[i]))},${r1(py)}`;
    pen = true;
  }
  return d;
}

export interface LineRow {
  id: string;
  cls: string;
  d: string;
}

export interface DrawnCurve {
  curve: Curve;
  /** CSS classes for colour, dash and weight (see curveStyle). */
  cls: string;
}

export interface LinePaths {
  rows: LineRow[];
  points: Map<string, { raw: CurvePoints; smooth: CurvePoints | null }>;
}

/**
 * M4-downsampled paths for every curve: the raw series first, then the smoothed ones over them, each in
 * the curves' order (so the last curve is drawn on top). With smoothing on, raw lines are marked faint.
 */
export function linePaths(
  curves: readonly DrawnCurve[],
  frame: { x0: number; x1: number; log: boolean; smoothing: number },
  pixels: number,
  x: Scale,
  y: Scale,
): LinePaths {
  const smoothOn = frame.smoothing > 0;
  const points = new Map<string, { raw: CurvePoints; smooth: CurvePoints | null }>();
  const raw: LineRow[] = [];
  const smooth: LineRow[] = [];
  const request = { x0: frame.x0, x1: frame.x1, pixels, log: frame.log };
  for (const c of curves) {
    const steps = c.curve.steps;
    const r = downsampleM4({ ...request, steps, column: c.curve.raw });
    const s = smoothOn ? downsampleM4({ ...request, steps, column: c.curve.smooth }) : null;
    points.set(c.curve.id, { raw: r, smooth: s });
    raw.push({ id: `${c.curve.id}:raw`, cls: `ll-line raw ${c.cls}${smoothOn ? ' faint' : ''}`, d: pathOf(r, x, y) });
    if (s) smooth.push({ id: `${c.curve.id}:smooth`, cls: `ll-line smooth ${c.cls}`, d: pathOf(s, x, y) });
  }
  return { rows: [...raw, ...smooth], points };
}

/** The row nearest to a step, for the crosshair. */
export function nearestRow(steps: ArrayLike<number>, step: number): number {
  let i = lowerBound(steps, step);
  if (i >= steps.length) i = steps.length - 1;
  if (i > 0 && Math.abs(steps[i - 1] - step) < Math.abs(steps[i] - step)) i--;
  return i;
}
