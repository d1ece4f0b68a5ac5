import { describe, expect, it } from 'vitest';
import { emptySeries } from '../../src/shared/model/run-state';
import { CurveSet } from '../../src/shared/series/curve-set';
import { emptyExtent } from '../../src/shared/series/lod-column';
import { curvesExtent, linePaths, nearestRow, nonFiniteBands, nonFiniteName, pathOf, visibleRows, yDomain } from '../../src/webview/curves/chart-data';
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
