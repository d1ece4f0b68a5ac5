import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStream, openHarness, panelFrame, resetPanel, waitForGraph, type HarnessSession } from './helpers/browser';
import { replayStream } from './helpers/streams';

type Frame = ReturnType<typeof panelFrame>;

/** What has the focus, and whether it shows a focus indicator a sighted keyboard user can see. */
const focusNow = (f: Frame) =>
  f.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const cs = getComputedStyle(el);
    let ring = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    // Graph nodes draw their own ring; a chart's plot area strokes its outline.
    const nodeRing = el.querySelector(':scope > rect.ll-focus-ring');
    if (nodeRing) ring = getComputedStyle(nodeRing).display !== 'none' && parseFloat(getComputedStyle(nodeRing).strokeWidth) >= 2;
    if (el.classList.contains('ll-overlay')) ring = cs.stroke !== 'none' && parseFloat(cs.strokeWidth) >= 2;
    const r = el.getBoundingClientRect();
    const key = el.getAttribute('data-id') ?? `${el.tagName.toLowerCase()}:${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40)}`;
    return { key, ring, rect: { x: r.x, y: r.y, width: r.width, height: r.height } };
  });

/** Every control a keyboard user should reach: visible buttons, inputs, selects, summaries, and tabindex=0 elements. */
const reachable = (f: Frame) =>
  f.evaluate(() =>
    [...document.querySelectorAll<HTMLElement | SVGElement>('button, input, select, summary, [tabindex="0"]')]
      .filter((el) => el.getClientRects().length > 0 && !(el as HTMLButtonElement).disabled && !el.closest('[hidden]'))
      .map((el) => el.getAttribute('data-id') ?? `${el.tagName.toLowerCase()}:${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40)}`),
  );

describe('keyboard', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    s = await openHarness();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('Tab reaches every control and every graph node, each with a visible focus ring', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty');
    const f = panelFrame(s.page);
    const expected = await reachable(f);
    await f.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const seen = new Map<string, boolean>();
    for (let i = 0; i < expected.length + 5; i++) {
      await s.page.keyboard.press('Tab');
      const now = await focusNow(f);
      if (now) seen.set(now.key, now.ring);
    }
    const nodes = await f.evaluate(() => [...document.querySelectorAll('g.ll-node')].map((n) => n.getAttribute('data-id')!));
    expect(nodes.length).toBeGreaterThan(5);
    expect([...expected].filter((k) => !seen.has(k))).toEqual([]);
    for (const n of nodes) expect(seen.get(n)).toBe(true);
    expect([...seen].filter(([, ring]) => !ring).map(([k]) => k)).toEqual([]);
    // The run's own controls are among them: Re-run, the verdict's counts (to the Findings list), each finding.
    expect(expected.some((k) => k.startsWith('button:Run the script again'))).toBe(true);
    expect(expected.filter((k) => k.startsWith('button:3 errors. Go to the Findings list')).length).toBe(1);
    expect(expected.filter((k) => k.startsWith('button:Error:')).length).toBe(3);
  });

  it('graph nodes come in reading order, and one out of view is panned into it when it gets the focus', async () => {
    await resetPanel(s);
    // A window too short for the whole graph at a readable size (at 1100 px it fits whole since issue 21).
    await s.page.setViewportSize({ width: 1400, height: 700 });
    await loadStream(s, 'fit-cnn-with-decay');
    const f = panelFrame(s.page);
    // Folded, it would fit this window: the user unticks "Fold repeated blocks", and then nothing is folded to fit.
    if (await f.isChecked('.ll-graph .ll-check input')) await f.click('.ll-graph .ll-check input');
    await f.waitForSelector('g.ll-node[data-id="group:layer:conv2d_Conv2D1"]');
    await waitForGraph(s);
    const order = await f.evaluate(() => [...document.querySelectorAll('g.ll-node')].map((n) => n.getAttribute('data-id')));
    expect(order[0]).toBe('group:layer:conv2d_Conv2D1');
    // Top down on this panel, the first layer is above the view the automatic fit shows (around the loss).
    await f.evaluate(() => (document.querySelector('g.ll-node.sink') as SVGGElement).focus());
    await f.evaluate(() => (document.querySelector('.ll-search') as HTMLInputElement).focus());
    let inView = await f.evaluate(() => {
      const body = document.querySelector('.ll-graph-svg')!.getBoundingClientRect();
      const r = document.querySelector('g.ll-node[data-id="group:layer:conv2d_Conv2D1"]')!.getBoundingClientRect();
      return r.top >= body.top && r.bottom <= body.bottom;
    });
    const needsPan = !inView;
    // Tab from the toolbar walks the graph's nodes in order; the first one is panned into view.
    for (let i = 0; i < 12; i++) {
      await s.page.keyboard.press('Tab');
      if ((await focusNow(f))?.key === 'group:layer:conv2d_Conv2D1') break;
    }
    expect((await focusNow(f))?.key).toBe('group:layer:conv2d_Conv2D1');
    inView = await f.evaluate(() => {
      const body = document.querySelector('.ll-graph-svg')!.getBoundingClientRect();
      const r = document.querySelector('g.ll-node[data-id="group:layer:conv2d_Conv2D1"]')!.getBoundingClientRect();
      return r.top >= body.top && r.bottom <= body.bottom && r.left >= body.left && r.right <= body.right;
    });
    expect(inView).toBe(true);
    expect(needsPan).toBe(true);
    await s.page.setViewportSize({ width: 1400, height: 1100 });
  });

  it('Enter opens the source line, from a graph node and from a finding', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty');
    const state = replayStream('custom-loop-drops-penalty');
    const f = panelFrame(s.page);
    const received = () => s.page.evaluate(() => (window as unknown as { harness: { received: Array<{ type: string }> } }).harness.received.length);
    const lastReveal = () =>
      s.page.evaluate(() => (window as unknown as { harness: { received: Array<{ type: string }> } }).harness.received.filter((m) => m.type === 'revealSource').at(-1));
    let n = await received();
    await f.focus('g.ll-node[data-id="group:layer:dense_Dense2"]');
    await s.page.keyboard.press('Enter');
    await s.page.waitForFunction((k) => (window as unknown as { harness: { received: unknown[] } }).harness.received.length > k, n);
    expect(await lastReveal()).toEqual({ type: 'revealSource', source: state.layers.find((l) => l.name === 'dense_Dense2')!.source });
    n = await received();
    await f.focus('.ll-finding-button >> nth=2');
    await s.page.keyboard.press('Enter');
    await s.page.waitForFunction((k) => (window as unknown as { harness: { received: unknown[] } }).harness.received.length > k, n);
    expect(await lastReveal()).toEqual({ type: 'revealSource', source: state.layers.find((l) => l.name === 'dense_Dense3')!.source });
    // Its term is selected in the graph, too.
    expect(await f.evaluate(() => document.querySelector('g.ll-node.selected')?.getAttribute('data-id'))).toBe('group:term:penalty:dense_Dense3/kernel');
  });
});
