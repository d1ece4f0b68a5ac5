import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeRun } from '../../src/shared/analysis/rules';
import type { ThemeName } from './harness/themes';
import { RESULTS, auditContrast, loadStream, openHarness, panelFrame, resetPanel, type HarnessSession } from './helpers/browser';
import { readStream, replayStream } from './helpers/streams';

type Harness = { harness: { loadEvents(e: unknown[], n: string, o: object): void; setTheme(t: string): void; setSpeed(n: number): void } };

/**
 * Issue 21, "say each thing once": the verdict gives a headline and the counts, the Findings list the details; the
 * small text (counts, the step said once, why a run stopped, the Re-run button, the search box, words kept whole,
 * legends shown whole) at 760 and 1400 px.
 */
const WIDTHS = [760, 1400];
const THEMES: ThemeName[] = ['light', 'dark', 'hc-dark'];
const STREAMS = ['custom-loop-drops-penalty', 'adam-l2-decay', 'fit-cnn-with-decay', 'hand-written-l2-dropped'];

/** Words of the panel's text split across two lines (a break inside a word), in the given boxes. */
function brokenWords(selectors: string[]): string[] {
  const out: string[] = [];
  for (const box of selectors.flatMap((s) => [...document.querySelectorAll(s)])) {
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent ?? '';
      const el = n.parentElement;
      if (!el || el.getClientRects().length === 0 || el.closest('details:not([open]) > :not(summary)')) continue;
      // A name wider than its column may break after a slash ("layer/" "gamma"), nowhere else.
      for (const m of text.matchAll(/[^\s/]+\/?/g)) {
        const r = document.createRange();
        r.setStart(n, m.index!);
        r.setEnd(n, m.index! + m[0].length);
        const tops = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
        if (tops.size > 1) out.push(m[0]);
      }
    }
  }
  return out;
}

describe('say each thing once (issue 21)', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    s = await openHarness();
  });
  afterAll(async () => {
    await s?.close();
  });

  for (const stream of STREAMS) {
    it(`${stream}: every finding once, the verdict a headline and the counts`, async () => {
      await resetPanel(s);
      await loadStream(s, stream);
      const findings = analyzeRun(replayStream(stream));
      expect(findings.length).toBeGreaterThan(0);
      const f = panelFrame(s.page);
      const page = await f.evaluate(() => document.body.innerText);
      for (const finding of findings) expect(page.split(finding.message).length - 1, finding.message).toBe(1);
      const verdict = await f.evaluate(() => ({
        headline: document.querySelector('.ll-verdict-headline')?.textContent ?? '',
        counts: document.querySelector('.ll-verdict-counts')?.textContent ?? '',
        text: (document.querySelector('.ll-verdict') as HTMLElement).innerText,
      }));
      const n = (sev: string) => findings.filter((x) => x.severity === sev).length;
      const expected = [
        [n('error'), 'error', 'errors'],
        [n('warning'), 'warning', 'warnings'],
        [n('info'), 'info', 'info'],
      ]
        .filter(([k]) => Number(k) > 0)
        .map(([k, one, many]) => `${k} ${k === 1 ? one : many}`)
        .join(' · ');
      expect(verdict.counts).toBe(`${expected}: see Findings`);
      expect(verdict.text.split('\n').filter((l) => l.trim())).toEqual([verdict.headline, verdict.counts]);
      // The counts lead to the list, its first finding focused.
      await f.click('.ll-verdict-counts');
      expect(await f.evaluate(() => document.activeElement === document.querySelector('.ll-finding-button'))).toBe(true);
    });
  }

  it('says the steps once, and why a run stopped at the step limit (lossLens.steps)', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty');
    const f = panelFrame(s.page);
    const header = () =>
      f.evaluate(() => ({
        text: (document.querySelector('.ll-header') as HTMLElement).innerText,
        badge: !(document.querySelector('.ll-step-indicator') as HTMLElement).hidden,
        why: (document.querySelector('.ll-phase-why') as HTMLElement).hidden ? null : document.querySelector('.ll-phase-why')?.textContent,
      }));
    const ended = await header();
    expect(ended.badge).toBe(false);
    expect(ended.text.match(/12 steps|step 12/g)).toEqual(['12 steps']);
    expect(ended.why).toBe('The script was still training: Loss Lens stops it after 12 optimizer steps, the lossLens.steps setting (Settings › Extensions › Loss Lens).');
    // A run that finished on its own has nothing to explain.
    await loadStream(s, 'hand-written-l2-dropped');
    expect((await header()).why).toBeNull();
    // A model.fit run says how far it got of what the call planned (epochs × batches): 12 of 4 × 10.
    const events = readStream('fit-cnn-with-decay');
    const at = events.findIndex((e) => e.type === 'layers') + 1;
    const plan = { type: 'training-plan', plan: { method: 'fit', epochs: 4, stepsPerEpoch: 10, weights: [], source: null } };
    await s.page.evaluate(([ev]) => (window as unknown as Harness).harness.loadEvents(ev as unknown[], 'fit-cnn-with-decay', { speed: 0 }), [[...events.slice(0, at), plan, ...events.slice(at)]] as const);
    await f.waitForFunction(() => document.querySelector('.ll-phase-why')?.textContent?.includes('planned'));
    const fit = await header();
    expect(fit.why).toBe('The script was still training: Loss Lens stopped it after 12 of the 40 optimizer steps it planned (model.fit: 4 epochs × 10 batches), at the lossLens.steps limit (Settings › Extensions › Loss Lens).');
    expect(fit.text.match(/12 steps|step 12/g)).toEqual(['12 steps']);
  });

  it('the step badge while a run streams: one step count, readable in every theme', async () => {
    await resetPanel(s);
    const events = readStream('custom-loop-drops-penalty');
    const upTo = events.findIndex((e) => e.type === 'step') + 3;
    await s.page.evaluate(([ev, n]) => (window as unknown as Harness).harness.loadEvents(ev as unknown[], 'custom-loop-drops-penalty', { speed: 0.001, upTo: n }), [events, upTo] as const);
    const f = panelFrame(s.page);
    await f.waitForFunction(() => !(document.querySelector('.ll-step-indicator') as HTMLElement).hidden && document.querySelectorAll('g.ll-node').length > 0);
    for (const theme of THEMES) {
      await s.page.evaluate((t) => (window as unknown as Harness).harness.setTheme(t), theme);
      await f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const header = await f.evaluate(() => (document.querySelector('.ll-header') as HTMLElement).innerText);
      expect(header.match(/step 3|3 steps/g), theme).toEqual(['step 3']);
      const issues = await f.evaluate(auditContrast);
      expect(issues.filter((i) => /step-indicator|phase|edge-label|badge/.test(i.where)), `${theme}: ${JSON.stringify(issues)}`).toEqual([]);
    }
    await s.page.evaluate(() => (window as unknown as Harness).harness.setSpeed(0));
    await s.page.evaluate((t) => (window as unknown as Harness).harness.setTheme(t), 'light');
  });

  it('keeps Re-run on the first line, the search hint whole, words whole and the legends whole, at 760 and 1400 px', async () => {
    await resetPanel(s);
    for (const stream of ['custom-loop-drops-penalty', 'adam-l2-decay', 'hand-written-l2-dropped', 'fit-cnn-with-decay']) {
      await loadStream(s, stream);
      for (const width of WIDTHS) {
        await s.page.setViewportSize({ width, height: 1100 });
        const f = panelFrame(s.page);
        await f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const look = await f.evaluate(() => {
          const top = (sel: string) => document.querySelector(sel)!.getBoundingClientRect().top;
          const search = document.querySelector('.ll-search') as HTMLInputElement;
          const cs = getComputedStyle(search);
          const ctx = document.createElement('canvas').getContext('2d')!;
          ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
          const room = search.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
          const clipped = [...document.querySelectorAll<HTMLElement>('.ll-legend, .ll-chart-legend')].filter(
            (l) => l.getClientRects().length > 0 && (l.scrollHeight > l.clientHeight + 1 || l.scrollWidth > l.clientWidth + 1),
          );
          return {
            actionTop: top('.ll-run-action'),
            titleTop: top('.ll-title'),
            placeholder: ctx.measureText(search.placeholder).width,
            room,
            clipped: clipped.map((l) => l.className),
          };
        });
        expect(Math.abs(look.actionTop - look.titleTop), `${stream} at ${width}`).toBeLessThan(8);
        expect(look.placeholder, `${stream} at ${width}`).toBeLessThanOrEqual(look.room);
        expect(look.clipped, `${stream} at ${width}`).toEqual([]);
        expect(await f.evaluate(brokenWords, ['.ll-header', '.ll-verdict', '.ll-findings', '.ll-notices', '.ll-compare-summary']), `${stream} at ${width}`).toEqual([]);
      }
    }
  });

  it('screenshots of the top of the panel: light, dark and high contrast at 760 and 1400 px', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty');
    const f = panelFrame(s.page);
    for (const width of WIDTHS)
      for (const theme of THEMES) {
        await s.page.setViewportSize({ width, height: 1400 });
        await s.page.evaluate((t) => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme(t), theme);
        await f.evaluate(() => {
          window.scrollTo(0, 0);
          return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        });
        await (await s.page.$('iframe'))!.screenshot({ path: path.join(RESULTS, `say-once.${theme}.${width}.png`) });
        const issues = await f.evaluate(auditContrast);
        expect(issues.filter((i) => /header|verdict|finding|phase/.test(i.where)), JSON.stringify(issues)).toEqual([]);
      }
    await s.page.setViewportSize({ width: 1400, height: 1100 });
    expect(s.cspViolations).toEqual([]);
    expect(s.pageErrors).toEqual([]);
  });
});
