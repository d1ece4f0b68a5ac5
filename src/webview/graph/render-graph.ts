import { curveBasis, line, select } from 'd3';
import type { ViewEdge, ViewNode } from '../../shared/graph-view/graph-view';
import { displaySafe, formatShape } from '../../shared/format';
import type { Sel } from '../dom';
import type { PlacedCluster, PlacedEdge, PlacedGraph, PlacedNode } from './place-graph';

export interface GraphHandlers {
  activate(node: PlacedNode, event: Event): void;
  toggle(node: PlacedNode): void;
  hover(node: PlacedNode | null, anchor: Element | null): void;
}

const CHAR = 6.6;

export function nodeWidth(n: ViewNode): number {
  const text = Math.max(n.label.length, n.detail.length * 0.92, n.badge ? n.badge.length * 0.98 : 0);
  return Math.max(96, Math.min(260, Math.ceil(text * CHAR) + 30));
}

/** Cut a label to fit its box; the full text stays in the hover card and the accessible name. */
export function fit(text: string, width: number, char = CHAR): string {
  const max = Math.floor((width - 24) / char);
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

export function edgeLabel(e: ViewEdge): string {
  return e.count > 1 ? `${formatShape(e.shape)} (+${e.count - 1})` : formatShape(e.shape);
}

const curved = line<[number, number]>().curve(curveBasis);

function nodeClass(n: PlacedNode, selected: string | null, matches: ReadonlySet<string> | null): string {
  const c = ['ll-node', `kind-${n.kind}`, `role-${n.role}`, n.reaches ? 'reaches' : 'unreached'];
  if (n.decay) c.push(`decay-${n.decay}`);
  if (n.isSink) c.push('sink');
  if (n.id === selected) c.push('selected');
  if (matches) c.push(matches.has(n.id) ? 'match' : 'dim');
  return c.join(' ');
}

function ariaLabel(n: PlacedNode): string {
  const parts = [`${n.kind.replace('-', ' ')} ${n.label}`, n.detail];
  if (n.badge) parts.push(n.badge.replace('✕ ', ''));
  if (n.expandable) parts.push('press Space to expand or collapse');
  if (n.source) parts.push('press Enter to reveal its source');
  return parts.join(', ');
}

/**
 * Draw a placed graph into the viewport group. Idempotent: every layer of the drawing is a keyed
 * join, so calling it again with new values or a new layout updates the elements in place.
 */
export function renderGraph(
  viewport: Sel<SVGGElement>,
  graph: PlacedGraph,
  handlers: GraphHandlers,
  view: { selected: string | null; matches: ReadonlySet<string> | null; expanded: ReadonlySet<string> },
): void {
  const layer = (name: string) => {
    let g = viewport.select<SVGGElement>(`g.ll-${name}`);
    if (g.empty()) g = viewport.append('g').attr('class', `ll-${name}`);
    return g;
  };
  const clusters = layer('clusters');
  const edges = layer('edges');
  const bus = layer('bus');
  const labels = layer('edge-labels');
  const nodes = layer('nodes');

  clusters
    .selectAll<SVGGElement, PlacedCluster>('g.ll-cluster')
    .data(graph.clusters, (d) => d.id)
    .join((enter) => {
      const g = enter.append('g').attr('class', 'll-cluster');
      g.append('rect').attr('rx', 6);
      g.append('text').attr('class', 'll-cluster-label');
      return g;
    })
    .call((g) =>
      g
        .select('rect')
        .attr('x', (d) => d.x)
        .attr('y', (d) => d.y)
        .attr('width', (d) => d.width)
        .attr('height', (d) => d.height),
    )
    .call((g) =>
      g
        .select('text')
        .attr('x', (d) => d.x + 8)
        .attr('y', (d) => d.y + 13)
        .text((d) => displaySafe(d.label)),
    );

  const laid = graph.edges.filter((e) => !e.bus && e.path && e.path.points.length > 1);
  const edgeClass = (e: PlacedEdge) => `ll-edge role-${e.role} ${e.reaches ? 'reaches' : 'unreached'}`;
  const marker = (e: PlacedEdge) => `url(#ll-arrow-${e.reaches ? e.role : 'unreached'})`;
  edges
    .selectAll<SVGPathElement, PlacedEdge>('path.ll-edge')
    .data(laid, (d) => d.id)
    .join('path')
    .attr('class', edgeClass)
    .attr('marker-end', marker)
    .attr('d', (d) => curved(d.path!.points));

  // Penalties that reach the minimized loss drop onto one bus under the graph and run into the sink.
  const sink = graph.nodes.find((n) => n.isSink) ?? null;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const busEdges = graph.busY === null || !sink ? [] : graph.edges.filter((e) => e.bus && byId.has(e.from) && byId.has(e.to));
  // A penalty drops to the bus in the gap after its rank's column, never through the nodes under it.
  const columnRight = new Map<number, number>();
  for (const n of graph.nodes) {
    const key = Math.round(n.x);
    columnRight.set(key, Math.max(columnRight.get(key) ?? -Infinity, n.x + n.width / 2));
  }
  bus
    .selectAll<SVGPathElement, PlacedEdge>('path.ll-bus-edge')
    .data(busEdges, (d) => d.id)
    .join('path')
    .attr('class', (d) => `ll-bus-edge ll-edge role-regularization ${d.reaches ? 'reaches' : 'unreached'}`)
    .attr('marker-end', 'url(#ll-arrow-regularization)')
    .attr('d', (d) => {
      const a = byId.get(d.from)!;
      const b = byId.get(d.to)!;
      const y = graph.busY!;
      const drop = (columnRight.get(Math.round(a.x)) ?? a.x + a.width / 2) + 12;
      return `M${a.x + a.width / 2},${a.y}H${drop}V${y}H${b.x}V${b.y + b.height / 2 + 2}`;
    });
  bus
    .selectAll<SVGTextElement, number>('text.ll-bus-label')
    .data(busEdges.length && sink ? [graph.busY!] : [])
    .join('text')
    .attr('class', 'll-bus-label')
    .attr('x', sink ? sink.x - 8 : 0)
    .attr('y', (y) => y + 14)
    .attr('text-anchor', 'end')
    .text(`Σ ${busEdges.length} penalt${busEdges.length === 1 ? 'y' : 'ies'} → minimized loss`);

  labels
    .selectAll<SVGGElement, PlacedEdge>('g.ll-edge-label')
    .data(
      laid.filter((e) => e.path!.showLabel),
      (d) => d.id,
    )
    .join((enter) => {
      const g = enter.append('g').attr('class', 'll-edge-label');
      g.append('rect').attr('rx', 3);
      g.append('text').attr('text-anchor', 'middle').attr('dy', '0.35em');
      return g;
    })
    .attr('transform', (d) => `translate(${d.path!.labelX},${d.path!.labelY})`)
    .call((g) => g.select('text').text(edgeLabel))
    .call((g) =>
      g
        .select('rect')
        .attr('x', (d) => -edgeLabel(d).length * 3.1 - 3)
        .attr('y', -7)
        .attr('width', (d) => edgeLabel(d).length * 6.2 + 6)
        .attr('height', 14),
    );

  nodes
    .selectAll<SVGGElement, PlacedNode>('g.ll-node')
    .data(graph.nodes, (d) => d.id)
    .join((enter) => {
      const g = enter
        .append('g')
        .attr('tabindex', 0)
        .attr('role', 'button')
        .attr('data-id', (d) => d.id);
      g.append('rect').attr('class', 'll-node-box').attr('rx', 5);
      g.append('rect').attr('class', 'll-node-stripe');
      g.append('text').attr('class', 'll-node-label');
      g.append('text').attr('class', 'll-node-detail');
      g.append('text').attr('class', 'll-node-toggle').attr('aria-hidden', 'true');
      const badge = g.append('g').attr('class', 'll-badge');
      badge.append('rect').attr('rx', 3);
      badge.append('text');
      g.on('click', (event: MouseEvent, d) => {
        if ((event.target as Element).classList.contains('ll-node-toggle')) handlers.toggle(d);
        else handlers.activate(d, event);
      });
      g.on('dblclick', (event: MouseEvent, d) => {
        event.stopPropagation();
        if (d.expandable || d.parent) handlers.toggle(d);
      });
      g.on('keydown', (event: KeyboardEvent, d) => {
        if (event.key === 'Enter') {
          event.preventDefault();
          handlers.activate(d, event);
        } else if (event.key === ' ' || event.key === '+' || event.key === '-') {
          event.preventDefault();
          handlers.toggle(d);
        }
      });
      g.on('mouseenter focus', function (this: SVGGElement, _e: Event, d) {
        handlers.hover(d, this);
      });
      g.on('mouseleave blur', () => handlers.hover(null, null));
      return g;
    })
    .attr('class', (d) => nodeClass(d, view.selected, view.matches))
    .attr('transform', (d) => `translate(${d.x - d.width / 2},${d.y - d.height / 2})`)
    .attr('aria-label', (d) => displaySafe(ariaLabel(d)))
    .attr('aria-pressed', (d) => (d.id === view.selected ? 'true' : 'false'))
    .each(function (d) {
      const g = select(this);
      g.select('rect.ll-node-box').attr('width', d.width).attr('height', d.height);
      g.select('rect.ll-node-stripe').attr('width', d.decay && d.decay !== 'none' ? 5 : 0).attr('height', d.height);
      g.select('text.ll-node-label').attr('x', 11).attr('y', 16).text(fit(displaySafe(d.label), d.width - 12));
      g.select('text.ll-node-detail').attr('x', 11).attr('y', 31).text(fit(displaySafe(d.detail), d.width - 4, 6));
      const canToggle = d.expandable || d.parent !== null;
      g.select('text.ll-node-toggle')
        .attr('x', d.width - 13)
        .attr('y', 16)
        .text(canToggle ? (d.expandable ? '+' : '−') : '');
      const badge = g.select<SVGGElement>('g.ll-badge').attr('display', d.badge ? null : 'none');
      if (d.badge) {
        const w = Math.min(d.width, d.badge.length * 6.4 + 10);
        badge.attr('transform', `translate(0,${d.height + 3})`);
        badge.select('rect').attr('width', w).attr('height', 16);
        badge.select('text').attr('x', 5).attr('y', 12).text(d.badge);
      }
    });
}
