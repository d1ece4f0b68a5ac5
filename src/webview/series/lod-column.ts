/**
 * A level-of-detail index over one append-only column of a training curve.
 *
 * The raw values stay where they are (RunState's column arrays, or a function of several columns);
 * this keeps min/max per block of BLOCK raw points and, above that, per 2, 4, 8… blocks, so the
 * extent of any range costs O(BLOCK + log² n) instead of O(n). That is what lets a view draw
 * M4 (first/min/max/last per pixel column, Jugel et al., VLDB 2014) over a million steps each frame:
 * every spike survives, because a pixel's min and max are exact.
 *
 * `null` is "no value at this step" (a term first seen later) and is a gap; NaN and ±Infinity are
 * non-finite values, kept as runs so a view can mark where the loss stopped being finite.
 *
 * The index is built lazily: `sync` indexes a few appended rows at once, but a large backlog (a hydrate
 * of a long run) only becomes known rows, which queries scan directly until `indexMore` has caught up in
 * idle time. The first draw of a million steps then costs one scan per curve, not a full index build.
 */
export type ValueAt = (index: number) => number | null;

/** Rows per block of the index's lowest level; a power of two (sync masks with it). */
export const BLOCK = 16;
/** A backlog up to this many rows is indexed at once by sync; a larger one waits for indexMore. */
export const EAGER_ROWS = 1 << 16;

/** A growable typed column: float64 where exact extents matter (raw data), float32 for drawn-only copies. */
class GrowableColumn {
  data: Float64Array | Float32Array;
  length = 0;
  constructor(private readonly precision: 32 | 64, capacity = 64) {
    this.data = precision === 64 ? new Float64Array(capacity) : new Float32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.precision === 64 ? new Float64Array(this.data.length * 2) : new Float32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  clear(): void {
    this.length = 0;
  }
  byteLength(): number {
    return this.data.byteLength;
  }
}

/** min and max over finite values, and the smallest positive one (for log scales). */
export interface Extent {
  min: number;
  max: number;
  minPositive: number;
}

export const emptyExtent = (): Extent => ({ min: Infinity, max: -Infinity, minPositive: Infinity });

export function isEmptyExtent(e: Extent): boolean {
  return !(e.min <= e.max);
}

class Level {
  readonly min: GrowableColumn;
  readonly max: GrowableColumn;
  readonly minPositive: GrowableColumn;
  constructor(precision: 32 | 64) {
    this.min = new GrowableColumn(precision);
    this.max = new GrowableColumn(precision);
    this.minPositive = new GrowableColumn(precision);
  }
  get count(): number {
    return this.min.length;
  }
  push(min: number, max: number, minPositive: number): void {
    this.min.push(min);
    this.max.push(max);
    this.minPositive.push(minPositive);
  }
}

export class LodColumn {
  private readonly levels: Level[];
  /** Rows in the index; rows up to `known` exist and are scanned directly. */
  private indexed = 0;
  private known = 0;
  private block: Extent = emptyExtent();
  /** Non-finite runs as [start, end) index pairs, flat; the last run may still be open. */
  private readonly runs: number[] = [];
  private openRun = false;

  /** `precision` 32 halves the memory for columns that are only drawn (smoothed copies); extents are then float32. */
  constructor(
    readonly valueAt: ValueAt,
    private readonly precision: 32 | 64 = 64,
  ) {
    this.levels = [new Level(precision)];
  }

  get length(): number {
    return this.known;
  }

  /** Rows known but not in the index yet. */
  get pending(): number {
    return this.known - this.indexed;
  }

  /** Rows below `length` exist (appends only): a small backlog is indexed now, a large one left to indexMore. */
  sync(length: number): void {
    this.known = Math.max(this.known, length);
    if (this.known - this.indexed <= EAGER_ROWS) this.indexTo(this.known);
  }

  /** Index up to `rows` more known rows; returns how many are still pending. */
  indexMore(rows: number): number {
    this.indexTo(Math.min(this.known, this.indexed + rows));
    return this.pending;
  }

  private indexTo(length: number): void {
    const valueAt = this.valueAt;
    // The open block's extent in locals: this loop is what a hydrate of a long run spends its time in.
    let { min, max, minPositive } = this.block;
    for (let i = this.indexed; i < length; i++) {
      const v = valueAt(i);
      if (v !== null && v - v !== 0) {
        if (!this.openRun) {
          this.runs.push(i, i + 1);
          this.openRun = true;
        } else this.runs[this.runs.length - 1] = i + 1;
      } else {
        this.openRun = false;
        if (v !== null) {
          if (v < min) min = v;
          if (v > max) max = v;
          if (v > 0 && v < minPositive) minPositive = v;
        }
      }
      if (((i + 1) & (BLOCK - 1)) === 0) {
        this.pushBlock(0, min, max, minPositive);
        min = Infinity;
        max = -Infinity;
        minPositive = Infinity;
      }
    }
    this.block = { min, max, minPositive };
    this.indexed = Math.max(this.indexed, length);
  }

  /** Forget everything (the values behind valueAt changed, e.g. a new smoothing weight). */
  reset(): void {
    for (const l of this.levels) {
      l.min.clear();
      l.max.clear();
      l.minPositive.clear();
    }
    this.levels.length = 1;
    this.indexed = 0;
    this.known = 0;
    this.block = emptyExtent();
    this.runs.length = 0;
    this.openRun = false;
  }

  private pushBlock(k: number, min: number, max: number, minPositive: number): void {
    if (k === this.levels.length) this.levels.push(new Level(this.precision));
    const level = this.levels[k];
    level.push(min, max, minPositive);
    const n = level.count;
    if (n % 2 === 0) {
      const a = n - 2;
      this.pushBlock(
        k + 1,
        Math.min(level.min.data[a], level.min.data[a + 1]),
        Math.max(level.max.data[a], level.max.data[a + 1]),
        Math.min(level.minPositive.data[a], level.minPositive.data[a + 1]),
      );
    }
  }

  /**
   * Extent of the finite values in rows [from, to): raw rows up to the first block boundary, whole
   * blocks by a bottom-up segment-tree walk over the levels, raw rows after the last boundary.
   */
  extent(from: number, to: number, into: Extent = emptyExtent()): Extent {
    const end = Math.min(to, this.known);
    let i = Math.max(0, from);
    const blocksEnd = Math.min(end - (end % BLOCK), this.levels[0].count * BLOCK);
    const head = Math.min(end, i % BLOCK === 0 ? i : i + BLOCK - (i % BLOCK));
    for (; i < head; i++) this.includeRow(i, into);
    if (i < blocksEnd) {
      let a = i / BLOCK;
      let b = blocksEnd / BLOCK;
      for (let k = 0; a < b && k < this.levels.length; k++) {
        const level = this.levels[k];
        if (a & 1) this.includeBlock(level, a++, into);
        if (b & 1) this.includeBlock(level, --b, into);
        a >>= 1;
        b >>= 1;
      }
      i = blocksEnd;
    }
    for (; i < end; i++) this.includeRow(i, into);
    return into;
  }

  private includeRow(i: number, into: Extent): void {
    const v = this.valueAt(i);
    if (v !== null && v - v === 0) include(into, v);
  }

  private includeBlock(level: Level, j: number, into: Extent): void {
    const min = level.min.data[j];
    const max = level.max.data[j];
    const pos = level.minPositive.data[j];
    if (min < into.min) into.min = min;
    if (max > into.max) into.max = max;
    if (pos < into.minPositive) into.minPositive = pos;
  }

  /** Non-finite runs that overlap rows [from, to), as [start, end) pairs; rows not indexed yet are scanned. */
  nonFiniteRuns(from = 0, to = Infinity): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let r = 0; r < this.runs.length; r += 2) {
      const s = this.runs[r];
      const e = this.runs[r + 1];
      if (e > from && s < to) out.push([s, e]);
    }
    const end = Math.min(to, this.known);
    for (let i = Math.max(from, this.indexed); i < end; i++) {
      const v = this.valueAt(i);
      if (v === null || v - v === 0) continue;
      const last = out[out.length - 1];
      if (last && last[1] === i) last[1] = i + 1;
      else out.push([i, i + 1]);
    }
    return out;
  }

  /** Bytes held by the index itself (not the raw values). */
  byteLength(): number {
    return this.levels.reduce((n, l) => n + l.min.byteLength() + l.max.byteLength() + l.minPositive.byteLength(), 0) + this.runs.length * 8;
  }
}

function include(e: Extent, v: number): void {
  if (v < e.min) e.min = v;
  if (v > e.max) e.max = v;
  if (v > 0 && v < e.minPositive) e.minPositive = v;
}

/** First index whose value is ≥ x in an ascending array (steps). */
export function lowerBound(values: ArrayLike<number>, x: number, lo = 0, hi = values.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > x in an ascending array. */
export function upperBound(values: ArrayLike<number>, x: number, lo = 0, hi = values.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
