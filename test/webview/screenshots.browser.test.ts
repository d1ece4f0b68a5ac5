import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THEMES, type ThemeName } from './harness/themes';
import { RESULTS, loadStream, openHarness, panelFrame, resetPanel, type HarnessSession } from './helpers/browser';

/**
 * Screenshots of the whole panel in every theme, for people to look at (test-results/webview/, git-ignored).
 * Each one is also checked for what a blank or broken panel would lack.
 */
const STREAMS = ['custom-loop-drops-penalty', 'fit-cnn-with-decay', 'nan-loss', 'deep-residual'];
const THEME_NAMES = Object.keys(THEMES) as ThemeName[];

describe('screenshots in every theme', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    s = await openHarness('autoload=0', { width: 1400, height: 1250 });
  });
  afterAll(async () => {
    await s?.close();
  });

  for (const stream of STREAMS) {
    it(`${stream}: light, dark, high contrast dark and light`, async () => {
      await resetPanel(s);
      await loadStream(s, stream);
      for (const theme of THEME_NAMES) {
        await s.page.evaluate((t) => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme(t), theme);
        const f = panelFrame(s.page);
        await f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const look = await f.evaluate(() => {
          const bg = getComputedStyle(document.body).backgroundColor;
          const label = document.querySelector('.ll-node-label');
          return {
            bg,
            labelFill: label ? getComputedStyle(label).fill : '',
            nodes: document.querySelectorAll('g.ll-node').length,
            paths: [...document.querySelectorAll('path.ll-line')].filter((p) => (p.getAttribute('d') ?? '').length > 10).length,
            findings: document.querySelectorAll('.ll-finding').length + document.querySelectorAll('.ll-findings .ll-empty').length,
          };
        });
        const theme_ = THEMES[theme];
        const hex = (h: string) => {
          const n = parseInt(h.slice(1), 16);
          return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
        };
        expect(look.bg).toBe(hex(theme_['--vscode-editor-background']));
        expect(look.labelFill).toBe(hex(theme_['--vscode-foreground']));
        expect(look.nodes).toBeGreaterThan(0);
        expect(look.paths).toBeGreaterThan(0);
        expect(look.findings).toBeGreaterThan(0);
        const file = path.join(RESULTS, `${stream}.${theme}.png`);
        const frame = await s.page.$('iframe');
        await frame!.screenshot({ path: file });
        expect(statSync(file).size).toBeGreaterThan(20_000);
      }
    });
  }

  it('no console errors or CSP violations across all of it', () => {
    expect(s.cspViolations).toEqual([]);
    expect(s.pageErrors).toEqual([]);
    expect(s.console.filter((c) => c.startsWith('error'))).toEqual([]);
  });
});
