import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../src/shared/analysis/rules';
import { verdictOf } from '../../src/shared/analysis/verdict';
import { READABLE_SCALE } from '../../src/webview/graph/viewport-math';
import { loadStream, openHarness, panelFrame, resetPanel, waitForGraph, type HarnessSession } from './helpers/browser';
import { readStream, replayStream } from './helpers/streams';

/** Issue 13: the panel read at a glance. */
type Harness = {
  harness: {
    loadEvents(e: unknown[], n: string, o: object): void;
    received: Array<{ type: string }>;
    setSpeed(n: number): void;
    done: boolean;
  };
};

const phaseText = (s: HarnessSession) => panelFrame(s.page).evaluate(() => document.querySelector('.ll-phase-text')?.textContent ?? '');
const frame2 = (s: HarnessSession) => panelFrame(s.page).evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

describe('the panel at a glance', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    s = await openHarness();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('says where the run is: checking the script and loading tfjs, waiting for the first step, training, ended', async () => {
    await resetPanel(s);
    const events = readStream('custom-loop-drops-penalty');
    const backendAt = events.findIndex((e) => e.type === 'backend') + 1;
    const firstStep = events.findIndex((e) => e.type === 'step') + 1;
    const load = async (upTo: number) => {
      await s.page.evaluate(([ev, n]) => (window as unknown as Harness).harness.loadEvents(ev as unknown[], 'custom-loop-drops-penalty', { speed: 0.001, upTo: n }), [events, upTo] as const);
      await panelFrame(s.page).waitForFunction(() => document.querySelector('.ll-root')?.getAttribute('aria-busy') === 'false');
      await frame2(s);
      return { phase: await phaseText(s), action: await panelFrame(s.page).textContent('.ll-run-action') };
    };
    expect(await load(0)).toEqual({ phase: 'Checking the script and loading tfjs…', action: 'Cancel' });
    expect(await load(backendAt)).toEqual({ phase: 'tfjs 4.22.0 on wasm · waiting for the first optimizer step…', action: 'Cancel' });
    expect(await load(firstStep)).toEqual({ phase: 'Training', action: 'Cancel' });
    const steps = events.filter((e) => e.type === 'step').length;
    expect(await load(events.length)).toEqual({ phase: `Stopped at the step limit · ${steps} steps`, action: 'Re-run' });
    // The verdict is the same sentence the shared function gives.
    const state = replayStream('custom-loop-drops-penalty');
    expect(await panelFrame(s.page).textContent('.ll-verdict-headline')).toBe(verdictOf(state, analyzeRun(state)).headline);
  });

  it('Cancel stops the run, Re-run starts it again', async () => {
    await resetPanel(s);
    const events = readStream('custom-loop-drops-penalty');
    await s.page.evaluate((ev) => (window as unknown as Harness).harness.loadEvents(ev as unknown[], 'custom-loop-drops-penalty', { speed: 2, upTo: 6 }), events);
    const f = panelFrame(s.page);
    await f.waitForFunction(() => document.querySelector('.ll-run-action')?.textContent === 'Cancel' && document.querySelector('.ll-root')?.getAttribute('aria-busy') === 'false');
    await f.click('.ll-run-action');
    await f.waitForFunction(() => document.querySelector('.ll-run-action')?.textContent === 'Re-run');
    expect(await phaseText(s)).toMatch(/^Cancelled · \d+ steps?$/);
    await f.click('.ll-run-action');
    await f.waitForFunction(() => document.querySelector('.ll-run-action')?.textContent === 'Cancel');
    const types = await s.page.evaluate(() => (window as unknown as Harness).harness.received.map((m) => m.type));
    expect(types.filter((t) => t === 'stop' || t === 'rerun').slice(-2)).toEqual(['stop', 'rerun']);
    await s.page.evaluate(() => (window as unknown as Harness).harness.setSpeed(0));
  });

  it('never fits the graph below a readable scale, in either direction, and lets the user choose it', async () => {
    await resetPanel(s);
    await loadStream(s, 'deep-residual');
    const f = panelFrame(s.page);
    const scale = () => f.evaluate(() => Number(/scale\(([\d.e-]+)\)/.exec(document.querySelector('g.ll-viewport')!.getAttribute('transform') ?? '')?.[1]));
    // Every layer a node (300 of them): far too big to fit, so it is shown at the readable scale and panned.
    await f.click('.ll-graph .ll-check input');
    await waitForGraph(s);
    expect(await scale()).toBeCloseTo(READABLE_SCALE, 6);
    for (const d of ['LR', 'TB'] as const) {
      await f.selectOption('.ll-graph select', d);
      await f.waitForFunction((want) => document.querySelector('.ll-graph')?.getAttribute('data-direction') === want && document.querySelector('.ll-graph')?.getAttribute('aria-busy') === 'false', d);
      await frame2(s);
      expect(await scale()).toBeGreaterThanOrEqual(READABLE_SCALE - 1e-9);
      await f.click('.ll-graph button[aria-label^="Fit the graph"]');
      await f.waitForTimeout(350);
      expect(await scale()).toBeGreaterThanOrEqual(READABLE_SCALE - 1e-9);
    }
    // Labels are whole wherever the node had room for them.
    const cut = await f.evaluate(() => [...document.querySelectorAll('g.ll-node .ll-node-label')].filter((t) => t.textContent?.endsWith('…')).length);
    expect(cut).toBe(0);
    await f.selectOption('.ll-graph select', 'auto');
    await f.click('.ll-graph .ll-check input');
    await waitForGraph(s);
  });

  it('chooses the direction from the panel: top down beside the editor, left to right in a wide, short one', async () => {
    await resetPanel(s);
    await loadStream(s, 'fit-cnn-with-decay');
    const direction = () => panelFrame(s.page).evaluate(() => document.querySelector('.ll-graph')?.getAttribute('data-direction'));
    const at = async (width: number, height: number) => {
      await s.page.setViewportSize({ width, height });
      await panelFrame(s.page).waitForFunction(() => document.querySelector('.ll-graph')?.getAttribute('aria-busy') === 'false');
      await resetPanel(s);
      await loadStream(s, 'fit-cnn-with-decay');
      return direction();
    };
    expect(await at(760, 1100)).toBe('TB');
    expect(await at(2400, 700)).toBe('LR');
    await s.page.setViewportSize({ width: 1400, height: 1100 });
  });

  it('loss curves: the minimized loss dashed on top, "total = data" when no penalty reaches it, the left-out loss dotted', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty');
    const f = panelFrame(s.page);
    const look = () =>
      f.evaluate(() => {
        const chart = document.querySelector('.ll-section-loss')!;
        const paths = [...chart.querySelectorAll('path.ll-line')];
        const style = (id: string) => {
          const p = chart.querySelector(`path[data-curve="${id}"]`);
          return p ? { dash: getComputedStyle(p).strokeDasharray, width: parseFloat(getComputedStyle(p).strokeWidth) } : null;
        };
        return {
          order: paths.map((p) => p.getAttribute('data-curve')),
          notes: chart.querySelector('.ll-legend-notes')?.textContent ?? '',
          total: style('totalLoss:smooth'),
          data: style('dataLoss:smooth'),
          rawData: style('dataLoss:raw'),
          leftOut: style('withAllPenalties:smooth'),
        };
      });
    const dropped = await look();
    expect(dropped.notes).toContain('total = data (no penalty in the loss)');
    // The minimized loss is the last path drawn among the smoothed lines and among the raw ones: on top.
    expect(dropped.order.filter((id) => id!.endsWith(':smooth')).at(-1)).toBe('totalLoss:smooth');
    expect(dropped.order.filter((id) => id!.endsWith(':raw')).at(-1)).toBe('totalLoss:raw');
    expect(dropped.total!.dash).not.toBe('none');
    expect(dropped.data!.dash).toBe('none');
    expect(dropped.leftOut!.dash).not.toBe('none');
    expect(dropped.leftOut!.dash).not.toBe(dropped.total!.dash);
    // Raw and smoothed: clearly different weights.
    expect(dropped.data!.width / dropped.rawData!.width).toBeGreaterThanOrEqual(2);
    // The left-out curve is the data loss plus what the penalties would have added.
    const state = replayStream('custom-loop-drops-penalty');
    const points = await f.evaluate(() => {
      const c = (window as unknown as { lossLens: { curves: { lossChart: { lastPoints: Map<string, { raw: { y: Float64Array; length: number } }> } } } }).lossLens.curves.lossChart;
      const p = c.lastPoints.get('withAllPenalties')!.raw;
      return Array.from(p.y.subarray(0, p.length));
    });
    const s0 = state.series[0];
    const expected = s0.step.map((_, i) => s0.dataLoss[i] + Object.values(s0.terms).reduce((a, col) => a + (col[i] ?? 0), 0));
    expect(points).toHaveLength(expected.length);
    points.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
    // Every penalty in the loss: no note, no left-out curve.
    await loadStream(s, 'custom-loop-with-penalty');
    const kept = await look();
    expect(kept.notes).toBe('');
    expect(kept.leftOut).toBeNull();
  });

  it('weight norms of 250 layers: the ones that changed most and the decayed ones, a filter, Show all, names on hover', async () => {
    await resetPanel(s);
    await loadStream(s, 'deep-residual');
    const f = panelFrame(s.page);
    const norms = () =>
      f.evaluate(() => ({
        lines: document.querySelectorAll('.ll-section-norms path.ll-line.raw').length,
        legend: document.querySelectorAll('.ll-section-norms .ll-legend-toggle').length,
        count: document.querySelector('.ll-section-norms .ll-section-count')?.textContent ?? '',
      }));
    const total = new Set(replayStream('deep-residual').layers.filter((l) => l.weights.length > 0).map((l) => l.name)).size;
    const first = await norms();
    expect(first.lines).toBe(16);
    expect(first.legend).toBe(16);
    expect(first.count).toBe(`16 of ${total} layers`);
    await f.fill('.ll-norm-filter', 'dense_dense1');
    await frame2(s);
    const filtered = await norms();
    expect(filtered.lines).toBeGreaterThan(0);
    expect(filtered.lines).toBeLessThan(total);
    expect(await f.evaluate(() => [...document.querySelectorAll('.ll-section-norms .ll-legend-text')].every((t) => t.textContent!.toLowerCase().includes('dense_dense1')))).toBe(true);
    await f.fill('.ll-norm-filter', '');
    await f.click('.ll-show-all');
    await frame2(s);
    expect((await norms()).lines).toBe(total);
    await f.click('.ll-show-all');
    await frame2(s);
    // Hovering a line names it.
    const overlay = f.locator('.ll-section-norms rect.ll-overlay');
    const box = (await overlay.boundingBox())!;
    let named = '';
    for (let y = 0.05; y < 1 && !named; y += 0.05) {
      await overlay.hover({ position: { x: box.width * 0.5, y: box.height * y } });
      named = await f.evaluate(() => {
        const l = document.querySelector('.ll-section-norms .ll-line-label');
        return l && l.getAttribute('display') !== 'none' ? l.textContent ?? '' : '';
      });
    }
    expect(named.length).toBeGreaterThan(0);
    const hovered = await f.evaluate(() => document.querySelector('.ll-section-norms path.ll-line.hovered')?.getAttribute('data-curve'));
    expect(hovered).toBe(`norm:${named}:raw`);
  });
});
