import * as path from 'node:path';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThemeName } from './harness/themes';
import { RESULTS, auditContrast, loadStream, openHarness, panelFrame, resetPanel, waitForGraph, waitForMessages, type HarnessSession } from './helpers/browser';
import { readStream, replayStream } from './helpers/streams';

/**
 * Issue 21, the charts: whole steps on the step axis, weight-norm lines that keep going when sampling thins out,
 * dropped decay drawn in a zero band with the SGD reference in range, coinciding lines told apart, and the
 * comparison's own line at the top of the panel. Screenshots at 760 and 1400 px in three themes.
 */
type Harness = { harness: { loadEvents(e: unknown[], n: string, o: object): void; setTheme(t: string): void } };
const WIDTHS = [760, 1400];
const THEMES: ThemeName[] = ['light', 'dark', 'hc-dark'];

/** The first `steps` optimizer steps of a recorded run, ended at the step limit. */
function shortRun(name: string, steps: number) {
  const events = readStream(name);
  const out: unknown[] = [];
  let seen = 0;
  for (const e of events) {
    if (e.type === 'step' && ++seen > steps) break;
    if (e.type === 'decay' && e.record.step > steps) break;
    out.push(e);
  }
  out.push({ type: 'end', reason: 'step-limit', exitCode: 0, exitSource: null });
  return out;
}

async function loadEvents(s: HarnessSession, events: unknown[], name: string): Promise<void> {
  const before = await panelFrame(s.page).evaluate(() => ({ ...(window as unknown as { lossLens: { stats: { hydrates: number; appends: number } } }).lossLens.stats }));
  await s.page.evaluate(([e, n]) => (window as unknown as Harness).harness.loadEvents(e as unknown[], n as string, { speed: 0 }), [events, name] as const);
  await waitForMessages(s, before, 1);
  await waitForGraph(s);
}

async function setTheme(s: HarnessSession, theme: ThemeName): Promise<void> {
  await s.page.evaluate((t) => (window as unknown as Harness).harness.setTheme(t), theme);
  await panelFrame(s.page).evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** What a section's chart shows: axis labels, the zero band, reference lines, markers and notes. */
function chartOf(s: HarnessSession, section: string) {
  return panelFrame(s.page).evaluate((id) => {
    const box = document.querySelector(`.ll-section-${id}`) as HTMLElement;
    const plotH = Number(box.querySelector('.ll-overlay')?.getAttribute('height'));
    const ty = (e: Element | null) => Number(/translate\([^,]+,([^)]+)\)/.exec(e?.getAttribute('transform') ?? '')?.[1] ?? NaN);
    return {
      plotH,
      xTicks: [...box.querySelectorAll('.ll-axis-x .tick text')].map((t) => t.textContent ?? ''),
      yTicks: [...box.querySelectorAll('.ll-axis-y .tick')].map((t) => ({ text: t.querySelector('text')?.textContent ?? '', y: ty(t) })),
      zeroBand: box.querySelector('.ll-zero-band') !== null,
      zeroNote: box.querySelector('.ll-zero-note')?.textContent ?? null,
      zeroLines: [...box.querySelectorAll('path.ll-line.zero')].map((p) => ({ curve: p.getAttribute('data-curve'), d: p.getAttribute('d') ?? '' })),
      rules: [...box.querySelectorAll('g.ll-rule')].map((g) => ({ text: g.querySelector('text')?.textContent ?? '', y: ty(g) })),
      markers: [...box.querySelectorAll('g.ll-marker-set')].map((g) => ({
        curve: g.getAttribute('data-curve') ?? '',
        colour: getComputedStyle(g).color,
        xs: [...g.querySelectorAll('path.ll-marker')].map((m) => Math.round(Number(/translate\(([^,]+),/.exec(m.getAttribute('transform') ?? '')?.[1]))),
      })),
      glyphs: [...box.querySelectorAll('.ll-legend-toggle')].map((b) => [b.querySelector('.ll-legend-text')?.textContent, b.querySelector('.ll-legend-marker')?.textContent ?? null]),
      notes: [...box.querySelectorAll('.ll-legend-note')].map((n) => n.textContent ?? ''),
      smooth: [...box.querySelectorAll('path.ll-line.smooth')].map((p) => p.getAttribute('d') ?? ''),
      raw: [...box.querySelectorAll('path.ll-line.raw')].map((p) => p.getAttribute('d') ?? ''),
    };
  }, section);
}

const lastX = (d: string) => Math.max(...[...d.matchAll(/[ML]([\d.-]+),/g)].map((m) => Number(m[1])));

describe('the charts (issue 21)', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    s = await openHarness();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('prints whole steps on the step axis, each once, on runs of 1, 2, 3 and 12 steps', async () => {
    for (const steps of [1, 2, 3, 12]) {
      await resetPanel(s);
      await loadEvents(s, shortRun('custom-loop-drops-penalty', steps), 'custom-loop-drops-penalty');
      for (const section of ['loss', 'norms']) {
        const { xTicks } = await chartOf(s, section);
        expect(xTicks.length, `${steps} steps, ${section}`).toBeGreaterThan(0);
        expect(new Set(xTicks).size, `${steps} steps: ${xTicks.join(' ')}`).toBe(xTicks.length);
        for (const t of xTicks) expect(Number(t), t).toSatisfy((n: number) => Number.isInteger(n) && n >= 1 && n <= steps);
      }
    }
  });

  it('draws each weight norm as one line to the last sample, as its faint raw line goes', async () => {
    await resetPanel(s);
    await loadStream(s, 'adam-l2-decay');
    const state = replayStream('adam-l2-decay');
    // The recorded run samples the norms less often after its first steps: rows without a value in between.
    const norms = state.series[0].weightNorms['dense_Dense1/kernel'];
    expect(norms.filter((v) => v === null).length).toBeGreaterThan(0);
    const chart = await chartOf(s, 'norms');
    expect(chart.smooth.length).toBe(3);
    chart.smooth.forEach((d, i) => {
      // One M: the smoothed path never restarts.
      expect(d.match(/M/g)?.length, d.slice(0, 80)).toBe(1);
      expect(lastX(d)).toBeCloseTo(lastX(chart.raw[i]), 0);
    });
  });

  it('draws a dropped decay in a labelled zero band, with the SGD reference in range', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty.decay');
    const state = replayStream('custom-loop-drops-penalty.decay');
    const decay = state.series[0].decay.values;
    expect(Object.values(decay).every((col) => col.every((v) => v === 0))).toBe(true);
    const chart = await chartOf(s, 'decay');
    expect(chart.zeroBand).toBe(true);
    expect(chart.zeroNote).toBe('0: never reaches the loss');
    expect(chart.zeroLines.map((z) => z.curve).sort()).toEqual(Object.keys(decay).map((w) => `decay:${w}:zero`).sort());
    for (const z of chart.zeroLines) expect(z.d).toMatch(/^M[\d.]+,[\d.]+H[\d.]+$/);
    // The reference (2·lr·l2 = 2·0.1·1e-3) is on the chart, above the band, with ticks around it.
    expect(chart.rules).toHaveLength(1);
    expect(chart.rules[0].text).toBe('2·lr·l2 = 2e-4');
    expect(chart.rules[0].y).toBeGreaterThan(0);
    expect(chart.rules[0].y).toBeLessThan(chart.plotH - 20);
    expect(chart.yTicks.some((t) => Number(t.text) <= 2e-4)).toBe(true);
    expect(chart.yTicks.some((t) => Number(t.text) >= 2e-4)).toBe(true);
    // Three zero lines on one another: each its own marker, named in the legend.
    expect(chart.markers).toHaveLength(3);
    expect(chart.glyphs.map((g) => g[1])).toEqual(['●', '■', '▲']);
    expect(chart.notes).toContain('dense_Dense1, dense_Dense2 and dense_Dense3 lie on one another: told apart by their markers ● ■ ▲');
    for (const width of WIDTHS)
      for (const theme of THEMES) {
        await s.page.setViewportSize({ width, height: 3400 });
        await setTheme(s, theme);
        await panelFrame(s.page).evaluate(() => window.scrollTo(0, 0));
        await (await s.page.$('iframe'))!.screenshot({ path: path.join(RESULTS, `decay-dropped.${theme}.${width}.png`) });
        await (await panelFrame(s.page).$('.ll-section-decay'))!.screenshot({ path: path.join(RESULTS, `decay-dropped-chart.${theme}.${width}.png`) });
        const issues = await panelFrame(s.page).evaluate(auditContrast);
        expect(issues.filter((i) => /zero|rule|legend|axis|tick/.test(i.where) || i.text.startsWith('0')), JSON.stringify(issues)).toEqual([]);
      }
    await s.page.setViewportSize({ width: 1400, height: 1100 });
    await setTheme(s, 'light');
  });

  it('keeps step 1’s start-up values from setting the decay range', async () => {
    await resetPanel(s);
    await loadStream(s, 'adam-l2-decay');
    const state = replayStream('adam-l2-decay');
    const step1 = Math.min(...Object.values(state.series[0].decay.values).map((col) => col[0] ?? Infinity));
    const later = Math.min(...Object.values(state.series[0].decay.values).flatMap((col) => col.slice(1).filter((v): v is number => v !== null && v > 0)));
    const chart = await chartOf(s, 'decay');
    const lowest = Math.min(...chart.yTicks.map((t) => Number(t.text)));
    expect(step1).toBeLessThan(lowest / 10);
    expect(lowest).toBeLessThanOrEqual(Math.min(later, 2e-6));
    expect(chart.rules.map((r) => r.text)).toEqual(['2·lr·l2 = 2e-6']);
    expect(chart.rules[0].y).toBeGreaterThan(0);
    expect(chart.rules[0].y).toBeLessThanOrEqual(chart.plotH);
    // Log ticks do not crowd: at least 20 px apart.
    const ys = chart.yTicks.map((t) => t.y).sort((a, b) => a - b);
    for (let i = 1; i < ys.length; i++) expect(ys[i] - ys[i - 1]).toBeGreaterThanOrEqual(20);
  });

  it('Compare: its own line at the top, and the decoupled lines on the SGD reference told apart by markers', async () => {
    await resetPanel(s);
    await s.page.evaluate(() =>
      (window as unknown as { harness: { loadStream(n: string, o: object): Promise<void> } }).harness.loadStream('adam-l2-decay', { speed: 0, compare: 'adam-l2-decay.decoupled' }),
    );
    await waitForGraph(s);
    const f = panelFrame(s.page);
    await f.waitForFunction(() => document.querySelectorAll('.ll-section-decay .ll-legend-toggle').length === 6);
    await f.waitForFunction(() => !(document.querySelector('.ll-compare-summary') as HTMLElement).hidden);
    const top = await f.evaluate(() => {
      const line = document.querySelector('.ll-compare-summary') as HTMLElement;
      const header = document.querySelector('.ll-header') as HTMLElement;
      const verdict = document.querySelector('.ll-verdict') as HTMLElement;
      return {
        parts: [...line.querySelectorAll('.ll-compare-part')].map((p) => p.textContent),
        belowHeader: line.getBoundingClientRect().top >= header.getBoundingClientRect().bottom,
        aboveVerdict: line.getBoundingClientRect().bottom <= verdict.getBoundingClientRect().top,
      };
    });
    expect(top.parts[0]).toMatch(/^Decoupled: dense_Dense1, dense_Dense2 and dense_Dense3 each 2e-6\/step \(as written: [\d.e-]+, [\d.e-]+ and [\d.e-]+\)$/);
    expect(top.parts[1]).toMatch(/^Data loss at step 40: [\d.]+ decoupled, [\d.]+ as written \([−+][\d.e-]+\)$/);
    expect(top.belowHeader && top.aboveVerdict).toBe(true);

    const chart = await chartOf(s, 'decay');
    const decoupled = ['dense_Dense1', 'dense_Dense2', 'dense_Dense3'].map((l) => `decoupled:decay:${l}/kernel`);
    expect(chart.markers.map((m) => m.curve)).toEqual(decoupled);
    // Each line its own colour and turn: no two markers at one place, every colour shows.
    expect(new Set(chart.markers.map((m) => m.colour)).size).toBe(3);
    const xs = chart.markers.flatMap((m) => m.xs);
    expect(new Set(xs).size).toBe(xs.length);
    for (const m of chart.markers) expect(m.xs.length).toBeGreaterThan(3);
    expect(chart.glyphs.filter((g) => g[1] !== null)).toEqual([
      ['dense_Dense1 · decoupled', '●'],
      ['dense_Dense2 · decoupled', '■'],
      ['dense_Dense3 · decoupled', '▲'],
    ]);
    expect(chart.notes).toContain(
      'dense_Dense1, dense_Dense2 and dense_Dense3 (decoupled) lie on one another and on the dotted reference 2·lr·l2 = 2e-6: told apart by their markers ● ■ ▲',
    );
    for (const width of WIDTHS)
      for (const theme of THEMES) {
        // Tall enough for the whole panel: one picture from the header to the last chart.
        await s.page.setViewportSize({ width, height: 3400 });
        await setTheme(s, theme);
        await f.evaluate(() => window.scrollTo(0, 0));
        await (await s.page.$('iframe'))!.screenshot({ path: path.join(RESULTS, `compare.${theme}.${width}.png`) });
        await (await f.$('.ll-curves'))!.screenshot({ path: path.join(RESULTS, `compare-curves.${theme}.${width}.png`) });
        expect(await f.evaluate(auditContrast)).toEqual([]);
      }
    await s.page.setViewportSize({ width: 1400, height: 1100 });
    await setTheme(s, 'light');
    expect(s.cspViolations).toEqual([]);
    expect(s.pageErrors).toEqual([]);
  });
});
