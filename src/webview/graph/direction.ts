import type { ViewGraph } from '../graph-view/graph-view';
import type { LayoutDirection } from './dagre-layout';
import { MAX_FIT_SCALE, type Box } from './viewport-math';

export type DirectionChoice = 'auto' | LayoutDirection;

/** Longest-path ranks of the laid-out (non-bus) edges: what dagre's ranks will roughly be. */
export function ranksOf(view: ViewGraph): Map<string, number> {
  const out = new Map<string, string[]>();
  const indegree = new Map(view.nodes.map((n) => [n.id, 0]));
  for (const e of view.edges) {
    if (e.bus || !indegree.has(e.from) || !indegree.has(e.to)) continue;
    (out.get(e.from) ?? out.set(e.from, []).get(e.from)!).push(e.to);
    indegree.set(e.to, indegree.get(e.to)! + 1);
  }
  const rank = new Map(view.nodes.map((n) => [n.id, 0]));
  const queue = view.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q];
    for (const to of out.get(id) ?? []) {
      rank.set(to, Math.max(rank.get(to)!, rank.get(id)! + 1));
      indegree.set(to, indegree.get(to)! - 1);
      if (indegree.get(to) === 0) queue.push(to);
    }
  }
  return rank;
}

/**
 * The size a layout in each direction will roughly have, from the ranks and the node sizes (dagre's own
 * spacing: 24 px between ranks, edge labels in between, 14 or 24 px between nodes of a rank).
 */
export function estimateExtent(view: ViewGraph, sizes: ReadonlyMap<string, readonly [number, number]>): Record<LayoutDirection, Box> {
  const ranks = ranksOf(view);
  const per = new Map<number, { maxW: number; maxH: number; sumW: number; sumH: number; count: number }>();
  for (const n of view.nodes) {
    const [w, h] = sizes.get(n.id) ?? [120, 40];
    const r = ranks.get(n.id) ?? 0;
    const p = per.get(r) ?? { maxW: 0, maxH: 0, sumW: 0, sumH: 0, count: 0 };
    p.maxW = Math.max(p.maxW, w);
    p.maxH = Math.max(p.maxH, h);
    p.sumW += w;
    p.sumH += h;
    p.count++;
    per.set(r, p);
  }
  const all = [...per.values()];
  const gaps = Math.max(0, all.length - 1);
  return {
    LR: { width: all.reduce((s, p) => s + p.maxW, 0) + gaps * (24 + 60), height: Math.max(0, ...all.map((p) => p.sumH + 14 * (p.count - 1))) },
    TB: { width: Math.max(0, ...all.map((p) => p.sumW + 24 * (p.count - 1))), height: all.reduce((s, p) => s + p.maxH, 0) + gaps * (24 + 14) },
  };
}

/**
 * Left to right or top down: whichever lets the graph be drawn larger in this box. A tall, narrow panel
 * (beside the editor) gets a long chain top down; a wide one gets it left to right. Ties go left to right.
 */
export function chooseDirection(view: ViewGraph, sizes: ReadonlyMap<string, readonly [number, number]>, box: Box): LayoutDirection {
  if (box.width <= 0 || box.height <= 0) return 'LR';
  const ext = estimateExtent(view, sizes);
  const scale = (e: Box) => Math.min(MAX_FIT_SCALE, box.width / Math.max(1, e.width), box.height / Math.max(1, e.height));
  return scale(ext.TB) > scale(ext.LR) * 1.15 ? 'TB' : 'LR';
}
