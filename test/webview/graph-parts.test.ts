import { describe, expect, it } from 'vitest';
import { collectTerms } from '../../src/shared/analysis/terms';
import { groupGraph } from '../../src/webview/graph-view/graph-groups';
import { buildViewGraph } from '../../src/webview/graph-view/graph-view';
import { layoutGraph } from '../../src/webview/graph/dagre-layout';
import { findTarget, matchNodes, matchOrder } from '../../src/webview/graph/graph-search';
import { cardPosition, hoverHint } from '../../src/webview/graph/hover-layout';
import { busLabelAt, busPath, rankEnds } from '../../src/webview/graph/bus-path';
import type { LayoutDirection } from '../../src/webview/graph/dagre-layout';
import { chooseDirection, estimateExtent, ranksOf } from '../../src/webview/graph/direction';
import { foldNotice, foldSteps } from '../../src/webview/graph/fold-to-fit';
import { layoutJob, nodeSizes } from '../../src/webview/graph/layout-job';
import { NODE_MAX_WIDTH, approxMeasure, fitText, labelRoom, nodeWidth } from '../../src/webview/graph/node-size';
import { BADGE_HEIGHT, NODE_HEIGHT, placeGraph, readingOrder } from '../../src/webview/graph/place-graph';
import { MAX_FIT_SCALE, READABLE_SCALE, centerTransform, clampPan, fitTransform, fitsAt, revealTransform } from '../../src/webview/graph/viewport-math';
import { findChains, foldChains } from '../../src/webview/graph-view/chains';
import { replayStream } from './helpers/streams';

/** A recorded run, laid out in Node exactly as the worker would. */
function placed(name: string, direction: LayoutDirection = 'LR') {
  const state = replayStream(name);
  const groups = groupGraph(state.graphs[0], state.layers);
  const view = buildViewGraph({ groups, layers: state.layers, terms: collectTerms(state), optimizer: state.optimizers[0] }, { expanded: new Set(), collapseRepeats: false });
  const job = layoutJob(view, nodeSizes(view, (n) => nodeWidth(n)), direction);
  const result = layoutGraph({ ...job.request, id: 1 });
  return { state, groups, view, job, result, graph: placeGraph(view, result, job.sizes, groups) };
}

describe('layoutJob', () => {
  it('leaves the bus edges out of the layout, makes room for badges, and keys on sizes and edges', () => {
    const { view, job } = placed('custom-loop-drops-penalty');
    expect(job.request.nodes).toHaveLength(view.nodes.length);
    expect(job.request.edges).toHaveLength(view.edges.filter((e) => !e.bus).length);
    for (const n of view.nodes) expect(job.sizes.get(n.id)![1]).toBe(NODE_HEIGHT + (n.badge ? BADGE_HEIGHT : 0));
    expect(layoutJob(view, nodeSizes(view, (n) => nodeWidth(n)), 'LR').key).toBe(job.key);
    expect(layoutJob(view, nodeSizes(view, (n) => nodeWidth(n) + 1), 'LR').key).not.toBe(job.key);
    expect(layoutJob(view, job.sizes, 'TB').key).not.toBe(job.key);
  });
});

describe('placeGraph', () => {
  it('draws each node as the top of its laid-out box, so the badge sits under it', () => {
    const { graph, result, job } = placed('custom-loop-drops-penalty');
    for (const n of graph.nodes) {
      const [, laidHeight] = job.sizes.get(n.id)!;
      expect(n.height).toBe(NODE_HEIGHT);
      expect(n.x).toBe(result.nodes[n.id].x);
      expect(n.y - n.height / 2).toBeCloseTo(result.nodes[n.id].y - laidHeight / 2, 9);
    }
  });

  it('puts the bus under everything (left to right) or right of it (top down), only when a penalty reaches the loss', () => {
    expect(placed('custom-loop-drops-penalty').graph.bus).toBeNull();
    const kept = placed('custom-loop-with-penalty');
    expect(kept.graph.bus).toBe(kept.result.height + 8);
    expect(kept.graph.bounds.height).toBe(kept.result.height + 8 + 24);
    for (const n of kept.graph.nodes) expect(n.y + n.height / 2).toBeLessThanOrEqual(kept.graph.bus!);
    const tall = placed('custom-loop-with-penalty', 'TB');
    expect(tall.graph.direction).toBe('TB');
    expect(tall.graph.bus).toBe(tall.result.width + 8);
    for (const n of tall.graph.nodes) expect(n.x + n.width / 2).toBeLessThanOrEqual(tall.graph.bus!);
    // Top down, the sink is the last rank: below every layer.
    const sink = tall.graph.nodes.find((n) => n.isSink)!;
    for (const n of tall.graph.nodes.filter((x) => x.kind === 'layer')) expect(n.y).toBeLessThan(sink.y);
  });

  it('orders nodes along the graph, then across it: the Tab order', () => {
    for (const d of ['LR', 'TB'] as const) {
      const { graph } = placed('fit-cnn-with-decay', d);
      const order = readingOrder(graph.nodes, d);
      const along = order.map((n) => Math.round(d === 'LR' ? n.x : n.y));
      for (let i = 1; i < along.length; i++) expect(along[i]).toBeGreaterThanOrEqual(along[i - 1]);
      expect(order[order.length - 1].isSink || order.some((n) => n.isSink)).toBe(true);
    }
  });

  it('labels the frame of an expanded group after its layer', () => {
    const state = replayStream('custom-loop-with-penalty');
    const groups = groupGraph(state.graphs[0], state.layers);
    const id = 'group:layer:dense_Dense2';
    const view = buildViewGraph({ groups, layers: state.layers, terms: collectTerms(state), optimizer: state.optimizers[0] }, { expanded: new Set([id]), collapseRepeats: false });
    const job = layoutJob(view, nodeSizes(view, (n) => nodeWidth(n)), 'LR');
    const graph = placeGraph(view, layoutGraph({ ...job.request, id: 1 }), job.sizes, groups);
    expect(graph.clusters.map((c) => [c.id, c.label])).toEqual([[id, 'dense_Dense2']]);
  });
});

describe('viewport math', () => {
  const bounds = { x: 0, y: 0, width: 2000, height: 200 };
  it('fits a graph that fits at a readable scale whole and centred, never above the maximum scale', () => {
    const t = fitTransform({ width: 2400, height: 500 }, bounds, READABLE_SCALE)!;
    expect(t.k).toBeCloseTo((2400 - 24) / 2000, 9);
    expect(t.x + (bounds.width * t.k) / 2).toBeCloseTo(1200, 9);
    expect(t.y + (bounds.height * t.k) / 2).toBeCloseTo(250, 9);
    expect(fitTransform({ width: 1000, height: 500 }, { x: 0, y: 0, width: 50, height: 20 }, READABLE_SCALE)!.k).toBe(MAX_FIT_SCALE);
  });
  it('never fits below the readable scale: a larger graph is shown around the minimized loss, edges kept in', () => {
    const sink = { x: 1950, y: 100 };
    const t = fitTransform({ width: 400, height: 500 }, bounds, READABLE_SCALE, sink)!;
    expect(t.k).toBe(READABLE_SCALE);
    // The sink is near the right end: the view stops at the graph's right edge, 12 px inside the box.
    expect(t.x + bounds.width * t.k).toBeCloseTo(400 - 12, 9);
    // A focus in the middle is centred.
    const mid = fitTransform({ width: 400, height: 500 }, bounds, READABLE_SCALE, { x: 1000, y: 100 })!;
    expect(mid.x + 1000 * mid.k).toBeCloseTo(200, 9);
    // Without a focus, the start of the graph.
    expect(fitTransform({ width: 400, height: 500 }, bounds, READABLE_SCALE)!.x).toBeCloseTo(12, 9);
  });
  it('pans only as far as the graph goes, and reveals a rectangle with the smallest pan', () => {
    const box = { width: 400, height: 500 };
    const t = { x: 12, y: 150, k: 1 };
    expect(clampPan({ ...t, x: 500 }, box, bounds).x).toBe(12);
    expect(clampPan({ ...t, x: -5000 }, box, bounds).x).toBe(400 - 12 - 2000);
    // The graph is shorter than the box: it stays where the fit put it.
    expect(clampPan({ ...t, y: -300 }, box, bounds).y).toBe(-300);
    expect(revealTransform(t, box, { x: 100, y: 0, width: 100, height: 40 })).toBeNull();
    const r = revealTransform(t, box, { x: 900, y: 0, width: 100, height: 40 })!;
    expect(r.x + 1000 * r.k).toBeCloseTo(400 - 12, 9);
    expect(r.y).toBe(t.y);
  });
  it('says whether a graph fits whole at a scale, its margins kept', () => {
    const bounds = { x: 0, y: 0, width: 976, height: 476 };
    expect(fitsAt({ width: 1000, height: 500 }, bounds, READABLE_SCALE)).toBe(true);
    expect(fitsAt({ width: 999, height: 500 }, bounds, READABLE_SCALE)).toBe(false);
    expect(fitsAt({ width: 1000, height: 499 }, bounds, READABLE_SCALE)).toBe(false);
    expect(fitTransform({ width: 1000, height: 500 }, bounds, READABLE_SCALE)!.k).toBeGreaterThanOrEqual(READABLE_SCALE);
  });

  it('is null for a box without size, and centres a point at a scale', () => {
    expect(fitTransform({ width: 0, height: 300 }, bounds, READABLE_SCALE)).toBeNull();
    const c = centerTransform({ width: 600, height: 400 }, { x: 100, y: 50 }, 2);
    expect([c.x + 100 * c.k, c.y + 50 * c.k]).toEqual([300, 200]);
  });
});

describe('search', () => {
  it('matches names case-insensitively, and collapsed layers by the ops inside them', () => {
    const { graph, groups } = placed('custom-loop-drops-penalty');
    expect(matchNodes(graph.nodes, '  ', groups)).toBeNull();
    expect([...matchNodes(graph.nodes, 'DENSE_dense3', groups)!].sort()).toEqual(['group:layer:dense_Dense3', 'group:term:penalty:dense_Dense3/kernel']);
    const matmul = matchNodes(graph.nodes, 'matmul', groups)!;
    expect([...matmul].every((id) => id.startsWith('group:layer:'))).toBe(true);
    expect(matmul.size).toBe(3);
    const order = matchOrder(graph.nodes, matmul);
    for (let i = 1; i < order.length; i++) expect(order[i].x).toBeGreaterThanOrEqual(order[i - 1].x);
  });
  it('finds the node that shows a layer or a term', () => {
    const { graph } = placed('custom-loop-drops-penalty');
    expect(findTarget(graph.nodes, { kind: 'layer', layer: 'dense_Dense2' })?.id).toBe('group:layer:dense_Dense2');
    expect(findTarget(graph.nodes, { kind: 'term', termId: 'penalty:dense_Dense2/kernel' })?.id).toBe('group:term:penalty:dense_Dense2/kernel');
    expect(findTarget(graph.nodes, { kind: 'layer', layer: 'no-such-layer' })).toBeUndefined();
  });
});

describe('hover card', () => {
  const box = { left: 100, top: 50, right: 700, width: 600, height: 400 };
  it('goes beside the node, never over it where there is room, and stays inside the drawing', () => {
    // Right of it, top-aligned.
    expect(cardPosition(box, { left: 200, top: 100, right: 300, width: 100, height: 40 }, { width: 200, height: 100 })).toEqual({ left: 208, top: 50 });
    // No room on the right: left of it; near the bottom, pushed up to 4 px from it.
    expect(cardPosition(box, { left: 600, top: 420, right: 690, width: 90, height: 40 }, { width: 200, height: 100 })).toEqual({ left: 292, top: 296 });
    // A card wider than either side: under the node.
    const wide = { width: 450, height: 100 };
    const p = cardPosition(box, { left: 350, top: 100, right: 450, width: 100, height: 40 }, wide);
    expect(p.top).toBe(100 - 50 + 40 + 8);
    expect(p.left + wide.width).toBeLessThanOrEqual(box.width - 4);
  });
  it('says what a click and a double-click do', () => {
    const { graph } = placed('custom-loop-drops-penalty');
    const layer = graph.nodes.find((n) => n.kind === 'layer')!;
    expect(hoverHint(layer)).toBe('click or Enter: open its source line · double-click or Space: expand');
    expect(hoverHint({ ...layer, source: null, expandable: false, parent: 'g' })).toBe('click: select · double-click or Space: collapse');
  });
});

describe('node sizes and labels', () => {
  it('a node is as wide as its text, so a label fits uncut up to the widest node', () => {
    const { view } = placed('fit-cnn-with-decay');
    for (const n of view.nodes) {
      const w = nodeWidth(n);
      if (w < NODE_MAX_WIDTH) expect(fitText(n.label, labelRoom(w), 'label')).toBe(n.label);
    }
    const long = { ...view.nodes[0], label: 'x'.repeat(200) };
    expect(nodeWidth(long)).toBe(NODE_MAX_WIDTH);
    const cut = fitText(long.label, labelRoom(NODE_MAX_WIDTH), 'label');
    expect(cut.endsWith('…')).toBe(true);
    expect(approxMeasure.width(cut, 'label')).toBeLessThanOrEqual(labelRoom(NODE_MAX_WIDTH));
    expect(approxMeasure.width(`${long.label.slice(0, cut.length)}…`, 'label')).toBeGreaterThan(labelRoom(NODE_MAX_WIDTH));
  });
});

describe('direction', () => {
  it('ranks follow the edges, and a chain is long along the graph', () => {
    const { view } = placed('fit-cnn-with-decay');
    const ranks = ranksOf(view);
    for (const e of view.edges.filter((x) => !x.bus)) expect(ranks.get(e.to)!).toBeGreaterThan(ranks.get(e.from)!);
    const ext = estimateExtent(view, nodeSizes(view, (n) => nodeWidth(n)));
    expect(ext.LR.width).toBeGreaterThan(ext.LR.height);
    expect(ext.TB.height).toBeGreaterThan(ext.TB.width);
  });
  it('a tall narrow panel gets the chain top down, a wide one left to right', () => {
    const { view } = placed('fit-cnn-with-decay');
    const sizes = nodeSizes(view, (n) => nodeWidth(n));
    expect(chooseDirection(view, sizes, { width: 700, height: 1000 })).toBe('TB');
    expect(chooseDirection(view, sizes, { width: 1800, height: 500 })).toBe('LR');
    expect(chooseDirection(view, sizes, { width: 0, height: 0 })).toBe('LR');
  });
});

describe('fold to fit', () => {
  const ctxOf = (name: string) => {
    const state = replayStream(name);
    return { groups: groupGraph(state.graphs[0], state.layers), layers: state.layers, terms: collectTerms(state), optimizer: state.optimizers[0] };
  };
  it('never folds a model of fewer than 8 layers: the three-layer example has one step, nothing folded', () => {
    const ctx = ctxOf('custom-loop-drops-penalty');
    const build = (repeats: boolean) => buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: repeats });
    expect(build(false).nodes.filter((n) => n.kind === 'layer')).toHaveLength(3);
    expect(foldSteps(build, false, true, new Set())).toEqual([{ repeats: false, chains: [] }]);
  });

  it('steps from nothing folded to the repeated blocks, then one more chain each step, longest first', () => {
    const ctx = ctxOf('fit-cnn-with-decay');
    const build = (repeats: boolean) => buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: repeats });
    const steps = foldSteps(build, false, true, new Set());
    expect(steps[0]).toEqual({ repeats: false, chains: [] });
    expect(steps[1]).toEqual({ repeats: true, chains: [] });
    for (let i = 2; i < steps.length; i++) {
      expect(steps[i].repeats).toBe(true);
      expect(steps[i].chains).toHaveLength(i - 1);
      expect(steps[i].chains.slice(0, -1)).toEqual(steps[i - 1].chains);
    }
    // Repeated blocks the user chose not to fold stay unfolded; a chain the user unfolded stays unfolded.
    expect(foldSteps(build, false, false, new Set()).every((s) => !s.repeats)).toBe(true);
    const deep = ctxOf('deep-residual');
    const deepBuild = (repeats: boolean) => buildViewGraph(deep, { expanded: new Set(), collapseRepeats: repeats });
    const all = foldSteps(deepBuild, true, true, new Set());
    expect(all.length).toBeGreaterThan(1);
    // The last step runs its chains through the residual blocks too: it folds the most.
    expect(all[all.length - 1].chains).toEqual(findChains(deepBuild(true), { regions: true }));
    const first = all[1].chains[0];
    expect(foldSteps(deepBuild, true, true, new Set([first.id])).some((s) => s.chains.some((c) => c.id === first.id))).toBe(false);
  });

  it('each step draws fewer nodes, and the notice names what the step folded', () => {
    const deep = ctxOf('deep-residual');
    const build = (repeats: boolean) => buildViewGraph(deep, { expanded: new Set(), collapseRepeats: repeats });
    const steps = foldSteps(build, true, true, new Set());
    const area = steps.map((step) => {
      const view = foldChains(build(step.repeats), step.chains);
      return { nodes: view.nodes.length, view, step };
    });
    for (let i = 1; i < area.length; i++) expect(area[i].nodes).toBeLessThan(area[i - 1].nodes);
    expect(foldNotice(steps[0], true, area[0].view)).toBeNull();
    const last = area[area.length - 1];
    const note = foldNotice(last.step, true, last.view)!;
    for (const c of last.step.chains) expect(note).toContain(`${c.layers.length} layers, ${c.layers[0]} … ${c.layers[c.layers.length - 1]}, into one node`);
    expect(note).toMatch(/Click a folded node, or press Enter on it, to unfold it\.$/);
    // Repeated blocks folded by a fit are named too; folded by the user's choice they are not news.
    const cnn = ctxOf('fit-cnn-with-decay');
    const blocks = buildViewGraph(cnn, { expanded: new Set(), collapseRepeats: true });
    expect(foldNotice({ repeats: true, chains: [] }, false, blocks)).toBe('Folded to fit the panel: 1 repeated block (4 layers). Click a folded node, or press Enter on it, to unfold it.');
    expect(foldNotice({ repeats: true, chains: [] }, true, blocks)).toBeNull();
  });
});

describe('bus paths', () => {
  it('leave the penalty along the graph, turn in the gap after its rank, and end under (LR) or beside (TB) the sink', () => {
    for (const d of ['LR', 'TB'] as const) {
      const { graph } = placed('custom-loop-with-penalty', d);
      const sink = graph.nodes.find((n) => n.isSink)!;
      const ends = rankEnds(graph.nodes, d);
      for (const e of graph.edges.filter((x) => x.bus)) {
        const from = graph.nodes.find((n) => n.id === e.from)!;
        const pts = busPath(from, sink, graph.bus!, d, ends)
          .slice(1)
          .split('L')
          .map((p) => p.split(',').map(Number));
        expect(pts).toHaveLength(5);
        if (d === 'LR') {
          expect(pts[0]).toEqual([from.x + from.width / 2, from.y]);
          expect(pts[2][1]).toBe(graph.bus);
          expect(pts[4]).toEqual([sink.x, sink.y + sink.height / 2 + 2]);
        } else {
          expect(pts[0]).toEqual([from.x, from.y + from.height / 2]);
          expect(pts[2][0]).toBe(graph.bus);
          expect(pts[4]).toEqual([sink.x + sink.width / 2 + 2, sink.y]);
        }
        // The turn is past every node of the penalty's rank.
        expect(pts[1][d === 'LR' ? 0 : 1]).toBeGreaterThan(d === 'LR' ? from.x + from.width / 2 : from.y + from.height / 2);
      }
      const at = busLabelAt(sink, graph.bus!, d);
      expect(at.x).toBeLessThanOrEqual(graph.bounds.width);
      expect(at.y).toBeLessThanOrEqual(graph.bounds.height);
    }
  });
});
