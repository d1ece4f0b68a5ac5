import { describe, expect, it } from 'vitest';
import { effectiveDecayOf } from '../../src/shared/analysis/effective-decay';
import { collectTerms, weightViews } from '../../src/shared/analysis/terms';
import { formatNumber } from '../../src/shared/format';
import { compareSummary } from '../../src/webview/header/compare-summary';
import { replayStream } from './helpers/streams';

/** The comparison's own line (issue 21): decoupled and as-written decay per layer, and the data loss at the last step. */
describe('compareSummary', () => {
  const asWritten = replayStream('adam-l2-decay');
  const decoupled = replayStream('adam-l2-decay.decoupled');

  it('names each decayed layer with its decay per step in both runs, from the recorded runs', () => {
    const s = compareSummary(asWritten, decoupled);
    const medianOf = (state: typeof asWritten, weight: string) => {
      const v = weightViews(state, collectTerms(state)).find((w) => w.info.id === weight)!;
      return formatNumber(effectiveDecayOf(state, v)!.median, 2);
    };
    const was = ['dense_Dense1', 'dense_Dense2', 'dense_Dense3'].map((l) => medianOf(asWritten, `${l}/kernel`));
    // lr·2·l2 = 1e-3·2·1e-3 for every weight alike, so one number for all three.
    expect(s.decay).toBe(`Decoupled: dense_Dense1, dense_Dense2 and dense_Dense3 each 2e-6/step (as written: ${was[0]}, ${was[1]} and ${was[2]})`);
    const a = asWritten.series[0];
    const b = decoupled.series[0];
    expect(a.step.at(-1)).toBe(40);
    const diff = b.dataLoss[39] - a.dataLoss[39];
    expect(s.dataLoss).toBe(
      `Data loss at step 40: ${formatNumber(b.dataLoss[39])} decoupled, ${formatNumber(a.dataLoss[39])} as written (${diff < 0 ? '−' : '+'}${formatNumber(Math.abs(diff), 3)})`,
    );
  });

  it('says nothing it cannot back: no decay measured, no steps', () => {
    const none = replayStream('custom-loop-drops-penalty');
    expect(compareSummary(none, none)).toEqual({ decay: null, dataLoss: 'Data loss at step 12: ' + `${formatNumber(none.series[0].dataLoss[11])} decoupled, ${formatNumber(none.series[0].dataLoss[11])} as written (±0)` });
  });
});
