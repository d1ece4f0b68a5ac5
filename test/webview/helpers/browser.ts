import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { HARNESS_ORIGIN, createHarnessResolver } from '../harness/harness-server';
import chromiumConfig from '../../../scripts/chromium.json';

/** Debian's chromium, driven by playwright-core; never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? chromiumConfig.path;
export const CHROMIUM_ARGS = chromiumConfig.args;
export const ROOT = path.resolve(__dirname, '../../..');
export const RESULTS = path.join(ROOT, 'test-results', 'webview');

export interface HarnessSession {
  context: BrowserContext;
  page: Page;
  /** Console messages and CSP violations seen in any frame. */
  console: string[];
  cspViolations: string[];
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * A persistent context in a fresh user-data-dir, with the harness served by request interception.
 * `zoom` 2 is VS Code at 200%: the webview gets half the CSS pixels, drawn at twice the density.
 */
export async function openHarness(query = 'autoload=0', viewport = { width: 1400, height: 1100 }, zoom = 1): Promise<HarnessSession> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'loss-lens-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: Math.round(viewport.width / zoom), height: Math.round(viewport.height / zoom) },
    deviceScaleFactor: zoom,
  });
  const resolve = createHarnessResolver(ROOT);
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== HARNESS_ORIGIN) return route.abort();
    const r = resolve(url.pathname + url.search);
    await route.fulfill({ status: r.status, contentType: r.contentType, body: r.body });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const session: HarnessSession = {
    context,
    page,
    console: [],
    cspViolations: [],
    pageErrors: [],
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  page.on('console', (m) => {
    const text = `${m.type()}: ${m.text()}`;
    session.console.push(text);
    if (/Content Security Policy|Refused to/i.test(m.text())) session.cspViolations.push(text);
  });
  page.on('pageerror', (e) => session.pageErrors.push(String(e)));
  await page.goto(`${HARNESS_ORIGIN}/?${query}`);
  await page.waitForFunction(() => {
    const w = window as unknown as { harness?: unknown };
    const frame = document.querySelector('iframe')?.contentWindow as unknown as { lossLens?: unknown } | null;
    return !!w.harness && !!frame?.lossLens;
  });
  return session;
}

export type { Browser };

export function panelFrame(page: Page) {
  const frame = page.frames().find((f) => f.url() !== 'about:blank' && new URL(f.url()).pathname === '/panel.html');
  if (!frame) throw new Error('panel frame not found');
  return frame;
}

type Stats = { hydrates: number; appends: number };
const statsOf = (session: HarnessSession) =>
  panelFrame(session.page).evaluate(() => ({ ...(window as unknown as { lossLens: { stats: Stats } }).lossLens.stats }));

/** Replay a recorded stream into the panel (all at once unless a speed is given) and wait until it is drawn. */
export async function loadStream(session: HarnessSession, name: string, options: { speed?: number; upTo?: number } = {}): Promise<void> {
  const before = await statsOf(session);
  await session.page.evaluate(
    ([n, o]) => (window as unknown as { harness: { loadStream(n: string, o: object): Promise<void> } }).harness.loadStream(n, o),
    [name, { speed: 0, ...options }] as const,
  );
  await waitForMessages(session, before, options.speed ? 0 : 1);
  await waitForGraph(session);
}

/** Wait until the webview has taken a new hydrate (and `appends` more appends): the old drawing is gone. */
export async function waitForMessages(session: HarnessSession, before: Stats, appends: number): Promise<void> {
  await panelFrame(session.page).waitForFunction(
    ([h, a]) => {
      const st = (window as unknown as { lossLens: { stats: Stats } }).lossLens.stats;
      return st.hydrates > h && st.appends >= a;
    },
    [before.hydrates, before.appends + appends] as const,
  );
}

export async function waitForGraph(session: HarnessSession): Promise<void> {
  await panelFrame(session.page).waitForFunction(() => {
    const graph = document.querySelector('.ll-graph');
    return graph?.getAttribute('aria-busy') === 'false' && document.querySelectorAll('g.ll-node').length > 0;
  });
  // One more frame so the curves have drawn too.
  await panelFrame(session.page).evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Forget the webview's saved UI state and reload it, so a test starts from the defaults. */
export async function resetPanel(session: HarnessSession): Promise<void> {
  // A save the last test left pending (the webview debounces them by 100 ms) would land after the clear on a loaded
  // machine and bring its expansions back: flush it first, then clear.
  await panelFrame(session.page).evaluate(() => {
    (window as unknown as { lossLens?: { saveStateNow(): void } }).lossLens?.saveStateNow();
    sessionStorage.clear();
  });
  await session.page.evaluate(() => (window as unknown as { harness: { reload(): Promise<void> } }).harness.reload());
  await panelFrame(session.page).waitForFunction(() => !!(window as unknown as { lossLens?: unknown }).lossLens);
}

/**
 * WCAG 2.1 text contrast of everything the panel shows, measured in the page on the computed styles:
 * each visible text node's colour (CSS `color`, or `fill` for SVG text) with the opacity of its ancestors,
 * composited over what is behind it (the nearest opaque background, or for SVG text the shape it sits on).
 * `auditContrast` is passed to page.evaluate, so it is self-contained: no imports, no closures.
 */
export interface ContrastIssue {
  text: string;
  where: string;
  ratio: number;
  needed: number;
  fg: string;
  bg: string;
}

export function auditContrast(): ContrastIssue[] {
  type RGBA = [number, number, number, number];
  const parse = (c: string): RGBA | null => {
    let m = c.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
    m = c.match(/^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.]+))?\)$/);
    if (m) return [+m[1] * 255, +m[2] * 255, +m[3] * 255, m[4] === undefined ? 1 : +m[4]];
    return null;
  };
  const over = (top: RGBA, under: RGBA): RGBA => {
    const a = top[3];
    return [top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a), top[2] * a + under[2] * (1 - a), 1];
  };
  const lum = (c: RGBA) => {
    const ch = (v: number) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
  };
  const ratio = (a: RGBA, b: RGBA) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const hex = (c: RGBA) => `#${c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  const opacityOf = (el: Element | null): number => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity || '1');
    return o;
  };
  /** The opaque colour behind an HTML element: its own and its ancestors' backgrounds, composited. */
  const htmlBackground = (el: Element | null): RGBA => {
    const layers: RGBA[] = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parse(getComputedStyle(e).backgroundColor);
      if (bg && bg[3] > 0) {
        layers.push(bg);
        if (bg[3] >= 1) break;
      }
    }
    let c: RGBA = [255, 255, 255, 1];
    for (const l of layers.reverse()) c = over(l, c);
    return c;
  };
  /** What SVG text sits on: the shape its group draws under it (node box, badge, label plate), over the page. */
  const svgBackground = (text: Element): RGBA => {
    const page = htmlBackground(text.closest('svg')!.parentElement);
    const plate = text.closest('.ll-badge, .ll-edge-label, .ll-node');
    const shape = plate?.querySelector(plate.classList.contains('ll-node') ? ':scope > rect.ll-node-box' : ':scope > rect');
    if (!shape) return page;
    const cs = getComputedStyle(shape);
    const fill = parse(cs.fill);
    if (!fill) return page;
    fill[3] *= Number(cs.fillOpacity || '1') * Number(cs.opacity || '1');
    return over(fill, page);
  };
  const issues: ContrastIssue[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = (n.textContent ?? '').trim();
    const el = n.parentElement;
    if (!text || !el || el.closest('script, style, option, [hidden], [aria-hidden="true"]')) continue;
    // Only what is on screen: a closed <details> hides its body, display:none hides everything under it.
    if (el.getClientRects().length === 0) continue;
    const details = el.closest('details');
    if (details && !details.open && !el.closest('summary')) continue;
    // A curve switched off in its legend is shown dimmed on purpose (it says "off"); an inactive control.
    if (el.closest('.ll-legend-toggle.off, :disabled')) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden') continue;
    const isSvg = el instanceof SVGElement;
    const fg = parse(isSvg ? cs.fill : cs.color);
    if (!fg) continue;
    fg[3] *= opacityOf(el) * (isSvg ? Number(cs.fillOpacity || '1') : 1);
    const bg = isSvg ? svgBackground(el) : htmlBackground(el);
    const shown = over(fg, bg);
    const size = parseFloat(cs.fontSize);
    const bold = Number(cs.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const r = ratio(shown, bg);
    if (r + 1e-6 < needed) {
      const where = [el.tagName.toLowerCase(), ...[...el.classList].slice(0, 2)].join('.');
      issues.push({ text: text.slice(0, 60), where, ratio: Math.round(r * 100) / 100, needed, fg: hex(shown), bg: hex(bg) });
    }
  }
  return issues;
}
