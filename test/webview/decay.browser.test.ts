import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS, auditContrast, loadStream, openHarness, panelFrame, resetPanel, waitForGraph, type HarnessSession } from './helpers/browser';
import { readStream, replayStream } from './helpers/streams';

/** Issue 11 in the panel: the Decay per step section, and a run overlaid with its decoupled what-if. */
type Points = { raw: { x: Float64Array; y: Float64Array; length: number } };
type Lens = {
  lossLens: {
    curves: {
      decayChart: { lastPoints: Map<string, Points> };
      normChart: { lastPoints: Map<string, Points> };
      lossChart: { lastPoints: Map<string, Points> };
    };
  };
};
type Harness = { harness: { loadEvents(e: unknown[], n: string, o: object): void; parseStream(t: string): unknown[] } };

const STREAM = 'adam-l2-decay';
const DECOUPLED = 'adam-l2-decay.decoupled';

/** Each legend entry of a section: its text, and its line's colour and stroke classes. */
function legendOf(s: HarnessSession, section: string) {
  return panelFrame(s.page).evaluate((id) => {
    const box = document.querySelector(`.ll-section-${id}`) as HTMLElement;
    return {
      hidden: box.hidden,
      title: box.querySelector('.ll-chart-title')?.textContent,
      entries: [...box.querySelectorAll('.ll-legend-toggle')].map((b) => ({
        text: b.querySelector('.ll-legend-text')?.textContent ?? '',
        classes: [...b.classList].filter((c) => c !== 'll-legend-toggle'),
      })),
      notes: [...box.querySelectorAll('.ll-legend-note')].map((n) => n.textContent),
      rules: [...box.querySelectorAll('g.ll-rule text')].map((t) => t.textContent),
      yTicks: [...box.querySelectorAll('.ll-axis-y .tick text')].map((t) => t.textContent),
      dashed: [...box.querySelectorAll('path.ll-line.raw.dashed')].length,
      solid: [...box.querySelectorAll('path.ll-line.raw:not(.dashed)')].length,
    };
  }, section);
}

describe('Decay per step, and Compare with Decoupled Weight Decay', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    s = await openHarness();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('draws each layer’s measured decay per step on a log scale, with 2·lr·l2 as the reference line', async () => {
    await resetPanel(s);
    await loadStream(s, STREAM);
    const legend = await legendOf(s, 'decay');
    expect(legend.hidden).toBe(false);
    expect(legend.title).toBe('Decay per step');
    expect(legend.entries.map((e) => e.text)).toEqual(['dense_Dense1', 'dense_Dense2', 'dense_Dense3']);
    // 2·lr·l2 with Adam's lr 1e-3 and L2 1e-3.
    expect(legend.rules).toEqual(['2·lr·l2 = 2e-6']);
    expect(legend.notes).toContain('dotted: what plain SGD with the same L2 removes (2·lr·l2)');
    // Log scale: ticks are powers of ten (or their 2×, 5×), not an even linear spread.
    expect(legend.yTicks.length).toBeGreaterThan(0);
    // The drawn points are the stream's own values, step for step.
    const state = replayStream(STREAM);
    const values = state.series[0].decay.values['dense_Dense2/kernel'];
    const drawn = await panelFrame(s.page).evaluate(() => {
      const p = (window as unknown as Lens).lossLens.curves.decayChart.lastPoints.get('decay:dense_Dense2/kernel')!.raw;
      return { x: Array.from(p.x.slice(0, p.length)), y: Array.from(p.y.slice(0, p.length)) };
    });
    expect(drawn.x).toEqual(state.series[0].decay.step);
    expect(drawn.y).toEqual(values);
  });

  it('a user AdamW (issue 20): each layer\'s decay curve, and the notes name the decoupled decay, who applies it and its timescale', async () => {
    await resetPanel(s);
    await loadStream(s, 'user-adamw');
    const legend = await legendOf(s, 'decay');
    expect(legend.hidden).toBe(false);
    // Layers with several decayed weights get a curve per weight.
    expect(legend.entries.map((e) => e.text)).toEqual([
      'dense_Dense1 kernel',
      'dense_Dense1 bias',
      'layer_normalization_LayerNormalization1 gamma',
      'layer_normalization_LayerNormalization1 beta',
      'dense_Dense2 kernel',
      'dense_Dense2 bias',
    ]);
    // No penalty: no 2·lr·l2 reference line, and no note about one.
    expect(legend.rules).toEqual([]);
    expect(legend.notes).not.toContain('dotted: what plain SGD with the same L2 removes (2·lr·l2)');
    expect(legend.notes).toContain('decoupled 1e-4/step (AdamW) on 6 weights · τ ≈ 1e4 steps (2500 epochs)');
    expect(s.pageErrors).toEqual([]);
  });

  it('a run without any decay has no such section', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty');
    // Recorded before issue 11: no decay events, so nothing to draw there.
    expect((await legendOf(s, 'decay')).hidden).toBe(true);
  });

  it('overlays the decoupled run: data loss, weight norms and decay in pairs, same colour, decoupled dashed, both named', async () => {
    await resetPanel(s);
    await s.page.evaluate(
      ([n, c]) => (window as unknown as { harness: { loadStream(n: string, o: object): Promise<void> } }).harness.loadStream(n, { speed: 0, compare: c }),
      [STREAM, DECOUPLED] as const,
    );
    await waitForGraph(s);
    await panelFrame(s.page).waitForFunction(() => document.querySelectorAll('.ll-section-decay .ll-legend-toggle').length === 6);

    const loss = await legendOf(s, 'loss');
    expect(loss.entries.map((e) => e.text)).toEqual(['data loss · as written', 'data loss · decoupled']);
    expect(loss.entries[0].classes).toEqual(['c-data']);
    expect(loss.entries[1].classes).toEqual(['c-data', 'dashed']);
    expect(loss.notes).toContain('solid: the script as written · dashed: decoupled weight decay (what-if)');
    expect([loss.solid, loss.dashed]).toEqual([1, 1]);

    const norms = await legendOf(s, 'norms');
    const pairs = (entries: Array<{ text: string; classes: string[] }>) => {
      const out: Array<[string, string, boolean]> = [];
      for (let i = 0; i < entries.length; i += 2) out.push([entries[i].text, entries[i + 1].text, entries[i].classes[0] === entries[i + 1].classes[0] && entries[i + 1].classes.includes('dashed')]);
      return out;
    };
    expect(pairs(norms.entries)).toEqual([
      ['dense_Dense1 · as written', 'dense_Dense1 · decoupled', true],
      ['dense_Dense2 · as written', 'dense_Dense2 · decoupled', true],
      ['dense_Dense3 · as written', 'dense_Dense3 · decoupled', true],
    ]);
    const decay = await legendOf(s, 'decay');
    expect(pairs(decay.entries)).toEqual([
      ['dense_Dense1 · as written', 'dense_Dense1 · decoupled', true],
      ['dense_Dense2 · as written', 'dense_Dense2 · decoupled', true],
      ['dense_Dense3 · as written', 'dense_Dense3 · decoupled', true],
    ]);
    expect([decay.solid, decay.dashed]).toEqual([3, 3]);

    // Both runs are drawn from their own data: the decoupled decay is flat at 2e-6, the one as written is not.
    const drawn = await panelFrame(s.page).evaluate(() => {
      const c = (window as unknown as Lens).lossLens.curves;
      const ys = (m: Map<string, Points>, id: string) => Array.from(m.get(id)!.raw.y.slice(0, m.get(id)!.raw.length));
      return {
        decoupled: ys(c.decayChart.lastPoints, 'decoupled:decay:dense_Dense1/kernel'),
        asWritten: ys(c.decayChart.lastPoints, 'decay:dense_Dense1/kernel'),
        loss: ys(c.lossChart.lastPoints, 'decoupled:dataLoss'),
        norm: ys(c.normChart.lastPoints, 'decoupled:norm:dense_Dense1').length,
      };
    });
    const decoupled = replayStream(DECOUPLED);
    expect(drawn.decoupled).toEqual(decoupled.series[0].decay.values['dense_Dense1/kernel']);
    for (const v of drawn.decoupled) expect(v).toBeCloseTo(2e-6, 15);
    expect(Math.min(...drawn.asWritten)).toBeGreaterThan(10 * 2e-6);
    expect(drawn.loss).toEqual(decoupled.series[0].dataLoss);
    expect(drawn.norm).toBeGreaterThan(1);
    // Seeded: both runs start from the same data loss, so no warning that the comparison is noisy.
    expect(await panelFrame(s.page).$$eval('.ll-notice-compare', (n) => n.map((x) => x.textContent))).toEqual([]);

    for (const theme of ['light', 'dark'] as const) {
      await s.page.evaluate((t) => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme(t), theme);
      await panelFrame(s.page).evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const box = await panelFrame(s.page).$('.ll-section-decay');
      await box!.scrollIntoViewIfNeeded();
      await box!.screenshot({ path: path.join(RESULTS, `decay-section-compare.${theme}.png`) });
      const issues = await panelFrame(s.page).evaluate(auditContrast);
      expect(issues.filter((i) => i.where.includes('legend') || i.where.includes('rule')), JSON.stringify(issues)).toEqual([]);
    }
  });

  it('says the comparison is noisy when the two runs start from different data losses (an unseeded script)', async () => {
    await resetPanel(s);
    const events = readStream(STREAM);
    // The decoupled run of an unseeded script: other initial weights, so another first data loss.
    const other = readStream(DECOUPLED).map((e) => (e.type === 'step' && e.record.step === 1 ? { ...e, record: { ...e.record, dataLoss: e.record.dataLoss * 1.1, totalLoss: e.record.totalLoss * 1.1 } } : e));
    await s.page.evaluate(([a, b, n]) => (window as unknown as Harness).harness.loadEvents(a as unknown[], n as string, { speed: 0, compareEvents: b }), [events, other, STREAM] as const);
    await waitForGraph(s);
    const notices = await panelFrame(s.page).$$eval('.ll-notice-compare', (n) => n.map((x) => x.textContent));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^The two runs start from different data losses \(1\.42927 as written, 1\.5722 decoupled\): the script is not seeded/);
    await (await panelFrame(s.page).$('.ll-notices'))!.screenshot({ path: path.join(RESULTS, 'decay-compare-noisy.dark.png') });
  });

  it('the single run, light and dark: the section as a user sees it', async () => {
    await resetPanel(s);
    await loadStream(s, STREAM);
    for (const theme of ['light', 'dark'] as const) {
      await s.page.evaluate((t) => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme(t), theme);
      await panelFrame(s.page).evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const box = await panelFrame(s.page).$('.ll-section-decay');
      await box!.scrollIntoViewIfNeeded();
      await box!.screenshot({ path: path.join(RESULTS, `decay-section.${theme}.png`) });
    }
    expect(s.cspViolations).toEqual([]);
    expect(s.pageErrors).toEqual([]);
  });
});
