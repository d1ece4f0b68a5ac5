import { describe, expect, it } from 'vitest';
import { formatFactor } from '../../src/shared/format';
import { collectTerms } from '../../src/shared/analysis/terms';
import { findRepeatedBlocks } from '../../src/webview/graph-view/blocks';
import { chainSpan, findChains, foldChains, isChainId } from '../../src/webview/graph-view/chains';
import { LOSS_GROUP, groupGraph, layerGroupId } from '../../src/webview/graph-view/graph-groups';
import { NOT_IN_LOSS_BADGE, buildViewGraph, expandableIds } from '../../src/webview/graph-view/graph-view';
import type { RunState } from '../../src/shared/model/run-state';
import { replayStream } from './helpers/streams';

function context(state: RunState) {
  const graph = state.graphs[0];
  return { groups: groupGraph(graph, state.layers), layers: state.layers, terms: collectTerms(state), optimizer: state.optimizers[0] };
}

/** Layers the captured graph touches: op.layer for ops, the owning layer (from LayerInfo) for variables. */
function layersInGraph(state: RunState): Set<string> {
  const owner = new Map(state.layers.flatMap((l) => l.weights.map((w) => [w.id, l.name] as const)));
  const out = new Set<string>();
  for (const n of state.graphs[0].nodes) {
    if (n.kind === 'variable') out.add(owner.get(n.weight!)!);
    else if (n.kind === 'op' && n.layer && n.role !== 'regularization') out.add(n.layer);
  }
  return out;
}

describe('loss graph view', () => {
  for (const name of ['custom-loop-drops-penalty', 'custom-loop-with-penalty', 'fit-cnn-with-decay', 'deep-residual']) {
    it(`${name}: layer level is one node per layer, one per penalty, and the loss nodes`, () => {
      const state = replayStream(name);
      const ctx = context(state);
      const view = buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: false });
      const penalties = state.graphs[0].terms.filter((t) => t.collection === 'regularization').length;
      const hasSeparateDataLoss = state.graphs[0].dataNodeId !== state.graphs[0].minimizedNodeId;
      expect(view.nodes.filter((n) => n.kind === 'layer').map((n) => n.label).sort()).toEqual([...layersInGraph(state)].sort());
      expect(view.nodes.filter((n) => n.kind === 'term')).toHaveLength(penalties);
      expect(view.nodes.filter((n) => n.kind === 'loss')).toHaveLength(1);
      expect(view.nodes.filter((n) => n.kind === 'data-loss')).toHaveLength(hasSeparateDataLoss ? 1 : 0);
      expect(view.nodes).toHaveLength(layersInGraph(state).size + penalties + 1 + (hasSeparateDataLoss ? 1 : 0));
      expect(view.nodes.find((n) => n.isSink)?.kind).toBe('loss');
      // Expanding everything shows every op and variable of the tape.
      const all = buildViewGraph(ctx, { expanded: new Set(expandableIds(ctx.groups, [])), collapseRepeats: false });
      expect(all.nodes).toHaveLength(state.graphs[0].nodes.length);
      // Edges keep tensor shapes from the tape.
      const shapes = new Set(state.graphs[0].edges.map((e) => e.shape.join('x')));
      for (const e of all.edges) expect(shapes.has(e.shape.join('x'))).toBe(true);
    });
  }

  it('expanding one layer replaces it with exactly its ops and variables', () => {
    const state = replayStream('custom-loop-with-penalty');
    const ctx = context(state);
    const collapsed = buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: false });
    const id = layerGroupId('dense_Dense2');
    const members = ctx.groups.groups.get(id)!.members;
    const expanded = buildViewGraph(ctx, { expanded: new Set([id]), collapseRepeats: false });
    expect(expanded.nodes).toHaveLength(collapsed.nodes.length - 1 + members.length);
    expect(expanded.nodes.filter((n) => n.parent === id).map((n) => n.id).sort()).toEqual([...members].sort());
  });

  it('penalties that never reach the minimized loss are detached, flagged, and not on the bus', () => {
    const state = replayStream('custom-loop-drops-penalty');
    const view = buildViewGraph(context(state), { expanded: new Set(), collapseRepeats: false });
    const terms = view.nodes.filter((n) => n.kind === 'term');
    expect(terms).toHaveLength(3);
    for (const t of terms) {
      expect(t.reaches).toBe(false);
      expect(t.badge).toBe(NOT_IN_LOSS_BADGE);
      expect(view.edges.some((e) => e.from === t.id)).toBe(false);
    }
    for (const l of view.nodes.filter((n) => n.kind === 'layer')) expect(l.decay).toBe('dropped');
  });

  it('penalties that reach it flow into the sink along the bus', () => {
    const state = replayStream('custom-loop-with-penalty');
    const view = buildViewGraph(context(state), { expanded: new Set(), collapseRepeats: false });
    const terms = view.nodes.filter((n) => n.kind === 'term');
    for (const t of terms) {
      expect(t.reaches).toBe(true);
      expect(t.badge).toBeNull();
      expect(view.edges.filter((e) => e.from === t.id && e.bus && e.to === view.sink)).toHaveLength(1);
    }
    expect(view.sink).toBe(LOSS_GROUP);
  });

  it('hover details carry shapes, regularizer, decayPerStep and the value', () => {
    const state = replayStream('custom-loop-with-penalty');
    const view = buildViewGraph(context(state), { expanded: new Set(), collapseRepeats: false });
    const term = view.nodes.find((n) => n.kind === 'term' && n.layer === 'dense_Dense1')!;
    const rows = Object.fromEntries(term.details);
    const lr = state.optimizers[0].config.learningRate as number;
    expect(rows.regularizer).toBe('L2 1e-3');
    expect(rows.decayPerStep).toBe(`×${formatFactor(1 - 2 * lr * 1e-3)}`);
    expect(rows.weight).toBe('dense_Dense1/kernel (32×64)');
    const last = state.series[0].terms['penalty:dense_Dense1/kernel'].at(-1)!;
    expect(Number(rows.value)).toBeCloseTo(last, 3);
    const layer = view.nodes.find((n) => n.kind === 'layer' && n.label === 'dense_Dense1')!;
    expect(Object.fromEntries(layer.details)['weight kernel']).toBe('32×64 · L2 1e-3');
    expect(layer.source?.line).toBeGreaterThan(0);
  });

  it('folding repeated blocks keeps every layer exactly once and never mixes verdicts', () => {
    const state = replayStream('deep-residual');
    const ctx = context(state);
    const blocks = findRepeatedBlocks(ctx.groups, state.layers, ctx.terms);
    expect(blocks.length).toBeGreaterThan(0);
    const covered = blocks.flatMap((b) => b.layers);
    expect(new Set(covered).size).toBe(covered.length);
    for (const b of blocks) expect(b.layers).toHaveLength(b.pattern.length * b.repeats);
    const folded = buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: true });
    const flat = buildViewGraph(ctx, { expanded: new Set(), collapseRepeats: false });
    const blockNodes = folded.nodes.filter((n) => n.kind === 'block');
    expect(blockNodes).toHaveLength(blocks.length);
    const layerNodes = folded.nodes.filter((n) => n.kind === 'layer');
    expect(layerNodes.length + covered.length).toBe(flat.nodes.filter((n) => n.kind === 'layer').length);
    for (const bt of folded.nodes.filter((n) => n.kind === 'block-terms')) expect(bt.reaches).toBe(bt.id.endsWith(':in'));
    // Expanding a block brings its layers back.
    const one = buildViewGraph(ctx, { expanded: new Set([blocks[0].id]), collapseRepeats: true });
    expect(one.nodes.filter((n) => n.kind === 'layer')).toHaveLength(layerNodes.length + blocks[0].layers.length);
  });

  it('folds chains of layers into one node each, longest first, keeping every layer once and each verdict apart', () => {
    const state = replayStream('deep-residual');
    const view = buildViewGraph(context(state), { expanded: new Set(), collapseRepeats: true });
    const chains = findChains(view);
    expect(chains.length).toBeGreaterThan(0);
    for (let i = 1; i < chains.length; i++) expect(chains[i - 1].layers.length).toBeGreaterThanOrEqual(chains[i].layers.length);
    // A chain is a path: each member hands on to the next, and no member is in two chains.
    const members = chains.flatMap((c) => c.members);
    expect(new Set(members).size).toBe(members.length);
    for (const c of chains) {
      expect(c.members.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < c.members.length; i++) expect(view.edges.some((e) => e.from === c.members[i - 1] && e.to === c.members[i])).toBe(true);
    }
    const folded = foldChains(view, chains);
    const layersOf = (v: typeof view) =>
      v.nodes.flatMap((n) => (n.kind === 'layer' ? [n.layer] : n.kind === 'block' ? v.blocks.find((b) => b.id === n.id)!.layers : []));
    const chainLayers = chains.flatMap((c) => c.layers);
    expect([...layersOf(folded), ...chainLayers].sort()).toEqual(layersOf(view).sort());
    for (const c of chains) {
      const node = folded.nodes.find((n) => n.id === c.id)!;
      expect(node.kind).toBe('chain');
      expect(isChainId(node.id)).toBe(true);
      expect(node.label).toBe(`${c.layers.length} layers: ${chainSpan(c)}`);
    }
    // Every edge joins drawn nodes; the penalties folded with a chain keep their count and their verdict.
    const ids = new Set(folded.nodes.map((n) => n.id));
    for (const e of folded.edges) expect(ids.has(e.from) && ids.has(e.to)).toBe(true);
    const penalties = (v: typeof view, reaches: boolean) =>
      v.nodes
        .filter((n) => (n.kind === 'term' || n.kind === 'block-terms') && n.reaches === reaches)
        .reduce((sum, n) => sum + (n.kind === 'term' ? 1 : Number(Object.fromEntries(n.details).penalties)), 0);
    for (const reaches of [true, false]) expect(penalties(folded, reaches)).toBe(penalties(view, reaches));
    expect(folded.nodes.length).toBeLessThan(view.nodes.length);
    // Folding nothing is the view itself.
    expect(foldChains(view, [])).toBe(view);
    // Through residual blocks (the data forks and meets again, nothing else in or out), one chain holds the whole model.
    const wide = findChains(view, { regions: true });
    expect(wide).toHaveLength(1);
    expect([...wide[0].layers].sort()).toEqual(layersOf(view).sort());
    expect(chainSpan(wide[0])).toBe(`${state.layers[0].name} … ${state.layers[state.layers.length - 1].name}`);
    const whole = foldChains(view, wide);
    expect(whole.nodes.filter((n) => n.kind === 'layer' || n.kind === 'block')).toEqual([]);
    for (const reaches of [true, false]) expect(penalties(whole, reaches)).toBe(penalties(view, reaches));
    // Without regions no chain runs through a fork.
    for (const c of chains) for (const m of c.members.slice(0, -1)) expect(view.edges.filter((e) => e.from === m && !e.bus && c.members.includes(e.to)).length).toBe(1);
  });
});
