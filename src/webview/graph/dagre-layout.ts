import { Graph, layout } from '@dagrejs/dagre';

/** Left to right (ranks are columns) or top down (ranks are rows). */
export type LayoutDirection = 'LR' | 'TB';

/** A layout job, plain data so it can cross to the worker by structured clone. */
export interface LayoutRequest {
  id: number;
  direction: LayoutDirection;
  nodes: Array<{ id: string; width: number; height: number; parent?: string | null }>;
  edges: Array<{ id: string; from: string; to: string; labelWidth: number; labelHeight: number }>;
}

export interface LaidOutEdge {
  points: Array<[number, number]>;
  labelX: number;
  labelY: number;
  /** Several op edges between the same two groups share one route and one label. */
  showLabel: boolean;
}

export interface LayoutResult {
  id: number;
  direction: LayoutDirection;
  /** Node centres. */
  nodes: Record<string, { x: number; y: number }>;
  edges: Record<string, LaidOutEdge>;
  /** Frames around expanded groups (top-left corner and size). */
  clusters: Record<string, { x: number; y: number; width: number; height: number }>;
  width: number;
  height: number;
  ms: number;
}

/** Room inside a group's frame: padding, and the title line at the top. */
export const CLUSTER_PAD = 10;
export const CLUSTER_TITLE = 18;

interface Placed {
  nodes: Record<string, { x: number; y: number }>;
  edges: Record<string, { points: Array<[number, number]>; labelX: number; labelY: number }>;
  width: number;
  height: number;
}

type LayoutEdge = { id: string; from: string; to: string; labelWidth: number; labelHeight: number };

/** One dagre run; edge labels (tensor shapes) are laid out as dummy nodes, so they never overlap nodes. */
function dagreLayout(nodes: Array<{ id: string; width: number; height: number }>, edges: LayoutEdge[], margin: number, rankdir: LayoutDirection): Placed {
  const g = new Graph({ multigraph: true });
  // ranksep 24 (dagre halves it around the edge-label ranks): 12 px from a label to the nodes it joins is room enough for
  // the arrow, and a chain of ten layers then fits a panel 900 px tall at full size (issue 21; it was 36).
  g.setGraph({ rankdir, nodesep: rankdir === 'LR' ? 14 : 24, ranksep: 24, edgesep: 8, marginx: margin, marginy: margin });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: n.height });
  for (const e of edges) {
    g.setEdge(e.from, e.to, e.labelWidth > 0 ? { width: e.labelWidth, height: e.labelHeight, labelpos: 'c' } : {}, e.id);
  }
  layout(g);
  const out: Placed = { nodes: {}, edges: {}, width: 0, height: 0 };
  for (const id of g.nodes()) {
    const n = g.node(id);
    out.nodes[id] = { x: n.x, y: n.y };
  }
  for (const ref of g.edges()) {
    const e = g.edge(ref) as { points?: Array<{ x: number; y: number }>; x?: number; y?: number };
    const points = (e.points ?? []).map((p): [number, number] => [p.x, p.y]);
    const mid = points[Math.floor(points.length / 2)] ?? [0, 0];
    out.edges[ref.name!] = { points, labelX: e.x ?? mid[0], labelY: e.y ?? mid[1] };
  }
  const label = g.graph() as { width?: number; height?: number };
  out.width = label.width ?? 0;
  out.height = label.height ?? 0;
  return out;
}

/**
 * Two-level layered layout with dagre. Each expanded group (a layer shown as its ops) is laid out on
 * its own, then placed as one big node in the layout of the groups. Dagre recurses as deep as the graph
 * is long, and a worker's stack cannot take a 2,000-op chain in one piece; two levels keep both runs
 * small (hundreds of nodes at most), which is also much faster than one run over every op.
 */
export function layoutGraph(req: LayoutRequest): LayoutResult {
  const t0 = performance.now();
  const parentOf = new Map(req.nodes.map((n) => [n.id, n.parent ?? null]));
  const unitOf = (id: string) => parentOf.get(id) ?? id;

  // 1. Inside each expanded group.
  const members = new Map<string, Array<{ id: string; width: number; height: number }>>();
  for (const n of req.nodes) {
    if (!n.parent) continue;
    const list = members.get(n.parent) ?? [];
    list.push(n);
    members.set(n.parent, list);
  }
  const innerEdges = new Map<string, LayoutEdge[]>();
  const crossEdges: LayoutEdge[] = [];
  for (const e of req.edges) {
    const a = unitOf(e.from);
    const b = unitOf(e.to);
    if (a === b && parentOf.get(e.from)) {
      const list = innerEdges.get(a) ?? [];
      list.push(e);
      innerEdges.set(a, list);
    } else if (a !== b) crossEdges.push(e);
  }
  const inner = new Map<string, Placed>();
  for (const [cluster, nodes] of members) inner.set(cluster, dagreLayout(nodes, innerEdges.get(cluster) ?? [], 0, req.direction));

  // 2. The groups, with expanded ones as big nodes; one edge (and one label) per pair of groups.
  const topNodes = req.nodes
    .filter((n) => !n.parent)
    .map((n) => ({ id: n.id, width: n.width, height: n.height }));
  for (const [cluster, placed] of inner) {
    topNodes.push({ id: cluster, width: placed.width + 2 * CLUSTER_PAD, height: placed.height + 2 * CLUSTER_PAD + CLUSTER_TITLE });
  }
  const pairEdge = new Map<string, LayoutEdge>();
  for (const e of crossEdges) {
    const key = `${unitOf(e.from)}\u0000${unitOf(e.to)}`;
    if (!pairEdge.has(key)) pairEdge.set(key, { ...e, id: `pair:${pairEdge.size}`, from: unitOf(e.from), to: unitOf(e.to) });
  }
  const top = dagreLayout(topNodes, [...pairEdge.values()], 16, req.direction);

  // 3. Absolute positions.
  const size = new Map(req.nodes.map((n) => [n.id, n]));
  const nodes: LayoutResult['nodes'] = {};
  const clusters: LayoutResult['clusters'] = {};
  for (const n of topNodes) {
    const c = top.nodes[n.id];
    const placed = inner.get(n.id);
    if (!placed) {
      nodes[n.id] = c;
      continue;
    }
    const x0 = c.x - n.width / 2;
    const y0 = c.y - n.height / 2;
    clusters[n.id] = { x: x0, y: y0, width: n.width, height: n.height };
    const ox = x0 + CLUSTER_PAD;
    const oy = y0 + CLUSTER_PAD + CLUSTER_TITLE;
    for (const [id, p] of Object.entries(placed.nodes)) nodes[id] = { x: p.x + ox, y: p.y + oy };
  }
  const edges: LayoutResult['edges'] = {};
  for (const [cluster, placed] of inner) {
    const box = clusters[cluster];
    const ox = box.x + CLUSTER_PAD;
    const oy = box.y + CLUSTER_PAD + CLUSTER_TITLE;
    for (const [id, e] of Object.entries(placed.edges)) {
      edges[id] = { points: e.points.map(([x, y]) => [x + ox, y + oy]), labelX: e.labelX + ox, labelY: e.labelY + oy, showLabel: true };
    }
  }
  // Edges between groups follow their group pair's route, from the op itself when the group is expanded.
  const labelled = new Set<string>();
  for (const e of crossEdges) {
    const a = unitOf(e.from);
    const b = unitOf(e.to);
    const route = top.edges[pairEdge.get(`${a}\u0000${b}`)!.id];
    if (!route) continue;
    const points = route.points.map((p): [number, number] => [p[0], p[1]]);
    // An expanded group's edge starts at the op itself: its outgoing side (right, or bottom), its incoming side.
    const lr = req.direction === 'LR';
    if (a !== e.from && points.length) {
      const s = nodes[e.from];
      const box = size.get(e.from)!;
      points[0] = lr ? [s.x + box.width / 2, s.y] : [s.x, s.y + box.height / 2];
    }
    if (b !== e.to && points.length) {
      const t = nodes[e.to];
      const box = size.get(e.to)!;
      points[points.length - 1] = lr ? [t.x - box.width / 2, t.y] : [t.x, t.y - box.height / 2];
    }
    const key = `${a}\u0000${b}`;
    edges[e.id] = { points, labelX: route.labelX, labelY: route.labelY, showLabel: !labelled.has(key) };
    labelled.add(key);
  }
  return { id: req.id, direction: req.direction, nodes, edges, clusters, width: top.width, height: top.height, ms: performance.now() - t0 };
}
