import type { ViewGraph, ViewNode } from '../graph-view/graph-view';
import type { LayoutDirection, LayoutRequest } from './dagre-layout';
import { BADGE_HEIGHT, NODE_HEIGHT } from './place-graph';
import { approxMeasure, edgeLabel, type TextMeasure } from './node-size';

export interface LayoutJob {
  /** Each node's laid-out box: the drawn box plus room for its badge. */
  sizes: Map<string, [number, number]>;
  /** Same key, same layout: a re-render with new values reuses the last one. */
  key: string;
  request: Omit<LayoutRequest, 'id'>;
}

/** Each node's laid-out box: as wide as its text, and room under it for its badge. */
export function nodeSizes(view: ViewGraph, width: (n: ViewNode) => number): Map<string, [number, number]> {
  return new Map(view.nodes.map((n) => [n.id, [width(n), NODE_HEIGHT + (n.badge ? BADGE_HEIGHT : 0)] as [number, number]]));
}

/** What to ask the layout worker for a view graph. Penalty edges on the bus are drawn, not laid out. Pure. */
export function layoutJob(view: ViewGraph, sizes: Map<string, [number, number]>, direction: LayoutDirection, m: TextMeasure = approxMeasure): LayoutJob {
  const laid = view.edges.filter((e) => !e.bus);
  const key = direction + '#' + view.nodes.map((n) => `${n.id}:${sizes.get(n.id)!.join('x')}`).join('|') + '#' + laid.map((e) => e.id).join('|');
  const request = {
    direction,
    nodes: view.nodes.map((n) => ({ id: n.id, width: sizes.get(n.id)![0], height: sizes.get(n.id)![1], parent: n.parent })),
    edges: laid.map((e) => ({ id: e.id, from: e.from, to: e.to, labelWidth: Math.ceil(m.width(edgeLabel(e), 'edge')) + 8, labelHeight: 14 })),
  };
  return { sizes, key, request };
}
