import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStream, openHarness, panelFrame, type HarnessSession } from './helpers/browser';

type Harness = { harness: { feed: { markStale(stale: boolean): Promise<void> }; received: Array<{ type: string }>; reload(): Promise<void> } };

/** Issue 21, "stale findings": after an edit (a quick fix) the panel says its findings describe the file as it was. */
describe('stale findings', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    s = await openHarness();
  });
  afterAll(async () => {
    await s?.close();
  });

  /** The stale line's text while it is shown, else null. */
  const shown = () =>
    panelFrame(s.page).evaluate(() => {
      const e = document.querySelector('.ll-stale') as HTMLElement | null;
      return e && !e.hidden && e.getClientRects().length > 0 ? e.textContent : null;
    });
  const isShown = (want: boolean) =>
    panelFrame(s.page).waitForFunction((w) => {
      const e = document.querySelector('.ll-stale') as HTMLElement | null;
      return !!e && !e.hidden === w;
    }, want);

  it('says "File changed since this run: Re-run" when the host says so, again after a reload, and its Re-run asks the host', async () => {
    await loadStream(s, 'custom-loop-drops-penalty');
    expect(await shown()).toBeNull();
    await s.page.evaluate(() => (window as unknown as Harness).harness.feed.markStale(true));
    await isShown(true);
    expect(await shown()).toBe('File changed since this run: Re-run');
    await panelFrame(s.page).locator('.ll-stale-rerun').click();
    await s.page.waitForFunction(() => (window as unknown as Harness).harness.received.some((m) => m.type === 'rerun'));
    // A reloaded webview is told again, after its hydrate.
    await s.page.evaluate(() => (window as unknown as Harness).harness.reload());
    await isShown(true);
    // A new run clears it.
    await s.page.evaluate(() => (window as unknown as Harness).harness.feed.markStale(false));
    await isShown(false);
    expect(await shown()).toBeNull();
    expect(s.pageErrors).toEqual([]);
  });
});
