import type { GraphGroups } from '../graph-view/graph-groups';
import type { SelectTarget } from '../../shared/panel/webview-protocol';
import type { PlacedNode } from './place-graph';

/**
 * Which drawn nodes a search matches: by their own text, or (a collapsed layer) by the label of any op
 * inside. Case-insensitive; null for an empty query (nothing dimmed). Pure.
 */
export function matchNodes(nodes: readonly PlacedNode[], query: string, groups: GraphGroups): Set<string> | null {
  const q = query.trim().toLowerCase();
  if (!q) return null;
  const out = new Set<string>();
  for (const n of nodes) {
    if (n.search.includes(q) || n.label.toLowerCase().includes(q)) out.add(n.id);
    else if (n.expandable && n.kind !== 'block') {
      const members = groups.groups.get(n.group)?.members ?? [];
      if (members.some((m) => groups.nodes.get(m)?.label.toLowerCase().includes(q))) out.add(n.id);
    }
  }
  return out;
}

/** The matches in reading order (along the graph, then across): what Enter steps through. */
export function matchOrder(nodes: readonly PlacedNode[], matches: ReadonlySet<string>): PlacedNode[] {
  return nodes.filter((n) => matches.has(n.id)).sort((a, b) => a.x - b.x || a.y - b.y);
}

/** The drawn node that shows a layer or a term: itself, or the folded block or chain (or block penalties) holding it. */
export function findTarget(nodes: readonly PlacedNode[], target: SelectTarget): PlacedNode | undefined {
  if (target.kind === 'term') {
    return nodes.find((x) => x.termId === target.termId) ?? nodes.find((x) => x.kind === 'block-terms' && x.search.includes(target.termId.toLowerCase()));
  }
  return (
    nodes.find((x) => x.kind === 'layer' && x.layer === target.layer) ??
    nodes.find((x) => (x.kind === 'block' || x.kind === 'chain') && x.search.split(' ').includes(target.layer.toLowerCase())) ??
    nodes.find((x) => x.layer === target.layer)
  );
}
