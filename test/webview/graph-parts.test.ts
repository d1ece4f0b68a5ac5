import { describe, expect, it } from 'vitest';
import { collectTerms } from '../../src/shared/analysis/terms';
import { groupGraph } from '../../src/shared/graph-view/graph-groups';
import { buildViewGraph } from '../../src/shared/graph-view/graph-view';
import { layoutGraph } from '../../src/webview/graph/dagre-layout';
import { findTarget, matchNodes, matchOrder } from '../../src/webview/graph/graph-search';
import { cardPosition, hoverHint } from '../../src/webview/graph/hover-card';
import { layoutJob } from '../../src/webview/graph/layout-job';
import { BADGE_HEIGHT, NODE_HEIGHT, placeGraph } from '../../src/webview/graph/place-graph';
import { nodeWidth } from '../../src/webview/graph/render-graph';
import { MAX_FIT_SCALE, centerTransform, fitTransform } from '../../src/webview/graph/viewport-math';
import { replayStream } from './helpers/streams';

/** A recorded run, laid out in Node exactly as the worker would. */
function placed(name: string) {
  const state = replayStream(name);
  const groups = groupGraph(state.graphs[0], state.layers);
  const view = buildViewGraph({ groups, layers: state.layers, terms: collectTerms(state), optimizer: state.optimizers[0] }, { expanded: new Set(), collapseRepeats: false });
  const job = layoutJob(view, nodeWidth);
  const result = layoutGraph({ ...job.request, id: 1 });
  return { state, groups, view, job, result, graph: placeGraph(view, result, job.sizes, groups) };
}

describe('layoutJob', () => {
  it('leaves the bus edges out of the layout, makes room for badges, and keys on sizes and edges', () => {
    const { view, job } = placed('custom-loop-drops-penalty');
    expect(job.request.nodes).toHaveLength(view.nodes.length);
    expect(job.request.edges).toHaveLength(view.edges.filter((e) => !e.bus).length);
    for (const n of view.nodes) expect(job.sizes.get(n.id)![1]).toBe(NODE_HEIGHT + (n.badge ? BADGE_HEIGHT : 0));
    expect(layoutJob(view, nodeWidth).key).toBe(job.key);
    expect(layoutJob(view, (n) => nodeWidth(n) + 1).key).not.toBe(job.key);
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

  it('puts the bus under everything only when a penalty reaches the loss', () => {
    const dropped = placed('custom-loop-drops-penalty');
    expect(dropped.graph.busY).toBeNull();
    const kept = placed('custom-loop-with-penalty');
    expect(kept.graph.busY).toBe(kept.result.height + 8);
    expect(kept.graph.bounds.height).toBe(kept.result.height + 8 + 24);
    for (const n of kept.graph.nodes) expect(n.y + n.height / 2).toBeLessThanOrEqual(kept.graph.busY!);
  });

  it('labels the frame of an expanded group after its layer', () => {
    const state = replayStream('custom-loop-with-penalty');
    const groups = groupGraph(state.graphs[0], state.layers);
    const id = 'group:layer:dense_Dense2';
    const view = buildViewGraph({ groups, layers: state.layers, terms: collectTerms(state), optimizer: state.optimizers[0] }, { expanded: new Set([id]), collapseRepeats: false });
    const job = layoutJob(view, nodeWidth);
    const graph = placeGraph(view, layoutGraph({ ...job.request, id: 1 }), job.sizes, groups);
    expect(graph.clusters.map((c) => [c.id, c.label])).toEqual([[id, 'dense_Dense2']]);
  });
});

describe('fitTransform and centerTransform', () => {
  const bounds = { x: 0, y: 0, width: 2000, height: 200 };
  it('fits the whole graph, centred, never above the maximum scale', () => {
    const t = fitTransform({ width: 1000, height: 500 }, bounds, false)!;
    expect(t.k).toBeCloseTo((1000 - 24) / 2000, 9);
    expect(t.x + (bounds.width * t.k) / 2).toBeCloseTo(500, 9);
    expect(t.y + (bounds.height * t.k) / 2).toBeCloseTo(250, 9);
    expect(fitTransform({ width: 1000, height: 500 }, { x: 0, y: 0, width: 50, height: 20 }, false)!.k).toBe(MAX_FIT_SCALE);
  });
  it('the readable fit keeps a readable scale and shows the end of the graph', () => {
    const t = fitTransform({ width: 400, height: 500 }, bounds, true)!;
    expect(t.k).toBe(0.5);
    // The right edge of the graph (the minimized loss) is 12 px inside the right edge of the box.
    expect(t.x + bounds.width * t.k).toBeCloseTo(400 - 12, 9);
  });
  it('is null for a box without size, and centres a point at a scale', () => {
    expect(fitTransform({ width: 0, height: 300 }, bounds, true)).toBeNull();
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
  it('goes right of the node, and stays inside the drawing', () => {
    expect(cardPosition(box, { left: 200, top: 100, right: 300, width: 100, height: 40 }, { width: 200, height: 100 })).toEqual({ left: 208, top: 50 });
    // Near the right and bottom edges it is pushed back in, 4 px from them.
    expect(cardPosition(box, { left: 600, top: 420, right: 690, width: 90, height: 40 }, { width: 200, height: 100 })).toEqual({ left: 396, top: 296 });
  });
  it('says what a click and a double-click do', () => {
    const { graph } = placed('custom-loop-drops-penalty');
    const layer = graph.nodes.find((n) => n.kind === 'layer')!;
    expect(hoverHint(layer)).toBe('click: reveal source · double-click: expand');
    expect(hoverHint({ ...layer, source: null, expandable: false, parent: 'g' })).toBe('click: select · double-click: collapse');
  });
});
