import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THEMES, type ThemeName } from './harness/themes';
import { RESULTS, auditContrast, loadStream, openHarness, panelFrame, resetPanel, type HarnessSession } from './helpers/browser';

/**
 * Screenshots of the whole panel in every theme, at 100% and 200% zoom, for people to look at
 * (test-results/webview/<stream>.<theme>.<zoom>.png, git-ignored). Each one is also checked for what a blank
 * or broken panel would lack, and every text on it for WCAG AA contrast (4.5:1, 3:1 for large text).
 */
const STREAMS = ['custom-loop-drops-penalty', 'fit-cnn-with-decay', 'nan-loss', 'deep-residual'];
const THEME_NAMES = Object.keys(THEMES) as ThemeName[];
const hex = (h: string) => {
  const n = parseInt(h.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
};

for (const zoom of [1, 2]) {
  describe(`screenshots in every theme at ${zoom * 100}% zoom`, () => {
    let s: HarnessSession;
    beforeAll(async () => {
      mkdirSync(RESULTS, { recursive: true });
      s = await openHarness('autoload=0', { width: 1400, height: 1250 }, zoom);
    });
    afterAll(async () => {
      await s?.close();
    });

    for (const stream of STREAMS) {
      it(`${stream}: light, dark, high contrast dark and light; every text at AA contrast`, async () => {
        await resetPanel(s);
        await loadStream(s, stream);
        const f = panelFrame(s.page);
        for (const theme of THEME_NAMES) {
          await s.page.evaluate((t) => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme(t), theme);
          // The hover card and a chart's readout are text too.
          await s.page.mouse.move(0, 0);
          await f.evaluate(() => {
            window.scrollTo(0, 0);
            return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          });
          const look = await f.evaluate(() => {
            const label = document.querySelector('.ll-node-label');
            return {
              bg: getComputedStyle(document.body).backgroundColor,
              labelFill: label ? getComputedStyle(label).fill : '',
              nodes: document.querySelectorAll('g.ll-node').length,
              paths: [...document.querySelectorAll('path.ll-line')].filter((p) => (p.getAttribute('d') ?? '').length > 10).length,
              findings: document.querySelectorAll('.ll-finding').length + document.querySelectorAll('.ll-findings .ll-empty').length,
              verdict: document.querySelector('.ll-verdict-headline')?.textContent ?? '',
            };
          });
          expect(look.bg).toBe(hex(THEMES[theme]['--vscode-editor-background']));
          expect(look.labelFill).toBe(hex(THEMES[theme]['--vscode-foreground']));
          expect(look.nodes).toBeGreaterThan(0);
          expect(look.paths).toBeGreaterThan(0);
          expect(look.findings).toBeGreaterThan(0);
          expect(look.verdict.length).toBeGreaterThan(20);
          const file = path.join(RESULTS, `${stream}.${theme}.${zoom * 100}.png`);
          await (await s.page.$('iframe'))!.screenshot({ path: file });
          expect(statSync(file).size).toBeGreaterThan(20_000);
          // The hover card and a chart's readout are text too. The minimized loss is always in view.
          await f.locator('g.ll-node.sink').first().hover();
          const withCard = await f.evaluate(auditContrast);
          await f.locator('.ll-section-loss rect.ll-overlay').hover();
          const withReadout = await f.evaluate(auditContrast);
          expect({ theme, withCard, withReadout }).toEqual({ theme, withCard: [], withReadout: [] });
        }
      });
    }

    it('no console errors or CSP violations across all of it', () => {
      expect(s.cspViolations).toEqual([]);
      expect(s.pageErrors).toEqual([]);
      expect(s.console.filter((c) => c.startsWith('error'))).toEqual([]);
    });
  });
}
