import type { LayoutDirection } from './dagre-layout';
import type { PlacedNode } from './place-graph';

/**
 * The regularization bus: every penalty that reaches the minimized loss drops onto one line beyond the
 * graph (under it when the graph runs left to right, right of it when it runs top down) and rides it into
 * the sink. A penalty leaves its node along the graph's direction and turns towards the bus in the gap after
 * its rank, never through the nodes beside it. Pure.
 *
 * Paths are built in (along, across) coordinates, along = the direction of the graph, then mapped to (x, y).
 */
interface Span {
  along: number;
  across: number;
  alongHalf: number;
  acrossHalf: number;
}

function span(n: PlacedNode, d: LayoutDirection): Span {
  return d === 'LR'
    ? { along: n.x, across: n.y, alongHalf: n.width / 2, acrossHalf: n.height / 2 }
    : { along: n.y, across: n.x, alongHalf: n.height / 2, acrossHalf: n.width / 2 };
}

/** For each rank (nodes at the same place along the graph), where its widest node ends. */
export function rankEnds(nodes: readonly PlacedNode[], d: LayoutDirection): Map<number, number> {
  const out = new Map<number, number>();
  for (const n of nodes) {
    const s = span(n, d);
    const key = Math.round(s.along);
    out.set(key, Math.max(out.get(key) ?? -Infinity, s.along + s.alongHalf));
  }
  return out;
}

export function busPath(from: PlacedNode, sink: PlacedNode, bus: number, d: LayoutDirection, ends: ReadonlyMap<number, number>): string {
  const a = span(from, d);
  const b = span(sink, d);
  const drop = (ends.get(Math.round(a.along)) ?? a.along + a.alongHalf) + 12;
  const pts: Array<[number, number]> = [
    [a.along + a.alongHalf, a.across],
    [drop, a.across],
    [drop, bus],
    [b.along, bus],
    [b.along, b.across + b.acrossHalf + 2],
  ];
  const xy = pts.map(([al, ac]) => (d === 'LR' ? [al, ac] : [ac, al]));
  return `M${xy.map((p) => p.join(',')).join('L')}`;
}

/** Where the bus's caption goes: beside the sink, on the bus's side of it. */
export function busLabelAt(sink: PlacedNode, bus: number, d: LayoutDirection): { x: number; y: number; anchor: 'start' | 'end' } {
  return d === 'LR' ? { x: sink.x - 8, y: bus + 14, anchor: 'end' } : { x: bus - 6, y: sink.y + sink.height / 2 + 16, anchor: 'end' };
}
