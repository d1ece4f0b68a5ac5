import { describe, expect, it } from 'vitest';
import { packColumn, unpackColumn } from '../../src/shared/panel/column-codec';
import { packSeries, packedSeries } from '../../src/shared/panel/packed-series';
import { replayStream } from './helpers/streams';

const overJson = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const same = (a: ReadonlyArray<number | null>, b: ReadonlyArray<number | null>) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('packed columns', () => {
  it('round-trip every value exactly through JSON: NaN, ±Infinity, −0, nulls', () => {
    const values = [1.5, NaN, Infinity, -Infinity, -0, 0, null, 1e-300, 2 ** 53 + 2, null, Math.PI];
    const p = overJson(packColumn(values));
    expect('f64' in p && p.nulls).toBeTruthy();
    expect(same(unpackColumn(p, values.length)!, values)).toBe(true);
  });

  it('send a step column as a sequence and a constant as one run, and rebuild them', () => {
    const steps = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(packColumn(steps)).toEqual({ seq: [1, 1] });
    expect(unpackColumn({ seq: [1, 1] }, 1000)).toEqual(steps);
    const lr = [...new Array(600).fill(0.1), ...new Array(400).fill(0.01)];
    const p = overJson(packColumn(lr));
    expect('runs' in p).toBe(true);
    expect(unpackColumn(p, 1000)).toEqual(lr);
    // A column that changes every row stays float64; a NaN run is a run like any other.
    expect('f64' in packColumn(Array.from({ length: 100 }, (_, i) => Math.sin(i)))).toBe(true);
    const nans = new Array(100).fill(NaN);
    expect(same(unpackColumn(overJson(packColumn(nans)), 100)!, nans)).toBe(true);
  });

  it('refuse a column whose length does not match', () => {
    const p = packColumn([1, 2, 3.5]);
    expect(unpackColumn(p, 4)).toBeNull();
    expect(unpackColumn({ seq: [1, 1] }, 3)).toEqual([1, 2, 3]);
    expect(unpackColumn(packColumn([...new Array(20).fill(2), ...new Array(20).fill(3)]), 39)).toBeNull();
  });
});

describe('packed series', () => {
  it('a recorded run unpacks to the same series, and a wrong length is a schema error', () => {
    for (const name of ['nan-loss', 'fit-cnn-with-decay', 'deep-residual']) {
      const series = replayStream(name).series[0];
      const r = packedSeries.safeParse(overJson(packSeries(series)));
      expect(r.success).toBe(true);
      if (!r.success) continue;
      for (const k of ['step', 'totalLoss', 'dataLoss', 'regularizationLoss', 'learningRate', 'wallMs'] as const) expect(same(r.data[k], series[k])).toBe(true);
      for (const [id, col] of Object.entries(series.weightNorms)) expect(same(r.data.weightNorms[id], col)).toBe(true);
      for (const [id, col] of Object.entries(series.terms)) expect(same(r.data.terms[id], col)).toBe(true);
      expect(r.data.termInLossSteps).toEqual(series.termInLossSteps);
    }
    const broken = overJson(packSeries(replayStream('nan-loss').series[0]));
    broken.length += 1;
    const r = packedSeries.safeParse(broken);
    expect(r.success).toBe(false);
  });
});
