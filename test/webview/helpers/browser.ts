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
  await panelFrame(session.page).evaluate(() => sessionStorage.clear());
  await session.page.evaluate(() => (window as unknown as { harness: { reload(): Promise<void> } }).harness.reload());
  await panelFrame(session.page).waitForFunction(() => !!(window as unknown as { lossLens?: unknown }).lossLens);
}
