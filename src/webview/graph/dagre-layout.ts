import { Graph, layout } from '@dagrejs/dagre';

/** A layout job, plain data so it can cross to the worker by structured clone. */
export interface LayoutRequest {
  id: number;
  nodes: Array<{ id: string; width: number; height: number }>;
  edges: Array<{ id: string; from: string; to: string; labelWidth: number; labelHeight: number }>;
}

export interface LaidOutEdge {
  points: Array<[number, number]>;
  labelX: number;
  labelY: number;
}

export interface LayoutResult {
  id: number;
  /** Node centres. */
  nodes: Record<string, { x: number; y: number }>;
  edges: Record<string, LaidOutEdge>;
  width: number;
  height: number;
  ms: number;
}

/**
 * Sugiyama layering with dagre, left to right so the data flows towards the minimized loss at the
 * right. Edge labels (tensor shapes) are laid out as dummy nodes, so they never overlap nodes.
 */
export function layoutGraph(req: LayoutRequest): LayoutResult {
  const t0 = performance.now();
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 36, edgesep: 8, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of req.nodes) g.setNode(n.id, { width: n.width, height: n.height });
  for (const e of req.edges) {
    g.setEdge(e.from, e.to, { width: e.labelWidth, height: e.labelHeight, labelpos: 'c' }, e.id);
  }
  layout(g);
  const nodes: LayoutResult['nodes'] = {};
  for (const id of g.nodes()) {
    const n = g.node(id);
    nodes[id] = { x: n.x, y: n.y };
  }
  const edges: LayoutResult['edges'] = {};
  for (const ref of g.edges()) {
    const e = g.edge(ref) as { points?: Array<{ x: number; y: number }>; x?: number; y?: number };
    const points = (e.points ?? []).map((p): [number, number] => [p.x, p.y]);
    edges[ref.name!] = { points, labelX: e.x ?? points[0]?.[0] ?? 0, labelY: e.y ?? points[0]?.[1] ?? 0 };
  }
  const graph = g.graph() as { width?: number; height?: number };
  return { id: req.id, nodes, edges, width: graph.width ?? 0, height: graph.height ?? 0, ms: performance.now() - t0 };
}
