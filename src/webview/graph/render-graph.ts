import { curveBasis, line, select, type EnterElement, type Selection } from 'd3';
import { displaySafe } from '../../shared/format';
import type { Sel } from '../dom';
import { busLabelAt, busPath, rankEnds } from './bus-path';
import { badgeWidth, detailRoom, edgeLabel, fitText, labelRoom, TEXT_LEFT, type TextMeasure } from './node-size';
import { readingOrder, type PlacedCluster, type PlacedEdge, type PlacedGraph, type PlacedNode } from './place-graph';

export interface GraphHandlers {
  activate(node: PlacedNode, event: Event): void;
  toggle(node: PlacedNode): void;
  hover(node: PlacedNode | null, anchor: Element | null): void;
  /** A node got the keyboard focus: bring it into view. */
  focused(node: PlacedNode): void;
}

export interface GraphViewState {
  selected: string | null;
  matches: ReadonlySet<string> | null;
  expanded: ReadonlySet<string>;
}

const curved = line<[number, number]>().curve(curveBasis);
/** How far the focus ring stands off the node's box. */
const RING = 4;

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
  if (n.kind === 'chain') parts.push('folded to fit: press Enter to unfold');
  else if (n.expandable) parts.push('press Space to expand or collapse');
  if (n.source) parts.push('press Enter to open its source line');
  return parts.join(', ');
}

function layer(viewport: Sel<SVGGElement>, name: string): Sel<SVGGElement> {
  let g = viewport.select<SVGGElement>(`g.ll-${name}`);
  if (g.empty()) g = viewport.append('g').attr('class', `ll-${name}`);
  return g;
}

function clustersMark(g: Sel<SVGGElement>, clusters: readonly PlacedCluster[]): void {
  g.selectAll<SVGGElement, PlacedCluster>('g.ll-cluster')
    .data(clusters, (d) => d.id)
    .join((enter) => {
      const c = enter.append('g').attr('class', 'll-cluster');
      c.append('rect').attr('rx', 6);
      c.append('text').attr('class', 'll-cluster-label');
      return c;
    })
    .call((c) =>
      c
        .select('rect')
        .attr('x', (d) => d.x)
        .attr('y', (d) => d.y)
        .attr('width', (d) => d.width)
        .attr('height', (d) => d.height),
    )
    .call((c) =>
      c
        .select('text')
        .attr('x', (d) => d.x + 8)
        .attr('y', (d) => d.y + 13)
        .text((d) => displaySafe(d.label)),
    );
}

function edgesMark(g: Sel<SVGGElement>, laid: readonly PlacedEdge[]): void {
  g.selectAll<SVGPathElement, PlacedEdge>('path.ll-edge')
    .data(laid, (d) => d.id)
    .join('path')
    .attr('class', (e) => `ll-edge role-${e.role} ${e.reaches ? 'reaches' : 'unreached'}`)
    .attr('data-edge', (e) => e.id)
    .attr('marker-end', (e) => `url(#ll-arrow-${e.reaches ? e.role : 'unreached'})`)
    .attr('d', (d) => curved(d.path!.points));
}

function busMark(g: Sel<SVGGElement>, graph: PlacedGraph): void {
  const sink = graph.nodes.find((n) => n.isSink) ?? null;
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const edges = graph.bus === null || !sink ? [] : graph.edges.filter((e) => e.bus && byId.has(e.from) && byId.has(e.to));
  const ends = rankEnds(graph.nodes, graph.direction);
  g.selectAll<SVGPathElement, PlacedEdge>('path.ll-bus-edge')
    .data(edges, (d) => d.id)
    .join('path')
    .attr('class', (d) => `ll-bus-edge ll-edge role-regularization ${d.reaches ? 'reaches' : 'unreached'}`)
    .attr('marker-end', 'url(#ll-arrow-regularization)')
    .attr('d', (d) => busPath(byId.get(d.from)!, byId.get(d.to)!, graph.bus!, graph.direction, ends));
  const at = sink && graph.bus !== null ? busLabelAt(sink, graph.bus, graph.direction) : null;
  g.selectAll<SVGTextElement, number>('text.ll-bus-label')
    .data(edges.length && at ? [0] : [])
    .join('text')
    .attr('class', 'll-bus-label')
    .attr('x', at?.x ?? 0)
    .attr('y', at?.y ?? 0)
    .attr('text-anchor', at?.anchor ?? 'end')
    .text(`Σ ${edges.length} penalt${edges.length === 1 ? 'y' : 'ies'} → minimized loss`);
}

function edgeLabelsMark(g: Sel<SVGGElement>, laid: readonly PlacedEdge[], m: TextMeasure): void {
  g.selectAll<SVGGElement, PlacedEdge>('g.ll-edge-label')
    .data(
      laid.filter((e) => e.path!.showLabel),
      (d) => d.id,
    )
    .join((enter) => {
      const l = enter.append('g').attr('class', 'll-edge-label');
      l.append('rect').attr('rx', 3);
      l.append('text').attr('text-anchor', 'middle').attr('dy', '0.35em');
      return l;
    })
    .attr('transform', (d) => `translate(${d.path!.labelX},${d.path!.labelY})`)
    .call((l) => l.select('text').text(edgeLabel))
    .call((l) =>
      l
        .select('rect')
        .attr('x', (d) => -m.width(edgeLabel(d), 'edge') / 2 - 3)
        .attr('y', -7)
        .attr('width', (d) => m.width(edgeLabel(d), 'edge') + 6)
        .attr('height', 14),
    );
}

function enterNode(enter: Selection<EnterElement, PlacedNode, SVGGElement, unknown>, handlers: GraphHandlers) {
  const g = enter
    .append('g')
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('data-id', (d) => d.id);
  g.append('rect').attr('class', 'll-focus-ring').attr('rx', 8).attr('x', -RING).attr('y', -RING);
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
  g.on('focus', function (this: SVGGElement, _e: Event, d) {
    handlers.focused(d);
    handlers.hover(d, this);
  });
  g.on('mouseenter', function (this: SVGGElement, _e: Event, d) {
    handlers.hover(d, this);
  });
  g.on('mouseleave blur', () => handlers.hover(null, null));
  return g;
}

function updateNode(this: SVGGElement, d: PlacedNode, m: TextMeasure): void {
  const g = select(this);
  g.select('rect.ll-focus-ring')
    .attr('width', d.width + 2 * RING)
    .attr('height', d.height + 2 * RING + (d.badge ? 19 : 0));
  g.select('rect.ll-node-box').attr('width', d.width).attr('height', d.height);
  g.select('rect.ll-node-stripe').attr('width', d.decay && d.decay !== 'none' ? 5 : 0).attr('height', d.height);
  g.select('text.ll-node-label').attr('x', TEXT_LEFT).attr('y', 16).text(fitText(displaySafe(d.label), labelRoom(d.width), 'label', m));
  g.select('text.ll-node-detail').attr('x', TEXT_LEFT).attr('y', 31).text(fitText(displaySafe(d.detail), detailRoom(d.width), 'detail', m));
  const canToggle = d.expandable || d.parent !== null;
  g.select('text.ll-node-toggle')
    .attr('x', d.width - 14)
    .attr('y', 16)
    .text(canToggle ? (d.expandable ? '+' : '−') : '');
  const badge = g.select<SVGGElement>('g.ll-badge').attr('display', d.badge ? null : 'none');
  if (d.badge) {
    const w = badgeWidth(d, d.width, m);
    badge.attr('transform', `translate(0,${d.height + 3})`);
    badge.select('rect').attr('width', w).attr('height', 16);
    badge.select('text').attr('x', 5).attr('y', 12).text(fitText(d.badge, w - 10, 'badge', m));
  }
}

function nodesMark(g: Sel<SVGGElement>, graph: PlacedGraph, handlers: GraphHandlers, view: GraphViewState, m: TextMeasure): void {
  g.selectAll<SVGGElement, PlacedNode>('g.ll-node')
    .data(readingOrder(graph.nodes, graph.direction), (d) => d.id)
    .join((enter) => enterNode(enter, handlers))
    .order()
    .attr('class', (d) => nodeClass(d, view.selected, view.matches))
    .attr('transform', (d) => `translate(${d.x - d.width / 2},${d.y - d.height / 2})`)
    .attr('aria-label', (d) => displaySafe(ariaLabel(d)))
    .attr('aria-pressed', (d) => (d.id === view.selected ? 'true' : 'false'))
    .each(function (d) {
      updateNode.call(this, d, m);
    });
}

/**
 * Draw a placed graph into the viewport group. Idempotent: every layer of the drawing is a keyed
 * join, so calling it again with new values or a new layout updates the elements in place.
 */
export function renderGraph(viewport: Sel<SVGGElement>, graph: PlacedGraph, handlers: GraphHandlers, view: GraphViewState, m: TextMeasure): void {
  const laid = graph.edges.filter((e) => !e.bus && e.path && e.path.points.length > 1);
  clustersMark(layer(viewport, 'clusters'), graph.clusters);
  edgesMark(layer(viewport, 'edges'), laid);
  busMark(layer(viewport, 'bus'), graph);
  edgeLabelsMark(layer(viewport, 'edge-labels'), laid, m);
  nodesMark(layer(viewport, 'nodes'), graph, handlers, view, m);
}
