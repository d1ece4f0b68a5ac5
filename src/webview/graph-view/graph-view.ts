import type { GraphEdge, NodeRole } from '../../shared/protocol/run-data';
import type { LayerBlock } from './blocks';
import { DATA_LOSS_GROUP, LOSS_GROUP, layerGroupId, type GraphGroups } from './graph-groups';
import { blockTermsUnit, buildViewIndex, type ViewContext, type ViewIndex, type ViewOptions } from './view-index';
import { blockNode, blockTermsNode, groupNode, tapeNode } from './view-nodes';
import type { ViewEdge, ViewGraph, ViewNode } from './view-types';

/**
 * The drawable loss graph for one set of view choices: which groups are expanded to their ops and
 * whether repeated blocks of layers fold into one node. Pure; the webview lays it out and draws it.
 */
export function buildViewGraph(ctx: ViewContext, options: ViewOptions): ViewGraph {
  const ix = buildViewIndex(ctx, options);
  const nodes = viewNodes(ix);
  const edges = viewEdges(ix, nodes);
  return { nodes: [...nodes.values()], edges: [...edges.values()], sink: ix.sinkUnit, blocks: ix.blocks };
}

/** One node per drawn unit, in tape order; a folded block's penalties become one node per verdict. */
function viewNodes(ix: ViewIndex): Map<string, ViewNode> {
  const { groups } = ix.ctx;
  const nodes = new Map<string, ViewNode>();
  for (const node of groups.graph.nodes) {
    const unit = ix.unitOf(node.id);
    if (nodes.has(unit)) continue;
    const g = ix.groupOfNode(node.id);
    if (unit === node.id) nodes.set(unit, tapeNode(ix, node, g));
    else if (groups.groups.has(unit)) nodes.set(unit, groupNode(ix, unit, groups.groups.get(unit)!));
    else if (ix.blockById.has(unit)) nodes.set(unit, blockNode(ix, ix.blockById.get(unit)!));
  }
  const blockTerms = new Map<string, { block: LayerBlock; reaches: boolean; termIds: string[] }>();
  for (const g of groups.groups.values()) {
    const block = g.kind === 'term' && g.layer ? ix.blockOfLayer.get(g.layer) : undefined;
    if (!block) continue;
    const reaches = ix.termReaches(g.termId);
    const unit = blockTermsUnit(block.id, reaches);
    const entry = blockTerms.get(unit) ?? { block, reaches, termIds: [] };
    entry.termIds.push(g.termId!);
    blockTerms.set(unit, entry);
  }
  for (const [unit, { block, reaches, termIds }] of blockTerms) nodes.set(unit, blockTermsNode(ix, unit, block, reaches, termIds));
  return nodes;
}

function edgeRole(from: NodeRole, to: NodeRole): NodeRole {
  if (from === 'regularization' || to === 'regularization') return 'regularization';
  return from === 'data' && to === 'data' ? 'data' : 'mixed';
}

/** Tape edges between drawn units, merged per pair; penalties flowing into the minimized loss ride the bus. */
function viewEdges(ix: ViewIndex, nodes: Map<string, ViewNode>): Map<string, ViewEdge> {
  const { groups } = ix.ctx;
  const sinkUnits = new Set<string>([ix.sinkUnit]);
  for (const m of groups.groups.get(groups.sinkGroup)?.members ?? []) sinkUnits.add(ix.unitOf(m));
  const isPenalty = (e: GraphEdge, fromNode: ViewNode) =>
    fromNode.kind === 'term' ||
    fromNode.kind === 'block-terms' ||
    (groups.nodes.get(e.from)!.role === 'regularization' && ix.groupOfNode(e.from).kind === 'term');

  const edges = new Map<string, ViewEdge>();
  for (const e of groups.graph.edges) {
    const from = ix.unitOf(e.from);
    const to = ix.unitOf(e.to);
    if (from === to) continue;
    const key = `${from}->${to}`;
    const existing = edges.get(key);
    if (existing) {
      existing.count++;
      continue;
    }
    const src = groups.nodes.get(e.from)!;
    const dst = groups.nodes.get(e.to)!;
    edges.set(key, {
      id: key,
      from,
      to,
      shape: e.shape,
      count: 1,
      role: edgeRole(src.role, dst.role),
      reaches: src.reachesMinimizedLoss && dst.reachesMinimizedLoss,
      bus: sinkUnits.has(to) && isPenalty(e, nodes.get(from)!),
    });
  }
  return edges;
}

/** Every group id (and block id) that can be expanded in this graph: what "expand all" sets. */
export function expandableIds(groups: GraphGroups, blocks: LayerBlock[]): string[] {
  return [...groups.groups.keys(), ...blocks.map((b) => b.id)];
}

export type { ViewContext, ViewOptions } from './view-index';
export { DECAY_TEXT, NOT_IN_LOSS_BADGE, type ViewEdge, type ViewGraph, type ViewNode, type ViewNodeKind } from './view-types';
export { DATA_LOSS_GROUP, LOSS_GROUP, layerGroupId };
