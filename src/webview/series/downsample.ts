import { emptyExtent, isEmptyExtent, lowerBound, upperBound, type LodColumn } from './lod-column';

/**
 * Points to draw, in x order; a NaN y is a break in the line. Rows without a value (null: a term not
 * seen yet, a weight norm not sampled at that step) are left out, so the line joins the rows around them.
 */
export interface CurvePoints {
  x: Float64Array;
  y: Float64Array;
  length: number;
  /** True when every row in range was emitted as is (zoomed in far enough for full resolution). */
  raw: boolean;
}

export interface DownsampleRequest {
  /** Step numbers, ascending, one per row. */
  steps: ArrayLike<number>;
  column: LodColumn;
  /** Visible step range. */
  x0: number;
  x1: number;
  /** Pixel columns across the plot: at most four points come out per pixel. */
  pixels: number;
  /** Log scale: values ≤ 0 cannot be drawn and become breaks. */
  log?: boolean;
}

/**
 * M4 downsampling: for each pixel column the first, min, max and last row that falls in it, so the
 * drawn line is the same as drawing every row would be, spikes included. Extents come from the
 * column's level-of-detail index, so the cost depends on the pixel count, not the row count. When
 * the visible rows are few (zoomed in), every row is returned.
 */
export function downsampleM4(req: DownsampleRequest): CurvePoints {
  const { steps, column, x0, x1, log = false } = req;
  const pixels = Math.max(1, Math.floor(req.pixels));
  const n = Math.min(column.length, steps.length);
  const valid = (v: number | null): v is number => v !== null && Number.isFinite(v) && (!log || v > 0);
  // One row either side of the range, so the line runs to the plot's edges.
  const from = Math.max(0, lowerBound(steps, x0, 0, n) - 1);
  const to = Math.min(n, upperBound(steps, x1, from, n) + 1);
  const rows = to - from;

  if (rows <= pixels * 2) {
    const x = new Float64Array(rows);
    const y = new Float64Array(rows);
    let m = 0;
    for (let i = from; i < to; i++) {
      const v = column.valueAt(i);
      if (v === null) continue;
      x[m] = steps[i];
      y[m] = valid(v) ? v : NaN;
      m++;
    }
    return { x, y, length: m, raw: true };
  }

  const x = new Float64Array(pixels * 4 + 4);
  const y = new Float64Array(pixels * 4 + 4);
  let k = 0;
  const emit = (px: number, py: number) => {
    // Skip exact repeats: a flat pixel gives one point, not four.
    if (k > 0 && x[k - 1] === px && y[k - 1] === py) return;
    x[k] = px;
    y[k] = py;
    k++;
  };
  const emitRow = (i: number) => {
    const v = column.valueAt(i);
    if (v !== null) emit(steps[i], valid(v) ? v : NaN);
  };

  let i0 = lowerBound(steps, x0, from, to);
  if (i0 > from) emitRow(from);
  const width = (x1 - x0) / pixels;
  const extent = emptyExtent();
  for (let c = 0; c < pixels && i0 < to; c++) {
    const i1 = c === pixels - 1 ? upperBound(steps, x1, i0, to) : lowerBound(steps, x0 + (c + 1) * width, i0, to);
    if (i1 <= i0) continue;
    extent.min = Infinity;
    extent.max = -Infinity;
    extent.minPositive = Infinity;
    column.extent(i0, i1, extent);
    const lo = log ? extent.minPositive : extent.min;
    const first = column.valueAt(i0);
    const last = column.valueAt(i1 - 1);
    if (isEmptyExtent(extent) || !(lo <= extent.max)) {
      // Nothing finite here: a break, unless the pixel only holds rows without a value.
      if (first !== null || last !== null) emit(steps[i0], NaN);
    } else {
      const xm = steps[i0 + ((i1 - i0) >> 1)];
      if (valid(first)) emit(steps[i0], first);
      // Visit the extremes in the order the line reaches them (approximately: by first vs last).
      if (valid(first) && valid(last) && first > last) {
        emit(xm, extent.max);
        emit(xm, lo);
      } else {
        emit(xm, lo);
        emit(xm, extent.max);
      }
      if (valid(last)) emit(steps[i1 - 1], last);
      else if (last !== null) emit(steps[i1 - 1], NaN);
    }
    i0 = i1;
  }
  if (i0 < to) for (let i = i0; i < to; i++) emitRow(i);
  return { x, y, length: k, raw: false };
}
