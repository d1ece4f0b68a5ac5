import { describe, expect, it } from 'vitest';
import { comparisonNotices, decayReferenceLines } from '../../src/shared/analysis/compare';
import { applyRunnerEvent, emptyRunState } from '../../src/shared/model/run-state';
import { WebviewFeed } from '../../src/host/panel/webview-feed';
import { hostToWebview, parseHostToWebview, type EncodedMessage } from '../../src/shared/panel/webview-protocol';
import { packSeries, packedSeries } from '../../src/shared/panel/packed-series';
import { readStream, stateFrom } from '../helpers/events';

const asWritten = () => stateFrom(readStream('adam-l2-decay'));
const decoupled = () => stateFrom(readStream('adam-l2-decay.decoupled'));

describe('a run and its decoupled what-if', () => {
  it('the recorded what-if says decoupled, minimizes the data loss alone and decays each kernel by exactly lr·2·l2', () => {
    const d = decoupled();
    expect(d.weightDecay).toBe('decoupled');
    expect(asWritten().weightDecay).toBe('as-written');
    expect(d.series[0].regularizationLoss.every((x) => x === 0)).toBe(true);
    for (const column of Object.values(d.series[0].decay.values)) for (const v of column) expect(v).toBeCloseTo(2 * 1e-3 * 1e-3, 15);
  });

  it('no notice for a seeded script; a notice, with both values, when the first data losses differ', () => {
    expect(comparisonNotices(asWritten(), decoupled())).toEqual([]);
    const other = decoupled();
    other.series[0].dataLoss[0] *= 1.01;
    const [notice, ...rest] = comparisonNotices(asWritten(), other);
    expect(rest).toEqual([]);
    expect(notice).toMatch(/^The two runs start from different data losses \(1\.42927 as written, 1\.44356 decoupled\): the script is not seeded/);
  });

  it('says when there was nothing to decouple (no L2 penalty reached the loss)', () => {
    const dropped = stateFrom(readStream('custom-loop-drops-penalty'));
    dropped.status = 'step-limit';
    expect(comparisonNotices(dropped, dropped)).toEqual([
      'No L2 penalty reached the minimized loss as written, so the decoupled run had nothing to decouple: the two runs train alike.',
    ]);
  });

  it('the reference line: 2·lr·l2 for every decayed kernel, one line when they share it', () => {
    expect(decayReferenceLines(asWritten())).toEqual([{ value: 2 * 1e-3 * 1e-3, weights: ['dense_Dense1/kernel', 'dense_Dense2/kernel', 'dense_Dense3/kernel'] }]);
  });

  it('a hydrate carries both runs, packed, decay columns included; appends say which run they belong to', async () => {
    const a = asWritten();
    const b = decoupled();
    const packed = JSON.parse(JSON.stringify(packSeries(b.series[0])));
    expect(packed.decay.length).toBe(b.series[0].decay.step.length);
    expect(packedSeries.parse(packed).decay).toEqual(b.series[0].decay);
    const sent: EncodedMessage[] = [];
    const feed = new WebviewFeed('/ws/train.ts', { run: () => ({ state: a, findings: [] }), compare: () => b }, (m) => sent.push(m));
    await feed.onReady();
    const events = readStream('adam-l2-decay.decoupled');
    await feed.events(events.slice(0, 5), 'compare');
    expect(sent.map((m) => m.type)).toEqual(['hydrate', 'append']);
    for (const m of sent) expect(hostToWebview.safeParse(m).success).toBe(true);
    const hydrate = parseHostToWebview(sent[0]);
    if (!hydrate.ok || hydrate.value.type !== 'hydrate') throw new Error('no hydrate');
    expect(hydrate.value.compare?.weightDecay).toBe('decoupled');
    expect(hydrate.value.compare?.series[0].decay).toEqual(b.series[0].decay);
    const append = parseHostToWebview(sent[1]);
    expect(append.ok && append.value.type === 'append' && append.value.target).toBe('compare');
    // A hydrate recorded before comparisons has none, and an append without a target is the run's own.
    const old = parseHostToWebview({ ...sent[0], compare: undefined });
    expect(old.ok && old.value.type === 'hydrate' && old.value.compare).toBeNull();
    const plain = parseHostToWebview({ type: 'append', events: [] });
    expect(plain.ok && plain.value.type === 'append' && plain.value.target).toBe('run');
    const state = emptyRunState('/ws/x.ts');
    for (const e of events) applyRunnerEvent(state, e);
    expect(state.series[0].decay.step.length).toBeGreaterThan(0);
  });
});
