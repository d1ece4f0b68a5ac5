import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThemeName } from './harness/themes';
import { collectTerms } from '../../src/shared/analysis/terms';
import { findChains } from '../../src/webview/graph-view/chains';
import { groupGraph } from '../../src/webview/graph-view/graph-groups';
import { buildViewGraph } from '../../src/webview/graph-view/graph-view';
import { RESULTS, auditContrast, loadStream, openHarness, panelFrame, waitForGraph, type HarnessSession } from './helpers/browser';
import { replayStream } from './helpers/streams';

/**
 * Issue 21, the graph: the first fit shows every node at a readable size (labels at least 12 px) in a box grown to
 * the graph, folding chains of layers until it fits, it fits again when the panel changes shape or the webview
 * reloads, and a dropped hand-written penalty reads the right way.
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

const minimapShown = (f: Frame) => f.evaluate(() => document.querySelector('svg.ll-minimap')!.getAttribute('display') !== 'none');
/** The fold notice's text, or null while it is hidden. */
const foldNote = (f: Frame) =>
  f.evaluate(() => {
    const n = document.querySelector<HTMLElement>('.ll-fold-note')!;
    return n.hidden ? null : n.querySelector('.ll-fold-note-text')!.textContent;
  });
const CSSescape = (id: string) => id.replace(/["\\]/g, '\\$&');

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

  it('deep-residual at 1400×900: folded until it fits, every node in view at 12 px or more, and the notice says what is folded', async () => {
    const s = await open(1400, 900);
    await loadStream(s, 'deep-residual');
    const f = panelFrame(s.page);
    const r = await look(f);
    expect(r.cut).toEqual([]);
    expect(r.medianLabelPx).toBeGreaterThanOrEqual(12);
    expect(await minimapShown(f)).toBe(false);
    // Each folded chain is a node that names its first and last layer; the notice names each one again.
    const state = replayStream('deep-residual');
    const ctx = { groups: groupGraph(state.graphs[0], state.layers), layers: state.layers, terms: collectTerms(state), optimizer: state.optimizers[0] };
    const chains = new Map(findChains(buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: true })).map((c) => [c.id, c]));
    const drawn = await f.evaluate(() => [...document.querySelectorAll('g.ll-node.kind-chain')].map((g) => ({ id: g.getAttribute('data-id')!, label: g.getAttribute('aria-label')! })));
    expect(drawn.length).toBeGreaterThan(0);
    const note = await foldNote(f);
    expect(note).toMatch(/^Folded to fit the panel: .*\. Click a folded node, or press Enter on it, to unfold it\.$/);
    for (const d of drawn) {
      const c = chains.get(d.id)!;
      const span = `${c.layers[0]} … ${c.layers[c.layers.length - 1]}`;
      expect(d.label).toContain(`${c.layers.length} layers: ${span}`);
      expect(note).toContain(`${c.layers.length} layers, ${span}, into one node`);
    }
    for (const theme of ['light', 'dark'] as ThemeName[]) {
      await s.page.evaluate((t) => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme(t), theme);
      await frames(f);
      await f.evaluate(() => document.querySelector('.ll-graph')!.scrollIntoView({ block: 'start' }));
      await (await s.page.$('iframe'))!.screenshot({ path: path.join(RESULTS, `graph-first-fit.deep-residual.${theme}.1400.png`) });
    }
    // Enter on a folded node unfolds it: its first layer is drawn again, and the fit is redone.
    const first = chains.get(drawn[0].id)!;
    await f.focus(`g.ll-node[data-id="${drawn[0].id}"]`);
    await f.press(`g.ll-node[data-id="${drawn[0].id}"]`, 'Enter');
    await f.waitForSelector(`g.ll-node[data-id="${CSSescape(first.members[0])}"]`);
    await waitForGraph(s);
    expect(await f.evaluate((id) => !!document.querySelector(`g.ll-node[data-id="${id}"]`), drawn[0].id)).toBe(false);
    expect((await foldNote(f)) ?? '').not.toContain(`${first.layers[0]} …`);
    // "Unfold all": nothing is folded to fit; taller than the panel then, it pans, with an overview.
    await f.click('.ll-fold-note button');
    await f.waitForFunction(() => document.querySelectorAll('g.ll-node.kind-chain').length === 0 && document.querySelector('.ll-graph')!.getAttribute('aria-busy') === 'false');
    await frames(f);
    expect(await foldNote(f)).toBeNull();
    const flat = await look(f);
    expect(flat.cut).not.toContain('group:loss');
    expect(flat.cut.length).toBeGreaterThan(0);
    // An overview says so: every node on it, the part on screen framed; a click on it brings that part into view.
    const map = await f.evaluate(() => {
      const m = document.querySelector<SVGSVGElement>('svg.ll-minimap')!;
      const view = m.querySelector('rect.ll-minimap-view')!;
      return {
        nodes: m.querySelectorAll('rect.ll-minimap-node').length,
        label: m.getAttribute('aria-label'),
        view: Number(view.getAttribute('height')),
        height: Number(m.getAttribute('height')),
      };
    });
    expect(await minimapShown(f)).toBe(true);
    expect(map.nodes).toBe(flat.nodes);
    expect(map.label).toBe(`Overview of the loss graph: ${flat.cut.length} of ${flat.nodes} nodes are outside the view; click or drag here to move it`);
    expect(map.view).toBeLessThan(map.height);
    const box = (await (await f.$('svg.ll-minimap'))!.boundingBox())!;
    await s.page.mouse.click(box.x + box.width / 2, box.y + 2);
    await frames(f);
    const after = await look(f);
    expect(after.cut).not.toContain(flat.cut[0]);
    expect(after.transform).not.toBe(flat.transform);
  });

  it('lays the graph out left to right in a box wider than tall, top down in one taller than wide, and fits it', async () => {
    for (const [width, height, want] of [
      [2400, 700, 'LR'],
      [760, 1100, 'TB'],
    ] as const) {
      const s = await open(width, height);
      await loadStream(s, 'fit-cnn-with-decay');
      const f = panelFrame(s.page);
      const box = await f.evaluate(() => {
        const r = document.querySelector('.ll-graph-svg')!.getBoundingClientRect();
        return { width: r.width, window: window.innerHeight, direction: document.querySelector('.ll-graph')!.getAttribute('data-direction') };
      });
      // The box may grow as tall as the window: wider than that is a wide box.
      expect(box.width > box.window, `${width}×${height}`).toBe(want === 'LR');
      expect(box.direction, `${width}×${height}`).toBe(want);
      const r = await look(f);
      expect(r.cut, `${width}×${height}`).toEqual([]);
      expect(r.medianLabelPx).toBeGreaterThanOrEqual(12);
    }
  });

  it('after a reload the graph is fitted again, folded for the panel it has then', async () => {
    const s = await open(1400, 900);
    await loadStream(s, 'deep-residual');
    const f = panelFrame(s.page);
    const before = await look(f);
    const note = await foldNote(f);
    const saved = await f.evaluate(() => {
      const app = (window as unknown as { lossLens: { saveStateNow(): void; ui: { graph: { fitted: boolean } } } }).lossLens;
      app.saveStateNow();
      return app.ui.graph.fitted;
    });
    expect(saved).toBe(true);
    await s.page.evaluate(() => (window as unknown as { harness: { reload(): Promise<void> } }).harness.reload());
    await panelFrame(s.page).waitForFunction(() => !!(window as unknown as { lossLens?: unknown }).lossLens);
    await waitForGraph(s);
    const g = panelFrame(s.page);
    const after = await look(g);
    expect(after.cut).toEqual([]);
    expect(after.nodes).toBe(before.nodes);
    expect(await foldNote(g)).toBe(note);
    // Beside the editor: folded further (through the residual blocks) and fitted for it, and again after a reload there.
    await s.page.setViewportSize({ width: 760, height: 900 });
    await g.waitForFunction((t) => document.querySelector('g.ll-viewport')!.getAttribute('transform') !== t, after.transform);
    await waitForGraph(s);
    expect((await look(g)).cut).toEqual([]);
    await g.evaluate(() => (window as unknown as { lossLens: { saveStateNow(): void } }).lossLens.saveStateNow());
    await s.page.evaluate(() => (window as unknown as { harness: { reload(): Promise<void> } }).harness.reload());
    await panelFrame(s.page).waitForFunction(() => !!(window as unknown as { lossLens?: unknown }).lossLens);
    await waitForGraph(s);
    const narrow = await look(panelFrame(s.page));
    expect(narrow.cut).toEqual([]);
    expect(narrow.medianLabelPx).toBeGreaterThanOrEqual(12);
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
