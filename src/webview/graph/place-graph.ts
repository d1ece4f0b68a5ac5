import type { GraphGroups } from '../../shared/graph-view/graph-groups';
import type { ViewEdge, ViewGraph, ViewNode } from '../../shared/graph-view/graph-view';
import type { LaidOutEdge, LayoutResult } from './dagre-layout';

/** A node with its box: x/y are the centre, as dagre gives them. */
export interface PlacedNode extends ViewNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge extends ViewEdge {
  path: LaidOutEdge | null;
}

export interface PlacedCluster {
  id: string;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedGraph {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  clusters: PlacedCluster[];
  /** y of the regularization bus under everything; null when no penalty reaches the loss. */
  busY: number | null;
  bounds: Bounds;
}

export const NODE_HEIGHT = 40;
/** Room under a node for its badge; part of the node's box for the layout, so badges never overlap. */
export const BADGE_HEIGHT = 20;

/** The frame title of an expanded group. */
export function clusterLabel(groups: GraphGroups, id: string): string {
  const g = groups.groups.get(id);
  if (g?.kind === 'layer') return g.layer!;
  if (g?.kind === 'term') return `penalty ${g.termId}`;
  return g?.kind === 'data-loss' ? 'data loss' : 'minimized loss';
}

/**
 * A view graph at the positions a layout gave it: node boxes (the drawn box is the top part of the laid-out
 * one, the badge sits under it), group frames, edge routes, and the bus the penalties drop onto. Pure.
 */
export function placeGraph(view: ViewGraph, result: LayoutResult, sizes: ReadonlyMap<string, readonly [number, number]>, groups: GraphGroups): PlacedGraph {
  const nodes: PlacedNode[] = view.nodes.map((n) => {
    const [width, height] = sizes.get(n.id)!;
    const c = result.nodes[n.id] ?? { x: 0, y: 0 };
    return { ...n, x: c.x, y: c.y - (height - NODE_HEIGHT) / 2, width, height: NODE_HEIGHT };
  });
  const clusters: PlacedCluster[] = Object.entries(result.clusters).map(([id, box]) => ({ id, label: clusterLabel(groups, id), ...box }));
  const busY = view.edges.some((e) => e.bus) ? result.height + 8 : null;
  const edges = view.edges.map((e) => ({ ...e, path: result.edges[e.id] ?? null }));
  const bounds = { x: 0, y: 0, width: Math.max(result.width, 100), height: (busY ?? result.height) + 24 };
  return { nodes, edges, clusters, busY, bounds };
}
