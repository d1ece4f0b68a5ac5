import type { GraphGroups } from '../graph-view/graph-groups';
import type { ViewEdge, ViewGraph, ViewNode } from '../graph-view/graph-view';
import type { LaidOutEdge, LayoutDirection, LayoutResult } from './dagre-layout';

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
  direction: LayoutDirection;
  /**
   * Where the regularization bus runs (bus-path.ts): y under everything when the graph runs left to right,
   * x right of everything when it runs top down; null when no penalty reaches the loss.
   */
  bus: number | null;
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
  const lr = result.direction === 'LR';
  const bus = view.edges.some((e) => e.bus) ? (lr ? result.height : result.width) + 8 : null;
  const edges = view.edges.map((e) => ({ ...e, path: result.edges[e.id] ?? null }));
  // Room for the bus and its caption: beyond the bus along y (LR), or under the sink (TB).
  const bounds = lr
    ? { x: 0, y: 0, width: Math.max(result.width, 100), height: (bus ?? result.height) + 24 }
    : { x: 0, y: 0, width: Math.max((bus ?? result.width) + 8, 100), height: result.height + 24 };
  return { nodes, edges, clusters, direction: result.direction, bus, bounds };
}

/** The nodes in reading order: along the graph, then across it. Tab follows the DOM, so the DOM follows this. */
export function readingOrder(nodes: readonly PlacedNode[], direction: LayoutDirection): PlacedNode[] {
  // dagre centres each rank on one line, so the centre says which rank a node is in.
  const along = (n: PlacedNode) => (direction === 'LR' ? n.x : n.y);
  const across = (n: PlacedNode) => (direction === 'LR' ? n.y : n.x);
  return [...nodes].sort((a, b) => Math.round(along(a) - along(b)) || across(a) - across(b));
}
