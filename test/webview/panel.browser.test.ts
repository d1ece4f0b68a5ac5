import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectTerms } from '../../src/shared/analysis/terms';
import { groupGraph } from '../../src/webview/graph-view/graph-groups';
import { buildViewGraph } from '../../src/webview/graph-view/graph-view';
import { toWireJson } from '../../src/shared/protocol/wire-number';
import { THEMES } from './harness/themes';
import { RESULTS, loadStream, openHarness, panelFrame, resetPanel, waitForGraph, waitForMessages, type HarnessSession } from './helpers/browser';
import { readStream, replayStream } from './helpers/streams';

type Frame = ReturnType<typeof panelFrame>;

/** "#f85149" → "rgb(248, 81, 73)", as getComputedStyle reports colours. */
function rgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

const nodeCount = (f: Frame) => f.evaluate(() => document.querySelectorAll('g.ll-node').length);
const clickButton = (f: Frame, text: string) =>
  f.evaluate((t) => {
    const b = [...document.querySelectorAll('button')].find((x) => x.textContent === t);
    if (!b) throw new Error(`no button ${t}`);
    b.click();
  }, text);
const received = (s: HarnessSession) =>
  s.page.evaluate(() => (window as unknown as { harness: { received: Array<{ type: string }> } }).harness.received) as Promise<Array<Record<string, unknown>>>;
/** Messages the webview posted after the first `from`, once one of them has type `type` (postMessage is async). */
async function receivedAfter(s: HarnessSession, from: number, type: string): Promise<Array<Record<string, unknown>>> {
  await s.page.waitForFunction(
    ([n, t]) => (window as unknown as { harness: { received: Array<{ type: string }> } }).harness.received.slice(n).some((m) => m.type === t),
    [from, type] as const,
  );
  return (await received(s)).slice(from);
}

async function settle(s: HarnessSession): Promise<void> {
  const f = panelFrame(s.page);
  await f.waitForFunction(() => document.querySelector('.ll-graph')?.getAttribute('aria-busy') === 'false');
  await f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

describe('webview panel in Chromium', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    s = await openHarness();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('runs under its strict CSP without a single violation, and the CSP is really enforced', async () => {
    for (const name of ['custom-loop-drops-penalty', 'fit-cnn-with-decay', 'nan-loss']) await loadStream(s, name);
    const f = panelFrame(s.page);
    const csp = await f.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '');
    expect(csp).toMatch(/script-src 'nonce-[\w-]+'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    // The layout runs in a blob: worker, which the CSP allows.
    expect(await f.evaluate(() => (window as unknown as { lossLens: { graph: { layoutClient: { mode: string } } } }).lossLens.graph['layoutClient'].mode)).toBe('worker');
    expect(s.cspViolations).toEqual([]);
    expect(s.pageErrors).toEqual([]);
    // Control: an injected inline script and an inline style attribute are refused.
    const ran = await f.evaluate(async () => {
      const w = window as unknown as { __inline?: number };
      const sc = document.createElement('script');
      sc.textContent = 'window.__inline = 1';
      document.body.appendChild(sc);
      const div = document.createElement('div');
      div.innerHTML = '<span id="styled" style="color: red">x</span>';
      document.body.appendChild(div);
      await new Promise((r) => setTimeout(r, 50));
      const styled = getComputedStyle(document.getElementById('styled')!).color;
      div.remove();
      return { script: w.__inline ?? 0, styled };
    });
    expect(ran.script).toBe(0);
    expect(ran.styled).not.toBe('rgb(255, 0, 0)');
    expect(s.cspViolations.length).toBeGreaterThanOrEqual(2);
    s.cspViolations.length = 0;
  });

  it('shows the layer level by default, expands to every op, and collapses back', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-with-penalty');
    const state = replayStream('custom-loop-with-penalty');
    const graph = state.graphs[0];
    const layers = new Set(state.layers.filter((l) => graph.nodes.some((n) => n.layer === l.name && n.kind === 'op' && n.role === 'data')).map((l) => l.name));
    const penalties = graph.terms.filter((t) => t.collection === 'regularization').length;
    const f = panelFrame(s.page);
    // layers + penalties + data loss + minimized loss
    expect(await nodeCount(f)).toBe(layers.size + penalties + 2);
    expect(await f.evaluate(() => document.querySelectorAll('g.ll-node.sink').length)).toBe(1);
    expect(await f.evaluate(() => document.querySelector('g.ll-node.sink .ll-node-label')?.textContent)).toBe('minimized loss');
    await clickButton(f, 'Expand all');
    await settle(s);
    expect(await nodeCount(f)).toBe(graph.nodes.length);
    // Edges show tensor shapes from the tape.
    const labels = await f.evaluate(() => [...document.querySelectorAll('g.ll-edge-label text')].map((t) => t.textContent));
    expect(labels).toContain('512×64');
    await clickButton(f, 'Collapse');
    await settle(s);
    expect(await nodeCount(f)).toBe(layers.size + penalties + 2);
    // Expanding one layer with the keyboard (Space) shows its ops in a frame.
    const members = groupGraph(graph, state.layers).groups.get('group:layer:dense_Dense1')!.members.length;
    await f.focus('g.ll-node[data-id="group:layer:dense_Dense1"]');
    await f.press('g.ll-node[data-id="group:layer:dense_Dense1"]', ' ');
    await settle(s);
    expect(await nodeCount(f)).toBe(layers.size + penalties + 2 - 1 + members);
    expect(await f.evaluate(() => document.querySelectorAll('g.ll-cluster').length)).toBe(1);
  });

  it('folds repeated blocks of a 2,000-op model and unfolds them on request', async () => {
    await resetPanel(s);
    await loadStream(s, 'deep-residual');
    const state = replayStream('deep-residual');
    const ctx = { groups: groupGraph(state.graphs[0], state.layers), layers: state.layers, terms: collectTerms(state), optimizer: state.optimizers[0] };
    const folded = buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: true });
    const flat = buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: false });
    const f = panelFrame(s.page);
    // More than 40 layers: folded by default.
    expect(await nodeCount(f)).toBe(folded.nodes.length);
    expect(await f.evaluate(() => document.querySelectorAll('g.ll-node.kind-block').length)).toBe(folded.blocks.length);
    expect(folded.nodes.length).toBeLessThan(flat.nodes.length / 5);
    await f.click('.ll-check input[type=checkbox]');
    await settle(s);
    expect(await nodeCount(f)).toBe(flat.nodes.length);
    expect(await f.evaluate(() => document.querySelectorAll('g.ll-node.kind-layer').length)).toBe(ctx.groups.layerOrder.length);
    await f.click('.ll-check input[type=checkbox]');
    await settle(s);
  });

  it('draws penalties that never reach the minimized loss detached, in the error colour, with a badge', async () => {
    await resetPanel(s);
    await s.page.evaluate(() => (window as unknown as { harness: { setTheme(t: string): void } }).harness.setTheme('dark'));
    await loadStream(s, 'custom-loop-drops-penalty');
    const f = panelFrame(s.page);
    const terms = await f.evaluate(() =>
      [...document.querySelectorAll('g.ll-node.kind-term')].map((g) => ({
        cls: g.getAttribute('class'),
        stroke: getComputedStyle(g.querySelector('.ll-node-box')!).stroke,
        dash: getComputedStyle(g.querySelector('.ll-node-box')!).strokeDasharray,
        badge: g.querySelector('.ll-badge text')?.textContent,
        badgeShown: g.querySelector('.ll-badge')?.getAttribute('display') !== 'none',
      })),
    );
    const state = replayStream('custom-loop-drops-penalty');
    expect(terms).toHaveLength(state.graphs[0].terms.filter((t) => !t.reachesMinimizedLoss).length);
    for (const t of terms) {
      expect(t.cls).toContain('unreached');
      expect(t.stroke).toBe(rgb(THEMES.dark['--vscode-errorForeground']));
      expect(t.dash).not.toBe('none');
      expect(t.badge).toBe('✕ not in minimized loss');
      expect(t.badgeShown).toBe(true);
    }
    expect(await f.evaluate(() => document.querySelectorAll('path.ll-bus-edge').length)).toBe(0);
    const legend = await f.evaluate(() => document.querySelector('.ll-legend')?.textContent ?? '');
    expect(legend).toContain('terms NOT in the minimized loss (3)');
    expect(legend).toContain('L2 1e-3 on dense_Dense1/kernel');
    // Layers whose decay is dropped look different from decayed ones.
    await loadStream(s, 'custom-loop-with-penalty');
    const stripe = await f.evaluate(() => getComputedStyle(document.querySelector('g.ll-node.kind-layer.decay-decayed .ll-node-stripe')!).fill);
    expect(stripe).toBe(rgb(THEMES.dark['--vscode-charts-green']));
    expect(await f.evaluate(() => document.querySelectorAll('g.ll-node.kind-term.unreached').length)).toBe(0);
    expect(await f.evaluate(() => document.querySelectorAll('path.ll-bus-edge').length)).toBe(3);
  });

  it('renders names from the script as text, never as markup', async () => {
    const evil = '<img src=x onerror="window.__xss=1">';
    const events = readStream('custom-loop-drops-penalty').map((e) => JSON.parse(JSON.stringify(e).split('dense_Dense1').join(evil.replace(/"/g, '\\"'))));
    events.splice(2, 0, { type: 'notice', level: 'warning', message: '<script>window.__xss=2</script><b>bold</b>' });
    events.push({ type: 'error', error: { name: '<svg onload="window.__xss=3">', message: '<iframe src="javascript:window.__xss=4">', stack: null, source: null } });
    const before = await panelFrame(s.page).evaluate(() => ({ ...(window as unknown as { lossLens: { stats: { hydrates: number; appends: number } } }).lossLens.stats }));
    await s.page.evaluate((ev) => {
      const h = (window as unknown as { harness: { loadEvents(e: unknown[], n: string, o: object): void } }).harness;
      h.loadEvents(ev, '<img src=x onerror=alert(1)>', { speed: 0 });
    }, events);
    await waitForMessages(s, before, 1);
    await waitForGraph(s);
    const f = panelFrame(s.page);
    // Hover the node so the hover card renders the name too.
    await f.locator('g.ll-node.kind-layer', { hasText: '<img' }).first().hover();
    const r = await f.evaluate(() => ({
      xss: (window as unknown as { __xss?: number }).__xss ?? 0,
      imgs: document.querySelectorAll('img, iframe, b, svg script').length,
      svgs: [...document.querySelectorAll('svg')].filter((x) => x.getAttribute('onload')).length,
      label: [...document.querySelectorAll('.ll-node-label')].map((t) => t.textContent).find((t) => t?.startsWith('<img')),
      tooltip: document.querySelector('.ll-tooltip-title')?.textContent,
      notices: document.querySelector('.ll-notices')?.textContent,
      findings: document.querySelector('.ll-findings-list')?.textContent,
    }));
    expect(r.xss).toBe(0);
    expect(r.imgs).toBe(0);
    expect(r.svgs).toBe(0);
    expect(r.label).toMatch(/^<img src=x/);
    expect(r.tooltip).toBe(evil);
    expect(r.notices).toContain('<script>window.__xss=2</script><b>bold</b>');
    expect(r.notices).toContain('<iframe src="javascript:window.__xss=4">');
    expect(r.findings).toContain(evil);
    expect(s.pageErrors).toEqual([]);
  });

  it('reveals the source on click and Enter, from findings too, and selects the node', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty');
    const state = replayStream('custom-loop-drops-penalty');
    const f = panelFrame(s.page);
    const before = (await received(s)).length;
    await f.click('g.ll-node[data-id="group:layer:dense_Dense2"] .ll-node-label');
    let msgs = await receivedAfter(s, before, 'revealSource');
    const source = state.layers.find((l) => l.name === 'dense_Dense2')!.source;
    expect(msgs).toContainEqual({ type: 'revealSource', source });
    expect(await f.getAttribute('g.ll-node[data-id="group:layer:dense_Dense2"]', 'class')).toContain('selected');
    // Keyboard: Enter on a focused node.
    const n2 = (await received(s)).length;
    await f.focus('g.ll-node[data-id="group:layer:dense_Dense3"]');
    await f.press('g.ll-node[data-id="group:layer:dense_Dense3"]', 'Enter');
    msgs = await receivedAfter(s, n2, 'revealSource');
    expect(msgs).toContainEqual({ type: 'revealSource', source: state.layers.find((l) => l.name === 'dense_Dense3')!.source });
    // A finding: its source line, and its term selected in the graph.
    const n3 = (await received(s)).length;
    await f.click('.ll-findings-group.sev-error .ll-finding-button');
    msgs = await receivedAfter(s, n3, 'revealSource');
    expect(msgs.some((m) => m.type === 'revealSource')).toBe(true);
    const selected = await f.evaluate(() => document.querySelector('g.ll-node.selected')?.getAttribute('data-id'));
    expect(selected).toMatch(/^group:term:penalty:/);
    // Findings are grouped by severity and carry rule id, layer and step.
    const meta = await f.evaluate(() => [...document.querySelectorAll('.ll-finding-meta')].map((m) => m.textContent));
    expect(meta[0]).toContain('regularizer-not-in-loss');
    expect(meta[0]).toContain('layer dense_Dense');
  });

  it('searches by name and moves between matches', async () => {
    const f = panelFrame(s.page);
    await f.fill('.ll-search', 'dense_dense3');
    expect(await f.evaluate(() => document.querySelectorAll('g.ll-node.match').length)).toBe(2); // the layer and its penalty
    expect(await f.textContent('.ll-search-count')).toBe('2 matches');
    await f.press('.ll-search', 'Enter');
    expect(await f.evaluate(() => document.querySelector('g.ll-node.selected.match') !== null)).toBe(true);
    await f.fill('.ll-search', 'matmul');
    expect(await f.evaluate(() => document.querySelectorAll('g.ll-node.match').length)).toBe(3); // layers holding a MatMul op
    await f.fill('.ll-search', '');
    expect(await f.evaluate(() => document.querySelectorAll('g.ll-node.dim').length)).toBe(0);
  });

  it('streams batched appends into the same elements and moves the step indicator', async () => {
    await resetPanel(s);
    const events = readStream('fit-cnn-with-decay');
    const total = events.filter((e) => e.type === 'step').length;
    const firstStep = events.findIndex((e) => e.type === 'step');
    // The host already holds the structure and two steps; then the rest trickles in.
    await loadStream(s, 'fit-cnn-with-decay', { speed: 0.5, upTo: firstStep + 2 });
    const f = panelFrame(s.page);
    const first = await f.evaluate(() => {
      const p = document.querySelector('path[data-curve="totalLoss:raw"]') as SVGPathElement & { __mark?: number };
      p.__mark = 42;
      const app = (window as unknown as { lossLens: { stats: { appends: number }; curves: { draws: number } } }).lossLens;
      return { step: Number(document.querySelector('.ll-step-indicator')?.getAttribute('data-step')), d: p.getAttribute('d'), appends: app.stats.appends, draws: app.curves.draws };
    });
    // Fast now: several steps per append.
    await s.page.evaluate(() => (window as unknown as { harness: { setSpeed(n: number): void } }).harness.setSpeed(150));
    await f.waitForFunction((n) => Number(document.querySelector('.ll-step-indicator')?.getAttribute('data-step')) === n, total, { timeout: 20_000 });
    await f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const after = await f.evaluate(() => {
      const p = document.querySelector('path[data-curve="totalLoss:raw"]') as SVGPathElement & { __mark?: number };
      const app = (window as unknown as { lossLens: { stats: { appends: number }; curves: { draws: number } } }).lossLens;
      return { mark: p.__mark, d: p.getAttribute('d'), now: document.querySelector('.ll-now-label')?.textContent, appends: app.stats.appends, draws: app.curves.draws };
    });
    expect(first.step).toBe(2);
    expect(after.mark).toBe(42);
    expect(after.d).not.toBe(first.d);
    expect(after.now).toBe(`step ${total}`);
    const steps = total - 2;
    const appends = after.appends - first.appends;
    expect(appends).toBeGreaterThan(0);
    expect(appends).toBeLessThan(steps);
    // At most one draw per append (rAF coalescing), never one per step.
    expect(after.draws - first.draws).toBeLessThanOrEqual(appends);
  });

  it('plots the data: points match the series within M4 bounds, and non-finite steps are marked', async () => {
    await loadStream(s, 'nan-loss');
    const state = replayStream('nan-loss');
    const series = state.series[0];
    const f = panelFrame(s.page);
    const points = await f.evaluate(() => {
      const chart = (window as unknown as { lossLens: { curves: { lossChart: { lastPoints: Map<string, { raw: { x: Float64Array; y: Float64Array; length: number; raw: boolean } }> } } } }).lossLens.curves.lossChart;
      const p = chart.lastPoints.get('dataLoss')!.raw;
      return { x: Array.from(p.x.subarray(0, p.length)), y: Array.from(p.y.subarray(0, p.length)).map((v) => (Number.isNaN(v) ? null : v)), raw: p.raw };
    });
    // Few steps: every row is drawn as is, non-finite ones as breaks.
    expect(points.raw).toBe(true);
    expect(points.x).toEqual(series.step);
    expect(points.y).toEqual(series.dataLoss.map((v) => (Number.isFinite(v) ? v : null)));
    const firstBad = series.step[series.totalLoss.findIndex((v) => !Number.isFinite(v))];
    const markers = await f.evaluate(() => [...document.querySelectorAll('.ll-chart')[0].querySelectorAll('.ll-nonfinite-marker text')].map((t) => t.textContent));
    expect(markers[0]).toBe(`${Number.isNaN(series.totalLoss[firstBad - 1]) ? 'NaN' : '∞'} from step ${firstBad}`);
    // Crosshair: exact values at the step under the pointer.
    const box = (await f.locator('.ll-chart >> nth=0').locator('rect.ll-overlay').boundingBox())!;
    await f.locator('.ll-chart >> nth=0').locator('rect.ll-overlay').hover({ position: { x: 2, y: box.height / 2 } });
    const readout = await f.evaluate(() => document.querySelector('.ll-readout')?.textContent ?? '');
    expect(readout).toContain(`step ${series.step[0]}`);
    expect(readout).toContain(String(Number(series.dataLoss[0].toPrecision(6))));
  });

  it('log scale drops values ≤ 0 (breaks, not lies) and keeps the positive ones', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-drops-penalty');
    const state = replayStream('custom-loop-drops-penalty');
    expect(state.series[0].regularizationLoss.every((v) => v === 0)).toBe(true);
    const f = panelFrame(s.page);
    const paths = () =>
      f.evaluate(() => Object.fromEntries([...document.querySelectorAll('.ll-chart')[0].querySelectorAll('path.ll-line.raw')].map((p) => [p.getAttribute('data-curve'), p.getAttribute('d') ?? ''])));
    const linear = await paths();
    expect(linear['regularizationLoss:raw'].length).toBeGreaterThan(0);
    await f.click('.ll-curves .ll-check input');
    await f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const log = await paths();
    expect(log['regularizationLoss:raw']).toBe('');
    expect(log['totalLoss:raw'].split(/[ML]/).filter(Boolean)).toHaveLength(state.series[0].step.length);
    const ticks = await f.evaluate(() => [...document.querySelectorAll('.ll-chart')[0].querySelectorAll('.ll-axis-y text')].map((t) => t.textContent));
    expect(ticks.length).toBeGreaterThan(1);
    await f.click('.ll-curves .ll-check input');
  });

  it('keeps a million-step curve exact where it matters: spikes survive, zooming in gives every step', async () => {
    const n = 1_000_000;
    const spikeAt = 612_345;
    await s.page.evaluate(
      ([n, spikeAt]) => {
        const h = (window as unknown as { harness: { loadEvents(e: unknown[], n: string, o: object): void; state: { series: Record<number, { [k: string]: unknown }> } } }).harness;
        const graph = { type: 'graph', graph: { objective: 0, step: 1, nodes: [{ id: 'op:1', kind: 'op', label: 'Mean', layer: null, shape: [], role: 'data', termId: null, weight: null, reachesMinimizedLoss: true }], edges: [], minimizedNodeId: 'op:1', dataNodeId: 'op:1', terms: [], variables: [], captureMs: 0 } };
        h.loadEvents([graph], 'million', { speed: 0 });
        void n;
        void spikeAt;
      },
      [n, spikeAt],
    );
    await waitForGraph(s);
    // Build the million-row run inside the webview directly through a hydrate (what a reopened panel receives).
    await s.page.evaluate(
      ([n, spikeAt]) => {
        const step = new Array(n);
        const total = new Array(n);
        for (let i = 0; i < n; i++) {
          step[i] = i + 1;
          total[i] = 1 + Math.sin(i / 5000) * 0.1 + ((i * 7919) % 1000) / 20000;
        }
        total[spikeAt] = 25;
        const series = { step, totalLoss: total, dataLoss: total, regularizationLoss: new Array(n).fill(0), learningRate: new Array(n).fill(0.1), wallMs: new Array(n).fill(1), terms: {}, weightNorms: {}, termInLossSteps: {} };
        const h = (window as unknown as { harness: { state: { series: Record<number, unknown> }; post(m: unknown): void } }).harness;
        const run = { ...h.state, series: { 0: series } };
        h.post({ type: 'hydrate', protocol: 1, run, findings: [], settings: { smoothing: 0, logScale: false, collapseRepeats: 'auto' } });
      },
      [n, spikeAt],
    );
    const f = panelFrame(s.page);
    await f.waitForFunction((n) => document.querySelector('.ll-curves')?.getAttribute('data-steps') === String(n), n, { timeout: 60_000 });
    const full = await f.evaluate(() => {
      const c = (window as unknown as { lossLens: { curves: { lossChart: { lastPoints: Map<string, { raw: { y: Float64Array; length: number; raw: boolean } }>; plotWidth: number } } } }).lossLens.curves.lossChart;
      const p = c.lastPoints.get('totalLoss')!.raw;
      let max = -Infinity;
      for (let i = 0; i < p.length; i++) max = Math.max(max, p.y[i]);
      return { max, length: p.length, raw: p.raw, width: c.plotWidth };
    });
    expect(full.raw).toBe(false);
    expect(full.max).toBe(25);
    expect(full.length).toBeLessThanOrEqual(full.width * 4 + 4);
    // Zoom in around the spike with the keyboard until every step is drawn.
    const overlay = f.locator('.ll-chart >> nth=0').locator('rect.ll-overlay');
    await overlay.focus();
    const box = (await overlay.boundingBox())!;
    await overlay.hover({ position: { x: box.width * ((spikeAt + 1) / n), y: box.height / 2 } });
    for (let i = 0; i < 12; i++) await overlay.press('+');
    await f.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const zoomed = await f.evaluate(() => {
      const c = (window as unknown as { lossLens: { curves: { lossChart: { lastPoints: Map<string, { raw: { x: Float64Array; y: Float64Array; length: number; raw: boolean } }> } } } }).lossLens.curves.lossChart;
      const p = c.lastPoints.get('totalLoss')!.raw;
      return { raw: p.raw, x: Array.from(p.x.subarray(0, p.length)), y: Array.from(p.y.subarray(0, p.length)) };
    });
    expect(zoomed.raw).toBe(true);
    expect(zoomed.x.length).toBeGreaterThan(10);
    for (let i = 1; i < zoomed.x.length; i++) expect(zoomed.x[i] - zoomed.x[i - 1]).toBe(1);
    for (let i = 0; i < zoomed.x.length; i++) {
      const row = zoomed.x[i] - 1;
      const expected = row === spikeAt ? 25 : 1 + Math.sin(row / 5000) * 0.1 + ((row * 7919) % 1000) / 20000;
      expect(zoomed.y[i]).toBe(expected);
    }
    await f.evaluate(() => (document.querySelector('.ll-curves button[aria-label^="Show every step"]') as HTMLButtonElement).click());
  });

  it('restores zoom, smoothing, selection and expansion after a reload, with the data from the host', async () => {
    await resetPanel(s);
    await loadStream(s, 'custom-loop-with-penalty');
    let f = panelFrame(s.page);
    await f.evaluate(() => {
      const input = document.querySelector('.ll-slider input') as HTMLInputElement;
      input.value = '0.85';
      input.dispatchEvent(new Event('input'));
    });
    await f.dblclick('g.ll-node[data-id="group:layer:dense_Dense1"] .ll-node-label');
    await settle(s);
    await clickButton(f, 'Fit');
    await f.waitForTimeout(400);
    await f.click('g.ll-node[data-id="group:layer:dense_Dense3"] .ll-node-label');
    const overlay = f.locator('.ll-chart >> nth=0').locator('rect.ll-overlay');
    await overlay.focus();
    await overlay.press('+');
    const before = await f.evaluate(() => {
      const app = (window as unknown as { lossLens: { saveStateNow(): void; ui: unknown } }).lossLens;
      app.saveStateNow();
      return JSON.parse(JSON.stringify(app['ui']));
    });
    expect(before.curves.smoothing).toBe(0.85);
    expect(before.curves.xDomain).not.toBeNull();
    expect(before.graph.expanded).toEqual(['group:layer:dense_Dense1']);
    expect(before.graph.selected).toBe('group:layer:dense_Dense3');
    const nodesBefore = await nodeCount(f);
    await s.page.evaluate(() => (window as unknown as { harness: { reload(): Promise<void> } }).harness.reload());
    f = panelFrame(s.page);
    await f.waitForFunction(() => !!(window as unknown as { lossLens?: unknown }).lossLens);
    await waitForGraph(s);
    const after = await f.evaluate(() => ({
      ui: JSON.parse(JSON.stringify((window as unknown as { lossLens: { ui: unknown } }).lossLens['ui'])),
      slider: (document.querySelector('.ll-slider input') as HTMLInputElement).value,
      selected: document.querySelector('g.ll-node.selected')?.getAttribute('data-id'),
      transform: document.querySelector('g.ll-viewport')?.getAttribute('transform'),
    }));
    expect(after.ui).toEqual(before);
    expect(after.slider).toBe('0.85');
    expect(after.selected).toBe('group:layer:dense_Dense3');
    expect(await nodeCount(f)).toBe(nodesBefore);
    const t = before.graph.transform;
    expect(after.transform).toBe(`translate(${t.x},${t.y}) scale(${t.k})`);
    // Put the defaults back for the tests after this one.
    await f.evaluate(() => sessionStorage.clear());
    await s.page.evaluate(() => (window as unknown as { harness: { reload(): Promise<void> } }).harness.reload());
    await panelFrame(s.page).waitForFunction(() => !!(window as unknown as { lossLens?: unknown }).lossLens);
    await waitForGraph(s);
  });

  it('exports the graph as SVG and PNG and the curves as CSV and JSON', async () => {
    await loadStream(s, 'nan-loss');
    const f = panelFrame(s.page);
    const count = () => s.page.evaluate(() => (window as unknown as { harness: { exports: unknown[] } }).harness.exports.length);
    const start = await count();
    for (const label of ['SVG', 'PNG', 'CSV', 'JSON']) await clickButton(f, label);
    await s.page.waitForFunction((n) => (window as unknown as { harness: { exports: unknown[] } }).harness.exports.length >= n + 4, start);
    const files = (await s.page.evaluate(() => (window as unknown as { harness: { exports: unknown[] } }).harness.exports)).slice(start) as Array<{ format: string; data: string; encoding: string; suggestedName: string }>;
    const by = Object.fromEntries(files.map((x) => [x.format, x]));
    const state = replayStream('nan-loss');
    // SVG: standalone, colours resolved (no CSS variables), the same nodes as on screen.
    expect(by['graph-svg'].data).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(by['graph-svg'].data).not.toContain('var(--');
    const svgNodes = await f.evaluate((text) => new DOMParser().parseFromString(text, 'image/svg+xml').querySelectorAll('g[data-id]').length, by['graph-svg'].data);
    expect(svgNodes).toBe(await nodeCount(f));
    // PNG: real PNG bytes.
    const png = Buffer.from(by['graph-png'].data, 'base64');
    expect(by['graph-png'].encoding).toBe('base64');
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(2000);
    // CSV: a header and one row per step, non-finite values by name.
    const lines = by['curves-csv'].data.trim().split('\n');
    expect(lines).toHaveLength(state.series[0].step.length + 1);
    expect(lines[0].split(',').slice(0, 4)).toEqual(['step', 'totalLoss', 'dataLoss', 'regularizationLoss']);
    expect(lines[1].split(',').slice(0, 2)).toEqual([String(state.series[0].step[0]), String(state.series[0].totalLoss[0])]);
    expect(lines.at(-1)!.split(',')[1]).toBe('NaN');
    // JSON: the series, with non-finite numbers as strings.
    expect(JSON.parse(by['curves-json'].data).series.totalLoss).toEqual(JSON.parse(toWireJson(state.series[0].totalLoss)));
    writeFileSync(path.join(RESULTS, 'nan-loss.loss-graph.png'), png);
    writeFileSync(path.join(RESULTS, 'nan-loss.loss-graph.svg'), by['graph-svg'].data);
  });

  it('has an accessible name for every control and node', async () => {
    await loadStream(s, 'custom-loop-drops-penalty');
    const f = panelFrame(s.page);
    const unnamed = await f.evaluate(() =>
      [...document.querySelectorAll('button, input, select, [tabindex="0"]')]
        .filter((e) => !(e as HTMLElement).hidden && !(e.getAttribute('aria-label') || e.textContent?.trim() || e.closest('label')))
        .map((e) => e.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    const label = await f.getAttribute('g.ll-node.kind-term', 'aria-label');
    expect(label).toContain('not in minimized loss');
    // Tab reaches the graph's nodes.
    await f.focus('.ll-search');
    let reached = false;
    for (let i = 0; i < 15 && !reached; i++) {
      await s.page.keyboard.press('Tab');
      reached = await f.evaluate(() => document.activeElement?.classList.contains('ll-node') ?? false);
    }
    expect(reached).toBe(true);
  });
});
