import { select, zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import { describeTerm, type TermView } from '../../shared/analysis/terms';
import { groupGraph, isBlockGroupId, type GraphGroups } from '../../shared/graph-view/graph-groups';
import { buildViewGraph, expandableIds, type ViewGraph, type ViewNode } from '../../shared/graph-view/graph-view';
import type { LayerInfo, LossGraph, OptimizerInfo, SourcePosition } from '../../shared/protocol/run-data';
import type { SelectTarget } from '../../shared/protocol/webview-protocol';
import { button, el, sel, type Sel, panelSection } from '../dom';
import { formatInt, formatNumber } from '../../shared/format';
import type { UiState } from '../ui-state';
import type { LayoutResult } from './dagre-layout';
import { LayoutClient } from './layout-client';
import {
  BADGE_HEIGHT,
  NODE_HEIGHT,
  edgeLabel,
  nodeWidth,
  renderGraph,
  type PlacedCluster,
  type PlacedGraph,
  type PlacedNode,
} from './render-graph';

export interface GraphInput {
  graph: LossGraph | null;
  layers: LayerInfo[];
  terms: TermView[];
  optimizer: OptimizerInfo | undefined;
}

export interface GraphPanelCallbacks {
  revealSource(source: SourcePosition): void;
  stateChanged(): void;
  exportSvg(svg: SVGSVGElement, bounds: PlacedGraph['bounds']): void;
  exportPng(svg: SVGSVGElement, bounds: PlacedGraph['bounds']): void;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The loss-graph panel: toolbar, zoomable drawing, legend and hover card. */
export class GraphPanel {
  readonly root: HTMLElement;
  private readonly svg: Sel<SVGSVGElement>;
  private readonly viewport: Sel<SVGGElement>;
  private readonly legend: HTMLElement;
  private readonly status: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly searchInput: HTMLInputElement;
  private readonly searchCount: HTMLElement;
  private readonly foldBox: HTMLInputElement;
  private readonly zoomBehavior: ZoomBehavior<SVGSVGElement, unknown>;
  private readonly layoutClient = new LayoutClient();

  private input: GraphInput | null = null;
  private groups: GraphGroups | null = null;
  private view: ViewGraph | null = null;
  private placed: PlacedGraph | null = null;
  private layoutKey = '';
  private layoutCache: { key: string; result: LayoutResult; sizes: Map<string, [number, number]> } | null = null;
  private transform: ZoomTransform = zoomIdentity;
  private restoredTransform = false;
  private searchCursor = -1;
  /** Times of the last finished layout and render, for the benchmark and the status line. */
  lastTimings = { viewMs: 0, layoutMs: 0, renderMs: 0, totalMs: 0, nodes: 0 };
  private rebuildStarted = 0;
  private renderedResolvers: Array<() => void> = [];
  private fitAfterLayout = false;
  /** The host's default for folding repeated blocks, used until the user ticks the box. */
  foldSetting: 'auto' | 'always' | 'never' = 'auto';

  constructor(
    parent: HTMLElement,
    private readonly ui: UiState['graph'],
    private readonly callbacks: GraphPanelCallbacks,
  ) {
    const { root, tools } = panelSection(parent, 'll-graph', 'll-graph-title', 'Loss graph', 'Loss graph tools');
    this.root = root;
    this.searchInput = el(tools, 'input', 'll-input ll-search');
    this.searchInput.type = 'search';
    this.searchInput.placeholder = 'Search layers, weights, ops';
    this.searchInput.setAttribute('aria-label', 'Search the loss graph by name; Enter goes to the next match');
    this.searchInput.value = ui.search;
    this.searchInput.addEventListener('input', () => {
      this.ui.search = this.searchInput.value;
      this.searchCursor = -1;
      this.redraw();
      this.callbacks.stateChanged();
    });
    this.searchInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.nextMatch(e.shiftKey ? -1 : 1);
      }
    });
    this.searchCount = el(tools, 'span', 'll-search-count');
    this.searchCount.setAttribute('aria-live', 'polite');
    button(tools, 'Fit', 'Fit the graph to the view', () => this.fit(true));
    button(tools, 'Expand all', 'Expand every layer to its ops', () => this.setExpanded(this.allExpandable()));
    button(tools, 'Collapse', 'Collapse to the layer level', () => this.setExpanded([]));
    const foldLabel = el(tools, 'label', 'll-check');
    this.foldBox = el(foldLabel, 'input');
    this.foldBox.type = 'checkbox';
    this.foldBox.checked = ui.collapseRepeats ?? false;
    el(foldLabel, 'span', '', 'Fold repeated blocks');
    this.foldBox.addEventListener('change', () => {
      this.ui.collapseRepeats = this.foldBox.checked;
      this.ui.expanded = this.ui.expanded.filter((id) => !isBlockGroupId(id));
      this.fitAfterLayout = true;
      this.rebuild();
      this.callbacks.stateChanged();
    });
    button(tools, 'SVG', 'Export the loss graph as SVG', () => this.placed && this.callbacks.exportSvg(this.svg.node()!, this.placed.bounds));
    button(tools, 'PNG', 'Export the loss graph as PNG', () => this.placed && this.callbacks.exportPng(this.svg.node()!, this.placed.bounds));

    const body = el(this.root, 'div', 'll-graph-body');
    const svgEl = parent.ownerDocument.createElementNS(SVG_NS, 'svg') as SVGSVGElement;
    body.appendChild(svgEl);
    this.svg = sel(svgEl).attr('class', 'll-graph-svg').attr('role', 'group').attr('aria-label', 'Loss graph');
    const defs = this.svg.append('defs');
    for (const role of ['data', 'regularization', 'mixed', 'unreached']) {
      defs
        .append('marker')
        .attr('id', `ll-arrow-${role}`)
        .attr('class', `ll-arrow role-${role}`)
        .attr('viewBox', '0 0 10 10')
        .attr('refX', 9)
        .attr('refY', 5)
        .attr('markerWidth', 7)
        .attr('markerHeight', 7)
        .attr('orient', 'auto-start-reverse')
        .append('path')
        .attr('d', 'M0,0L10,5L0,10z');
    }
    this.viewport = this.svg.append('g').attr('class', 'll-viewport');
    this.zoomBehavior = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.02, 4])
      .filter((event: Event) => (event.type !== 'dblclick' && !(event as MouseEvent).button) || event.type === 'wheel')
      .on('zoom', (event: { transform: ZoomTransform }) => {
        this.transform = event.transform;
        this.viewport.attr('transform', event.transform.toString());
      })
      .on('end', () => {
        this.ui.transform = { x: this.transform.x, y: this.transform.y, k: this.transform.k };
        this.callbacks.stateChanged();
      });
    this.svg.call(this.zoomBehavior).on('dblclick.zoom', null);

    this.status = el(body, 'div', 'll-graph-status');
    this.status.setAttribute('role', 'status');
    // Under the drawing, never over it.
    this.legend = el(this.root, 'div', 'll-legend');
    this.legend.setAttribute('aria-label', 'Legend');
    this.tooltip = el(body, 'div', 'll-tooltip');
    this.tooltip.setAttribute('role', 'tooltip');
    this.tooltip.hidden = true;
  }

  /** Resolves after the next completed render (tests and the benchmark wait on it). */
  whenRendered(): Promise<void> {
    return new Promise((resolve) => this.renderedResolvers.push(resolve));
  }

  setInput(input: GraphInput): void {
    const graphChanged = !this.input || this.input.graph !== input.graph || this.input.layers !== input.layers;
    this.input = input;
    if (graphChanged) {
      // A different graph (new run, new capture) starts fitted; only the first one restores a saved zoom.
      if (this.restoredTransform) this.fitAfterLayout = true;
      this.groups = input.graph ? groupGraph(input.graph, input.layers) : null;
      this.rebuild();
    } else {
      this.refreshValues();
    }
  }

  /** Term values changed (new steps): same structure, new labels. */
  refreshValues(): void {
    if (!this.groups || !this.input || !this.placed) return;
    const view = this.buildView();
    const byId = new Map(view.nodes.map((n) => [n.id, n]));
    for (const n of this.placed.nodes) {
      const fresh = byId.get(n.id);
      if (fresh) Object.assign(n, { ...fresh, x: n.x, y: n.y, width: n.width, height: n.height });
    }
    this.view = view;
    this.redraw();
    this.renderLegend();
  }

  private buildView(): ViewGraph {
    return buildViewGraph(
      { groups: this.groups!, layers: this.input!.layers, terms: this.input!.terms, optimizer: this.input!.optimizer },
      { expanded: new Set(this.ui.expanded), collapseRepeats: this.folding() },
    );
  }

  /** The user's choice, else the host's setting ('auto': fold big models, where a flat chain is unreadable). */
  private folding(): boolean {
    if (this.ui.collapseRepeats !== null) return this.ui.collapseRepeats;
    if (this.foldSetting !== 'auto') return this.foldSetting === 'always';
    return (this.groups?.layerOrder.length ?? 0) > 40;
  }

  private allExpandable(): string[] {
    if (!this.groups) return [];
    return expandableIds(this.groups, this.view?.blocks ?? []);
  }

  private setExpanded(ids: string[]): void {
    this.ui.expanded = ids;
    this.fitAfterLayout = true;
    this.rebuild();
    this.callbacks.stateChanged();
  }

  private toggle(node: PlacedNode): void {
    const id = node.expandable ? node.group : node.parent;
    if (!id) return;
    const set = new Set(this.ui.expanded);
    if (set.has(id)) set.delete(id);
    else set.add(id);
    this.ui.expanded = [...set];
    this.rebuild(id);
    this.callbacks.stateChanged();
  }

  /** Structure changed: new view graph, new layout (in the worker), then draw. */
  private rebuild(focusGroup?: string): void {
    if (!this.groups || !this.input) {
      this.placed = null;
      this.viewport.selectAll('*').remove();
      this.status.textContent = this.input ? 'No loss graph captured yet: it appears after the first optimizer step.' : '';
      this.legend.replaceChildren();
      return;
    }
    const t0 = performance.now();
    this.rebuildStarted = t0;
    const view = this.buildView();
    this.view = view;
    this.foldBox.checked = this.folding();
    this.lastTimings.viewMs = performance.now() - t0;
    const sizes = new Map(view.nodes.map((n) => [n.id, [nodeWidth(n), NODE_HEIGHT + (n.badge ? BADGE_HEIGHT : 0)] as [number, number]]));
    const laidEdges = view.edges.filter((e) => !e.bus);
    const key = view.nodes.map((n) => `${n.id}:${sizes.get(n.id)!.join('x')}`).join('|') + '#' + laidEdges.map((e) => e.id).join('|');
    if (this.layoutCache?.key === key) {
      this.place(view, this.layoutCache.result, sizes, focusGroup);
      return;
    }
    this.layoutKey = key;
    this.status.textContent = `Laying out ${formatInt(view.nodes.length)} nodes…`;
    this.root.setAttribute('aria-busy', 'true');
    const tLayout = performance.now();
    this.layoutClient
      .layout({
        nodes: view.nodes.map((n) => ({ id: n.id, width: sizes.get(n.id)![0], height: sizes.get(n.id)![1], parent: n.parent })),
        edges: laidEdges.map((e) => ({ id: e.id, from: e.from, to: e.to, labelWidth: edgeLabel(e).length * 6.2 + 8, labelHeight: 14 })),
      })
      .then((result) => {
        if (!result || key !== this.layoutKey || this.view !== view) return;
        this.lastTimings.layoutMs = performance.now() - tLayout;
        this.layoutCache = { key, result, sizes };
        this.place(view, result, sizes, focusGroup);
      })
      .catch((err: Error) => {
        if (key !== this.layoutKey) return;
        this.status.textContent = `Layout failed: ${err.message}`;
        this.root.setAttribute('aria-busy', 'false');
        for (const r of this.renderedResolvers.splice(0)) r();
      });
  }

  private place(view: ViewGraph, result: LayoutResult, sizes: Map<string, [number, number]>, focusGroup?: string): void {
    const t0 = performance.now();
    const nodes: PlacedNode[] = view.nodes.map((n) => {
      const [width, height] = sizes.get(n.id)!;
      const c = result.nodes[n.id] ?? { x: 0, y: 0 };
      // The layout box includes the badge under the node; the drawn box is the top part.
      return { ...n, x: c.x, y: c.y - (height - NODE_HEIGHT) / 2, width, height: NODE_HEIGHT };
    });
    const clusters: PlacedCluster[] = Object.entries(result.clusters).map(([id, box]) => {
      const g = this.groups!.groups.get(id);
      const label = g?.kind === 'layer' ? g.layer! : g?.kind === 'term' ? `penalty ${g.termId}` : g?.kind === 'data-loss' ? 'data loss' : 'minimized loss';
      return { id, label, ...box };
    });
    const hasBus = view.edges.some((e) => e.bus);
    const busY = hasBus ? result.height + 8 : null;
    const edges = view.edges.map((e) => ({ ...e, path: result.edges[e.id] ?? null }));
    this.placed = {
      nodes,
      edges,
      clusters,
      busY,
      bounds: { x: 0, y: 0, width: Math.max(result.width, 100), height: (busY ?? result.height) + 24 },
    };
    this.redraw();
    this.lastTimings.renderMs = performance.now() - t0;
    this.lastTimings.totalMs = performance.now() - this.rebuildStarted;
    this.lastTimings.nodes = nodes.length;
    this.status.textContent = '';
    this.root.setAttribute('aria-busy', 'false');
    this.svg.attr('aria-label', `Loss graph: ${nodes.length} nodes; Tab moves between them`);
    this.renderLegend();
    if (!this.restoredTransform && this.ui.transform) {
      this.restoredTransform = true;
      const t = this.ui.transform;
      this.svg.call(this.zoomBehavior.transform, zoomIdentity.translate(t.x, t.y).scale(t.k));
    } else if (!this.restoredTransform || this.fitAfterLayout) {
      this.restoredTransform = true;
      this.fitAfterLayout = false;
      this.fit(false, true);
    } else if (focusGroup) {
      const n = nodes.find((x) => x.id === focusGroup || x.group === focusGroup || x.parent === focusGroup);
      if (n) this.centerOn(n, false);
    }
    for (const r of this.renderedResolvers.splice(0)) r();
  }

  private matches(): Set<string> | null {
    const q = this.ui.search.trim().toLowerCase();
    if (!q || !this.placed || !this.groups) return null;
    const out = new Set<string>();
    for (const n of this.placed.nodes) {
      if (n.search.includes(q) || n.label.toLowerCase().includes(q)) out.add(n.id);
      else if (n.expandable && n.kind !== 'block') {
        const members = this.groups.groups.get(n.group)?.members ?? [];
        if (members.some((m) => this.groups!.nodes.get(m)?.label.toLowerCase().includes(q))) out.add(n.id);
      }
    }
    return out;
  }

  private redraw(): void {
    if (!this.placed) return;
    const matches = this.matches();
    renderGraph(
      this.viewport,
      this.placed,
      {
        activate: (n) => this.activate(n),
        toggle: (n) => this.toggle(n),
        hover: (n, anchor) => this.hover(n, anchor),
      },
      { selected: this.ui.selected, matches, expanded: new Set(this.ui.expanded) },
    );
    this.searchCount.textContent = matches ? `${matches.size} match${matches.size === 1 ? '' : 'es'}` : '';
  }

  private activate(n: PlacedNode): void {
    this.ui.selected = n.id;
    this.redraw();
    if (n.source) this.callbacks.revealSource(n.source);
    this.callbacks.stateChanged();
  }

  /** Select a layer or term from elsewhere (a finding, the host); expands nothing, centres the node. */
  select(target: SelectTarget): boolean {
    if (!this.placed) return false;
    const n =
      target.kind === 'term'
        ? this.placed.nodes.find((x) => x.termId === target.termId) ??
          this.placed.nodes.find((x) => x.kind === 'block-terms' && x.search.includes(target.termId.toLowerCase()))
        : this.placed.nodes.find((x) => x.kind === 'layer' && x.layer === target.layer) ??
          this.placed.nodes.find((x) => x.kind === 'block' && x.search.split(' ').includes(target.layer.toLowerCase())) ??
          this.placed.nodes.find((x) => x.layer === target.layer);
    if (!n) return false;
    this.ui.selected = n.id;
    this.redraw();
    this.centerOn(n, true);
    this.callbacks.stateChanged();
    return true;
  }

  private nextMatch(dir: number): void {
    const m = this.matches();
    if (!m || m.size === 0 || !this.placed) return;
    const list = this.placed.nodes.filter((n) => m.has(n.id)).sort((a, b) => a.x - b.x || a.y - b.y);
    this.searchCursor = (this.searchCursor + dir + list.length) % list.length;
    const n = list[this.searchCursor];
    this.ui.selected = n.id;
    this.redraw();
    this.centerOn(n, true);
  }

  private centerOn(n: PlacedNode, focus: boolean): void {
    const box = this.svg.node()!.getBoundingClientRect();
    const k = Math.max(this.transform.k, 0.6);
    const t = zoomIdentity.translate(box.width / 2 - n.x * k, box.height / 2 - n.y * k).scale(k);
    this.svg.call(this.zoomBehavior.transform, t);
    if (focus) (this.viewport.select(`g.ll-node[data-id="${CSS.escape(n.id)}"]`).node() as SVGGElement | null)?.focus();
  }

  /**
   * Fit the whole graph. The automatic fit (`readable`) stops at a scale where labels can still be read
   * and then shows the end of the graph, where the minimized loss and the penalties meet; the Fit button
   * always shows all of it.
   */
  fit(animate: boolean, readable = false): void {
    if (!this.placed) return;
    const box = this.svg.node()!.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return;
    const b = this.placed.bounds;
    const all = Math.min(1.25, (box.width - 24) / b.width, (box.height - 24) / b.height);
    const k = readable ? Math.max(all, Math.min(0.5, (box.height - 24) / b.height)) : all;
    const x = k === all ? (box.width - b.width * k) / 2 - b.x * k : box.width - 12 - (b.x + b.width) * k;
    const t = zoomIdentity.translate(x, (box.height - b.height * k) / 2 - b.y * k).scale(k);
    const target = animate ? this.svg.transition().duration(250) : this.svg;
    (target as unknown as Sel<SVGSVGElement>).call(this.zoomBehavior.transform, t);
  }

  private hover(n: PlacedNode | null, anchor: Element | null): void {
    const tip = this.tooltip;
    if (!n || !anchor) {
      tip.hidden = true;
      return;
    }
    tip.replaceChildren();
    el(tip, 'div', 'll-tooltip-title', n.label);
    if (n.badge) el(tip, 'div', 'll-tooltip-badge', n.badge);
    const dl = el(tip, 'dl', 'll-tooltip-rows');
    for (const [k, v] of n.details) {
      el(dl, 'dt', '', k);
      el(dl, 'dd', '', v);
    }
    const hint = [n.source ? 'click: reveal source' : 'click: select', n.expandable ? 'double-click: expand' : n.parent ? 'double-click: collapse' : ''].filter(Boolean).join(' · ');
    el(tip, 'div', 'll-tooltip-hint', hint);
    tip.hidden = false;
    const body = tip.parentElement!.getBoundingClientRect();
    const r = anchor.getBoundingClientRect();
    const left = Math.min(Math.max(4, r.right - body.left + 8), Math.max(4, body.width - tip.offsetWidth - 4));
    const top = Math.min(Math.max(4, r.top - body.top), Math.max(4, body.height - tip.offsetHeight - 4));
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
  }

  private renderLegend(): void {
    const legend = this.legend;
    legend.replaceChildren();
    if (!this.input?.graph) return;
    const keys = el(legend, 'div', 'll-legend-col');
    const item = (cls: string, text: string, parent: HTMLElement = keys) => {
      const row = el(parent, 'div', `ll-legend-row ${cls}`);
      el(row, 'span', 'll-swatch');
      el(row, 'span', 'll-legend-text', text);
      return row;
    };
    item('role-data', 'data-loss path');
    item('role-mixed', 'minimized loss (sum of the terms)');
    item('layer-decayed', 'layer whose decay reaches the loss');
    item('layer-none', 'layer without decay');
    if (this.placed?.nodes.some((n) => n.decay === 'dropped' || n.decay === 'partial')) item('layer-dropped', 'layer whose decay is dropped');
    const penalties = this.input.terms.filter((t) => t.collection === 'regularization');
    const reached = penalties.filter((t) => t.reachesMinimizedLoss);
    const dropped = penalties.filter((t) => !t.reachesMinimizedLoss);
    const describe = (t: TermView) =>
      `${describeTerm(t)} = ${formatNumber(t.lastValue)}`;
    const MAX = 4;
    if (reached.length) {
      const col = el(legend, 'div', 'll-legend-col');
      item('role-regularization', `regularization terms in the loss (${reached.length})`, col);
      const list = el(col, 'ul', 'll-legend-terms');
      for (const t of reached.slice(0, MAX)) el(list, 'li', `role-regularization${t.kind === 'hand-written' ? ' hand-written' : ''}`, describe(t));
      if (reached.length > MAX) el(list, 'li', 'll-more', `… and ${reached.length - MAX} more`);
    }
    if (dropped.length) {
      const col = el(legend, 'div', 'll-legend-col');
      item('unreached', `terms NOT in the minimized loss (${dropped.length})`, col);
      const list = el(col, 'ul', 'll-legend-terms');
      for (const t of dropped.slice(0, MAX)) el(list, 'li', `unreached${t.kind === 'hand-written' ? ' hand-written' : ''}`, describe(t));
      if (dropped.length > MAX) el(list, 'li', 'll-more', `… and ${dropped.length - MAX} more`);
    }
  }
}
