import { describe, expect, it } from 'vitest';
import { emptySeries } from '../../src/shared/model/run-state';
import { CurveSet } from '../../src/webview/series/curve-set';
import { emptyExtent } from '../../src/webview/series/lod-column';
import { chartExtent, curvesExtent, linePaths, logTicks, nearestRow, nonFiniteBands, nonFiniteName, pathOf, stepTicks, visibleRows, yDomain, zeroRuns } from '../../src/webview/curves/chart-data';
import { MARKER_SPACING, coincidenceNotes, coinciding, markerPoints } from '../../src/webview/curves/coincide';
import { MANY_LAYERS, curveStyle, styleClass } from '../../src/webview/curves/curve-style';

/** A series with the given total losses (data = total, no penalty) and one weight norm per layer. */
function curveSet(total: number[], layers: string[] = []) {
  const s = emptySeries();
  total.forEach((v, i) => {
    s.step.push(i + 1);
    s.totalLoss.push(v);
    s.dataLoss.push(v);
    s.regularizationLoss.push(0);
    s.learningRate.push(0.1);
    s.wallMs.push(1);
  });
  for (const l of layers) s.weightNorms[`${l}/kernel`] = total.map((_, i) => 1 + i);
  const set = new CurveSet(s, (w) => w.split('/')[0], 0);
  set.sync();
  return set;
}

describe('yDomain', () => {
  const ext = (min: number, max: number, minPositive = min > 0 ? min : Infinity) => ({ min, max, minPositive });
  it('pads a linear range by 5%, and a flat line by 10% of its value (or ±1 at zero)', () => {
    expect(yDomain(ext(0, 10), false)).toEqual([-0.5, 10.5]);
    expect(yDomain(ext(4, 4), false)).toEqual([3.6, 4.4]);
    expect(yDomain(ext(0, 0), false)).toEqual([-1, 1]);
  });
  it('starts a log scale at the smallest positive value, and widens a flat one by 2×', () => {
    expect(yDomain({ min: -3, max: 100, minPositive: 0.01 }, true)).toEqual([0.01, 100]);
    expect(yDomain(ext(5, 5), true)).toEqual([2.5, 10]);
  });
  it('has a default for nothing to show ([0, 1], padded)', () => {
    expect(yDomain(emptyExtent(), false)).toEqual([-0.05, 1.05]);
    expect(yDomain(emptyExtent(), true)).toEqual([0.1, 1]);
    // Only values ≤ 0 on a log scale: nothing drawable either.
    expect(yDomain({ min: -2, max: 0, minPositive: Infinity }, true)).toEqual([0.1, 1]);
  });
  it('comes from the visible rows of every curve', () => {
    const set = curveSet([1, 2, 50, 3, 4, 5, 6]);
    const loss = set.curves.filter((c) => c.group === 'loss').map((curve) => ({ curve }));
    const [i0, i1] = visibleRows(set.series.step, 4, 6);
    // One row before the range (the line comes in from the left edge), up to the last row in it.
    expect([i0, i1]).toEqual([2, 6]);
    // Steps 5–7: rows 3–6 (one before the range), the spike at step 3 stays out.
    expect(curvesExtent(loss, 5, 7)).toMatchObject({ min: 0, max: 6 });
    expect(curvesExtent(loss, 4, 6).max).toBe(50);
  });
});

describe('nonFiniteBands', () => {
  const x = (v: number) => v * 10;
  it('one band per run, labelled by what the value became and where', () => {
    const set = curveSet([1, NaN, NaN, 2, 3, 4, 5, 6, Infinity, 7, -Infinity]);
    const total = set.curves.find((c) => c.id === 'totalLoss')!;
    const bands = nonFiniteBands([{ curve: total, markNonFinite: true }], 1, set.length, x);
    expect(bands.map((b) => [b.x0, b.x1, b.label])).toEqual([
      [20, 30, 'NaN from step 2'],
      [90, 90, '∞ from step 9'],
      [110, 110, '−∞ from step 11'],
    ]);
    expect(nonFiniteBands([{ curve: total, markNonFinite: false }], 1, set.length, x)).toEqual([]);
  });
  it('merges runs of different curves that are closer than 3 px', () => {
    const set = curveSet([1, NaN, 2]);
    const curves = set.curves.filter((c) => c.id !== 'regularizationLoss').map((curve) => ({ curve, markNonFinite: true }));
    expect(nonFiniteBands(curves, 1, 3, x)).toHaveLength(1);
    expect(nonFiniteName(null)).toBe('∞');
  });
});

describe('pathOf and linePaths', () => {
  it('breaks the line at NaN and at values the scale cannot place', () => {
    const points = { x: Float64Array.from([1, 2, 3, 4, 5]), y: Float64Array.from([1, NaN, 2, -1, 3]), length: 5, raw: true };
    const log = (v: number) => (v > 0 ? Math.log10(v) : NaN);
    expect(pathOf(points, (v) => v, (v) => v)).toBe('M1,1M3,2L4,-1L5,3');
    expect(pathOf(points, (v) => v, log)).toBe('M1,0M3,0.3M5,0.5');
  });
  it('draws raw lines first and smoothed ones over them, in the curves order', () => {
    const set = curveSet([3, 2, 1]);
    set.setSmoothing(0.5);
    set.sync();
    const curves = set.curves.map((curve) => ({ curve, cls: 'c' }));
    const frame = { steps: set.series.step, x0: 1, x1: 3, log: false, smoothing: 0.5 };
    const { rows, points } = linePaths(curves, frame, 100, (v) => v, (v) => v);
    expect(rows.map((r) => r.id)).toEqual([...set.curves.map((c) => `${c.id}:raw`), ...set.curves.map((c) => `${c.id}:smooth`)]);
    expect(rows[0].cls).toBe('ll-line raw c faint');
    expect(Array.from(points.get('totalLoss')!.raw.y)).toEqual([3, 2, 1]);
  });
  it('finds the row nearest a step', () => {
    const steps = [1, 2, 5, 10];
    expect([0, 1.4, 1.6, 4, 7.4, 7.6, 99].map((s) => nearestRow(steps, s))).toEqual([0, 0, 1, 2, 2, 3, 3]);
  });
});

describe('curveStyle', () => {
  it('gives loss curves their fixed colours, and norm curves one colour each while they are few', () => {
    const set = curveSet([1, 2], ['a', 'b']);
    const ctx = { decayOf: (l: string) => (l === 'a' ? ('dropped' as const) : ('none' as const)), normIndex: (id: string) => (id === 'norm:a' ? 0 : 1), normCount: 2 };
    const style = (id: string) => curveStyle(set.curves.find((c) => c.id === id)!, ctx);
    expect(style('totalLoss')).toMatchObject({ color: 'c-total', stroke: 'dashed', tag: null });
    expect(style('norm:a')).toEqual({ color: 'pal-0', stroke: 'dashed', z: 0, tag: 'decay dropped', tagClass: 'decay-dropped' });
    expect(styleClass(style('norm:a'))).toBe('pal-0 dashed');
    expect(style('norm:b')).toMatchObject({ color: 'pal-1', stroke: 'solid', tag: 'no decay' });
    // Past MANY_LAYERS the colour tells the verdict, not the layer.
    expect(curveStyle(set.curves.find((c) => c.id === 'norm:a')!, { ...ctx, normCount: MANY_LAYERS + 1 }).color).toBe('st-dropped many');
  });
});

describe('step axis ticks', () => {
  it('are whole steps, each once, on a short run (d3 alone gives 1, 1.5, 2 … printed "1 2 2 3 3")', () => {
    expect(stepTicks(1, 3, 7)).toEqual([1, 2, 3]);
    expect(stepTicks(1, 2, 7)).toEqual([1, 2]);
    // A one-step run's domain is [0.5, 1.5].
    expect(stepTicks(0.5, 1.5, 7)).toEqual([1]);
    for (const [a, b, n] of [[1, 12, 8], [1, 40, 6], [3.2, 9.7, 10], [1, 1_000_000, 7]]) {
      const t = stepTicks(a, b, n);
      expect(t.every(Number.isInteger), `${a}–${b}`).toBe(true);
      expect(new Set(t).size).toBe(t.length);
      expect(t[0]).toBeGreaterThanOrEqual(a);
      expect(t[t.length - 1]).toBeLessThanOrEqual(b);
      expect(t.length).toBeLessThanOrEqual(2 * n + 1);
    }
  });
});

describe('log axis ticks', () => {
  it('thin to 1·2·5 multiples, then to powers of ten, so labels never crowd', () => {
    expect(logTicks(1e-8, 1e-3, 6)).toEqual([1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3]);
    expect(logTicks(1e-4, 1e-3, 5)).toEqual([1e-4, 2e-4, 5e-4, 1e-3]);
    expect(logTicks(1e-12, 1, 4)).toEqual([1e-12, 1e-8, 1e-4, 1]);
    expect(logTicks(1, 10, 20)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('the value range of a chart', () => {
  it('covers the reference lines, and leaves out a start-up step when asked', () => {
    // Step 1 at 1e-16 (a first Adam step), then about 1e-4.
    const set = curveSet([1e-16, 1e-4, 1.2e-4, 1.1e-4]);
    const total = set.curves.filter((c) => c.id === 'totalLoss').map((curve) => ({ curve }));
    expect(chartExtent(total, 1, 4).minPositive).toBe(1e-16);
    expect(chartExtent(total, 1, 4, [], 2)).toMatchObject({ minPositive: 1e-4, max: 1.2e-4 });
    // The SGD reference is always in range.
    expect(chartExtent(total, 1, 4, [2e-6], 2)).toMatchObject({ minPositive: 2e-6, max: 1.2e-4 });
    // Nothing but zeros (a decay that never reaches the loss): the reference alone sets the range.
    const zeros = curveSet([0, 0, 0]).curves.filter((c) => c.id === 'totalLoss').map((curve) => ({ curve }));
    expect(yDomain(chartExtent(zeros, 1, 3, [2e-4], 2), true)).toEqual([1e-4, 4e-4]);
  });

  it('finds the runs of exact zeros to draw in the zero band', () => {
    const p = { x: Float64Array.from([1, 2, 3, 4, 5, 6]), y: Float64Array.from([0, 0, 1e-4, 0, NaN, 0]), length: 6, raw: true };
    expect(zeroRuns(p)).toEqual([[1, 2], [4, 4], [6, 6]]);
  });
});

describe('lines that lie on one another', () => {
  const y = (v: number) => 100 - v;
  let made = 0;
  const flat = (v: number, n = 40) => ({ ...curveSet(Array.from({ length: n }, () => v)).curves.find((c) => c.id === 'totalLoss')!, id: `line${made++}` });
  it('are grouped when one colour or one stroke would hide one under the other, and found on a reference line', () => {
    const a = { curve: flat(20), cls: 'pal-0 dashed' };
    const b = { curve: flat(20.5), cls: 'pal-1 dashed' };
    const c = { curve: flat(60), cls: 'pal-2 dashed' };
    const co = coinciding([a, b, c], 1, 40, y, [{ id: 'sgd', y: 20 }]);
    expect(co.groups).toEqual([[a.curve.id, b.curve.id]]);
    expect([...co.onRule]).toEqual([
      [a.curve.id, 'sgd'],
      [b.curve.id, 'sgd'],
    ]);
    // A dashed line over a solid one of another colour shows both: no markers needed.
    expect(coinciding([{ curve: a.curve, cls: 'pal-0' }, { curve: b.curve, cls: 'pal-1 dashed' }], 1, 40, y).groups).toEqual([]);
  });

  it('take turns with their markers along the shared line, each on its own steps', () => {
    const curve = flat(20);
    const scales = { x: (v: number) => (v - 1) * 20, y, invert: (px: number) => px / 20 + 1 };
    const view = { x0: 1, x1: 40, width: 780, smoothed: false };
    const first = markerPoints(curve, 0, 3, scales, view).map((p) => p[0]);
    const second = markerPoints(curve, 1, 3, scales, view).map((p) => p[0]);
    expect(first.length).toBeGreaterThan(3);
    expect(first.filter((px) => second.includes(px))).toEqual([]);
    expect(first[1] - first[0]).toBeGreaterThanOrEqual(MARKER_SPACING);
    // Many steps per pixel: the shift is in pixels, still never the same point.
    const long = flat(20, 5000);
    const wide = { x: (v: number) => ((v - 1) / 4999) * 780, y, invert: (px: number) => (px / 780) * 4999 + 1 };
    const lv = { x0: 1, x1: 5000, width: 780, smoothed: false };
    const l0 = markerPoints(long, 0, 2, wide, lv).map((p) => p[0]);
    const l1 = markerPoints(long, 1, 2, wide, lv).map((p) => p[0]);
    expect(l0.filter((px) => l1.includes(px))).toEqual([]);
  });
});

describe('what the legend says about lines on one another', () => {
  const label = (id: string) => id;
  const rule = (id: string) => (id === 'sgd' ? '2·lr·l2 = 2e-6' : id);
  it('says a pair of runs once for all its layers, and a shared variant once', () => {
    const notes = coincidenceNotes(
      {
        groups: [
          ['a · as written', 'a · decoupled'],
          ['b · as written', 'b · decoupled'],
          ['a · x', 'b · x', 'c · x'],
        ],
        onRule: new Map([
          ['a · x', 'sgd'],
          ['b · x', 'sgd'],
          ['c · x', 'sgd'],
          ['d', 'sgd'],
        ]),
      },
      label,
      rule,
    );
    expect(notes).toEqual([
      'a and b: as written and decoupled lie on one another, told apart by their markers ● ■',
      'a, b and c (x) lie on one another and on the dotted reference 2·lr·l2 = 2e-6: told apart by their markers ● ■ ▲',
      'd lies on the dotted reference 2·lr·l2 = 2e-6',
    ]);
  });
});
