import type { ViewGraph, ViewNode } from '../../shared/graph-view/graph-view';
import type { LayoutRequest } from './dagre-layout';
import { BADGE_HEIGHT, NODE_HEIGHT } from './place-graph';
import { edgeLabel } from './render-graph';

export interface LayoutJob {
  /** Each node's laid-out box: the drawn box plus room for its badge. */
  sizes: Map<string, [number, number]>;
  /** Same key, same layout: a re-render with new values reuses the last one. */
  key: string;
  request: Omit<LayoutRequest, 'id'>;
}

/** What to ask the layout worker for a view graph. Penalty edges on the bus are drawn, not laid out. Pure. */
export function layoutJob(view: ViewGraph, width: (n: ViewNode) => number): LayoutJob {
  const sizes = new Map(view.nodes.map((n) => [n.id, [width(n), NODE_HEIGHT + (n.badge ? BADGE_HEIGHT : 0)] as [number, number]]));
  const laid = view.edges.filter((e) => !e.bus);
  const key = view.nodes.map((n) => `${n.id}:${sizes.get(n.id)!.join('x')}`).join('|') + '#' + laid.map((e) => e.id).join('|');
  const request = {
    nodes: view.nodes.map((n) => ({ id: n.id, width: sizes.get(n.id)![0], height: sizes.get(n.id)![1], parent: n.parent })),
    edges: laid.map((e) => ({ id: e.id, from: e.from, to: e.to, labelWidth: edgeLabel(e).length * 6.2 + 8, labelHeight: 14 })),
  };
  return { sizes, key, request };
}
