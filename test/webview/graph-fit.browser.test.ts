import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThemeName } from './harness/themes';
import { RESULTS, auditContrast, loadStream, openHarness, panelFrame, waitForGraph, type HarnessSession } from './helpers/browser';

/**
 * Issue 21, the graph: the first fit shows every node at a readable size (labels at least 12 px) in a box grown to
 * the graph, it fits again when the panel changes shape, and a dropped hand-written penalty reads the right way.
 */
type Frame = ReturnType<typeof panelFrame>;

/** Nodes whose box is not wholly inside the drawing, and the median label size in screen pixels. */
const look = (f: Frame) =>
  f.evaluate(() => {
    const svg = document.querySelector('.ll-graph-svg')!.getBoundingClientRect();
    const nodes = [...document.querySelectorAll<SVGGElement>('g.ll-node')];
    const cut = nodes.filter((n) => {
      const b = n.querySelector('.ll-node-box')!.getBoundingClientRect();
      return b.top < svg.top - 0.5 || b.bottom > svg.bottom + 0.5 || b.left < svg.left - 0.5 || b.right > svg.right + 0.5;
    });
    const sizes = nodes
      .map((n) => {
        const label = n.querySelector<SVGTextElement>('.ll-node-label')!;
        return parseFloat(getComputedStyle(label).fontSize) * (label.getScreenCTM()?.a ?? 0);
      })
      .sort((a, b) => a - b);
    return { nodes: nodes.length, cut: cut.map((n) => n.getAttribute('data-id')), medianLabelPx: sizes[sizes.length >> 1], transform: document.querySelector('g.ll-viewport')!.getAttribute('transform') };
  });

const frames = (f: Frame) => f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

describe('the loss graph at first sight (issue 21)', () => {
  const sessions: HarnessSession[] = [];
  beforeAll(() => mkdirSync(RESULTS, { recursive: true }));
  afterAll(async () => {
    for (const s of sessions) await s.close();
  });
  /** One browser at a time (the machine's two cores are shared): the one before is closed. */
  const open = async (width: number, height: number) => {
    for (const old of sessions.splice(0)) {
      expect(old.pageErrors).toEqual([]);
      await old.close();
    }
    const s = await openHarness('autoload=0', { width, height });
    sessions.push(s);
    return s;
  };

  for (const [width, height] of [
    [760, 900],
    [1400, 900],
  ]) {
    it(`the CNN example at ${width}×${height}: every node in view at the first fit, labels at 12 px or more`, async () => {
      const s = await open(width, height);
      await loadStream(s, 'fit-cnn-with-decay');
      const r = await look(panelFrame(s.page));
      expect(r.nodes).toBe(14);
      expect(r.cut).toEqual([]);
      expect(r.medianLabelPx).toBeGreaterThanOrEqual(12);
      for (const theme of ['light', 'dark', 'hc-dark'] as ThemeName[]) {
        await s.page.evaluate((t) => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme(t), theme);
        await frames(panelFrame(s.page));
        // The whole panel as the window shows it (an element screenshot taller than the window resizes it while taking).
        await panelFrame(s.page).evaluate(() => document.querySelector('.ll-graph')!.scrollIntoView({ block: 'start' }));
        await (await s.page.$('iframe'))!.screenshot({ path: path.join(RESULTS, `graph-first-fit.fit-cnn-with-decay.${theme}.${width}.png`) });
        expect((await look(panelFrame(s.page))).cut, theme).toEqual([]);
        // The edge labels and badges too: every text at WCAG AA.
        expect(await panelFrame(s.page).evaluate(auditContrast)).toEqual([]);
      }
    });
  }

  it('deep-residual at 1400×900: labels at 12 px or more; still taller than the panel, it pans, with an overview', async () => {
    const s = await open(1400, 900);
    await loadStream(s, 'deep-residual');
    const r = await look(panelFrame(s.page));
    expect(r.medianLabelPx).toBeGreaterThanOrEqual(12);
    // The minimized loss, where the penalties meet, is in view; what is cut is above it.
    expect(r.cut).not.toContain('group:loss');
    expect(r.cut.length).toBeGreaterThan(0);
    // An overview says so: every node on it, the part on screen framed; a click on it brings that part into view.
    const f = panelFrame(s.page);
    const map = await f.evaluate(() => {
      const m = document.querySelector<SVGSVGElement>('svg.ll-minimap')!;
      const view = m.querySelector('rect.ll-minimap-view')!;
      return {
        shown: m.getAttribute('display') !== 'none',
        nodes: m.querySelectorAll('rect.ll-minimap-node').length,
        label: m.getAttribute('aria-label'),
        view: Number(view.getAttribute('height')),
        height: Number(m.getAttribute('height')),
      };
    });
    expect(map.shown).toBe(true);
    expect(map.nodes).toBe(r.nodes);
    expect(map.label).toBe(`Overview of the loss graph: ${r.cut.length} of ${r.nodes} nodes are outside the view; click or drag here to move it`);
    expect(map.view).toBeLessThan(map.height);
    const box = (await (await f.$('svg.ll-minimap'))!.boundingBox())!;
    await s.page.mouse.click(box.x + box.width / 2, box.y + 2);
    await frames(f);
    const after = await look(f);
    expect(after.cut).not.toContain(r.cut[0]);
    expect(after.transform).not.toBe(r.transform);
  });

  it('no overview when the whole graph is in view', async () => {
    const s = await open(1400, 900);
    await loadStream(s, 'fit-cnn-with-decay');
    expect(await panelFrame(s.page).evaluate(() => document.querySelector('svg.ll-minimap')!.getAttribute('display'))).toBe('none');
  });

  it('fits again when the panel changes shape, until the user moves the view', async () => {
    const s = await open(1400, 900);
    await loadStream(s, 'fit-cnn-with-decay');
    const f = panelFrame(s.page);
    const before = await look(f);
    for (const [w, h] of [
      [760, 900],
      [1400, 1100],
      [1100, 800],
    ]) {
      await s.page.setViewportSize({ width: w, height: h });
      await f.waitForFunction((t) => document.querySelector('g.ll-viewport')!.getAttribute('transform') !== t, before.transform);
      await frames(f);
      const r = await look(f);
      if (h >= 900) expect(r.cut, `${w}×${h}`).toEqual([]);
      expect(r.medianLabelPx).toBeGreaterThanOrEqual(12);
    }
    // The user zooms in: the next resize leaves the view alone.
    await f.click('button[aria-label^="Zoom in"]');
    await f.waitForTimeout(400);
    const zoomed = (await look(f)).transform;
    await s.page.setViewportSize({ width: 1300, height: 800 });
    await frames(f);
    await f.waitForTimeout(100);
    expect((await look(f)).transform).toBe(zoomed);
  });

  it('a dropped hand-written L2: arrows toward the loss and the penalties, each penalty named by its variables, the data path drawn', async () => {
    const s = await open(760, 900);
    await loadStream(s, 'hand-written-l2-dropped');
    await waitForGraph(s);
    const f = panelFrame(s.page);
    const g = await f.evaluate(() => ({
      nodes: [...document.querySelectorAll('g.ll-node')].map((n) => ({ id: n.getAttribute('data-id')!, label: n.querySelector('.ll-node-label')!.textContent, sink: n.classList.contains('sink') })),
      edges: [...document.querySelectorAll('path.ll-edge[data-edge]')].map((e) => ({ id: e.getAttribute('data-edge')!, cls: e.getAttribute('class')! })),
    }));
    const sink = g.nodes.find((n) => n.sink)!.id;
    const terms = g.nodes.filter((n) => n.id.startsWith('group:term:'));
    expect(terms.map((t) => t.label).sort()).toEqual(['hand-written L2 2e-3 · local3/weights', 'hand-written L2 2e-3 · softmax_linear/weights']);
    // Nothing comes out of the minimized loss: every arrow ends at it or at a penalty.
    expect(g.edges.filter((e) => e.id.startsWith(`${sink}->`))).toEqual([]);
    for (const t of terms) expect(g.edges.filter((e) => e.id.endsWith(`->${t.id}`)).map((e) => e.id.split('->')[0])).toEqual([t.id.includes('local3') ? 'group:layer:local3' : 'group:layer:softmax_linear']);
    // The data path: the variables into the minimized loss, in the data colour.
    const data = g.edges.filter((e) => e.id.endsWith(`->${sink}`));
    expect(data.map((e) => e.id).sort()).toEqual(['group:layer:local3->group:loss', 'group:layer:softmax_linear->group:loss']);
    for (const e of data) expect(e.cls).toContain('role-data');
    for (const theme of ['light', 'dark', 'hc-dark'] as ThemeName[]) {
      await s.page.evaluate((t) => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme(t), theme);
      await frames(f);
      await (await s.page.$('iframe'))!.screenshot({ path: path.join(RESULTS, `graph-hand-written-l2-dropped.${theme}.760.png`) });
    }
    expect(s.pageErrors).toEqual([]);
  });
});
