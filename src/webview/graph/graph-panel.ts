// Over 300 lines, on purpose: this class is the one place that decides when the graph is rebuilt, laid out,
// placed and fitted (new data, expansions, folding, direction, a resized panel), and those decisions stay
// consistent only together. Everything it delegates is a module of its own: graph-viewport (zoom and pan),
// graph-layouter and layout-job (layouts), place-graph, render-graph, graph-search, graph-toolbar,
// graph-legend, hover-card.
import type { TermView } from '../../shared/analysis/terms';
import { formatInt } from '../../shared/format';
import { groupGraph, isBlockGroupId, type GraphGroups } from '../graph-view/graph-groups';
import { buildViewGraph, expandableIds, type ViewGraph } from '../graph-view/graph-view';
import type { LayerInfo, LossGraph, OptimizerInfo, SourcePosition } from '../../shared/protocol/run-data';
import type { SelectTarget } from '../../shared/panel/webview-protocol';
import { el, panelSection } from '../dom';
import type { UiState } from '../ui-state';
import { canvasMeasure } from './canvas-measure';
import type { LayoutDirection, LayoutResult } from './dagre-layout';
import { chooseDirection } from './direction';
import { renderGraphLegend } from './graph-legend';
import { findTarget, matchNodes, matchOrder } from './graph-search';
import { buildGraphToolbar, type GraphToolbar } from './graph-toolbar';
import { GraphViewport } from './graph-viewport';
import { HoverCard } from './hover-card';
import { GraphLayouter } from './graph-layouter';
import { LayoutClient } from './layout-client';
import { layoutJob, nodeSizes } from './layout-job';
import { nodeWidth, type TextMeasure } from './node-size';
import { placeGraph, type Bounds, type PlacedGraph, type PlacedNode } from './place-graph';
import { renderGraph } from './render-graph';
import { Minimap } from './minimap';
import { fitHeight } from './viewport-math';

/**
 * The drawing grows to the graph's height at its fit scale, up to the panel's own height (issue 21: capped at 64%
 * of the window, it cut graphs the panel had room for; scrolled to, the whole drawing is in view); at least
 * MIN_BODY px.
 */
const MIN_BODY = 260;
/** Room kept inside the window around the drawing: its section's border and the page's padding. */
const BODY_SLACK = 16;

export interface GraphInput {
  graph: LossGraph | null;
  layers: LayerInfo[];
  terms: TermView[];
  optimizer: OptimizerInfo | undefined;
}

export interface GraphPanelCallbacks {
  revealSource(source: SourcePosition): void;
  stateChanged(): void;
  exportSvg(svg: SVGSVGElement, bounds: Bounds): void;
  exportPng(svg: SVGSVGElement, bounds: Bounds): void;
  /** A layout was drawn (the first one with nodes is "first graph drawn" in the e2e's timings). */
  rendered?(nodes: number): void;
}

/**
 * The loss-graph panel: what is shown (view graph, expansions, folding, direction, selection, search) and
 * when it is laid out again. The drawing, toolbar, legend and hover card are their own modules.
 */
export class GraphPanel {
  readonly root: HTMLElement;
  private readonly drawing: GraphViewport;
  private readonly body: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly status: HTMLElement;
  private readonly hoverCard: HoverCard;
  private readonly toolbar: GraphToolbar;
  private readonly layoutClient = new LayoutClient();
  private readonly layouter = new GraphLayouter(this.layoutClient);
  private measure: TextMeasure | null = null;

  private input: GraphInput | null = null;
  private groups: GraphGroups | null = null;
  private view: ViewGraph | null = null;
  private placed: PlacedGraph | null = null;
  private restoredTransform = false;
  private searchCursor = -1;
  /** Times of the last finished layout and render, for the benchmark and the status line. */
  lastTimings = { viewMs: 0, layoutMs: 0, renderMs: 0, totalMs: 0, nodes: 0 };
  private rebuildStarted = 0;
  private renderedResolvers: Array<() => void> = [];
  private fitAfterLayout = false;
  private readonly minimap: Minimap;
  /** The view is the last fit (nothing moved it since): a resize fits again. */
  private followFit = false;
  /** The direction the last layout used. */
  direction: LayoutDirection = 'LR';
  /** The host's default for folding repeated blocks, used until the user ticks the box. */
  foldSetting: 'auto' | 'always' | 'never' = 'auto';

  constructor(
    parent: HTMLElement,
    private readonly ui: UiState['graph'],
    private readonly callbacks: GraphPanelCallbacks,
  ) {
    const { root, tools } = panelSection(parent, 'll-graph', 'll-graph-title', 'Loss graph', 'Loss graph tools');
    this.root = root;
    this.toolbar = buildGraphToolbar(tools, { search: ui.search, fold: ui.collapseRepeats ?? false, direction: ui.direction }, {
      search: (q) => {
        this.ui.search = q;
        this.searchCursor = -1;
        this.redraw();
        this.callbacks.stateChanged();
      },
      nextMatch: (dir) => this.nextMatch(dir),
      fit: () => this.fit(true),
      zoom: (f) => this.drawing.zoomBy(f),
      direction: (d) => {
        this.ui.direction = d;
        this.relayout();
      },
      expandAll: () => this.setExpanded(this.allExpandable()),
      collapse: () => this.setExpanded([]),
      fold: (on) => {
        this.ui.collapseRepeats = on;
        this.ui.expanded = this.ui.expanded.filter((id) => !isBlockGroupId(id));
        this.relayout();
      },
      exportSvg: () => this.placed && this.callbacks.exportSvg(this.drawing.node, this.placed.bounds),
      exportPng: () => this.placed && this.callbacks.exportPng(this.drawing.node, this.placed.bounds),
    });
    const body = (this.body = el(this.root, 'div', 'll-graph-body'));
    this.drawing = new GraphViewport(
      body,
      (t) => {
        this.ui.transform = t;
        this.callbacks.stateChanged();
      },
      () => (this.followFit = false),
    );
    this.minimap = new Minimap(body, (p) => this.drawing.panTo(p));
    this.drawing.onZoom = () => this.updateMinimap();
    this.status = el(body, 'div', 'll-graph-status');
    this.status.setAttribute('role', 'status');
    // Under the drawing, never over it.
    this.legend = el(this.root, 'div', 'll-legend');
    this.legend.setAttribute('aria-label', 'Legend');
    this.hoverCard = new HoverCard(body);
    // A panel that changes shape may want the other direction ('auto' only; a layout is not cheap).
    // A panel that changes shape (resize, maximize, restore) is fitted again, unless the user moved the view since.
    let width = 0;
    const reshaped = () => {
      if (!this.view || !this.placed) return;
      if (this.ui.direction === 'auto' && this.pickDirection(this.view) !== this.direction) this.relayout(false);
      else if (this.followFit) this.fit(false);
    };
    new ResizeObserver(() => {
      const w = body.getBoundingClientRect().width;
      if (Math.abs(w - width) < 1) return;
      width = w;
      reshaped();
    }).observe(body);
    this.root.ownerDocument.defaultView!.addEventListener('resize', reshaped);
  }

  /** Resolves after the next completed render (tests and the benchmark wait on it). */
  whenRendered(): Promise<void> {
    return new Promise((resolve) => this.renderedResolvers.push(resolve));
  }

  private rendered(): void {
    for (const r of this.renderedResolvers.splice(0)) r();
  }

  private textMeasure(): TextMeasure {
    return (this.measure ??= canvasMeasure(this.drawing.node));
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
    const { layers, terms, optimizer } = this.input!;
    return buildViewGraph({ groups: this.groups!, layers, terms, optimizer }, { expanded: new Set(this.ui.expanded), collapseRepeats: this.folding() });
  }

  /** The user's choice, else the host's setting ('auto': fold big models, where a flat chain is unreadable). */
  private folding(): boolean {
    if (this.ui.collapseRepeats !== null) return this.ui.collapseRepeats;
    if (this.foldSetting !== 'auto') return this.foldSetting === 'always';
    return (this.groups?.layerOrder.length ?? 0) > 40;
  }

  private maxBodyHeight(): number {
    const win = this.root.ownerDocument.defaultView!;
    return Math.round(Math.max(MIN_BODY + 80, win.innerHeight - BODY_SLACK));
  }

  /** Chosen for the tallest the drawing may be, not its current height, which fit() shrinks to the graph. */
  private pickDirection(view: ViewGraph): LayoutDirection {
    if (this.ui.direction !== 'auto') return this.ui.direction;
    const box = { width: this.drawing.box().width, height: this.maxBodyHeight() };
    return chooseDirection(view, nodeSizes(view, (n) => nodeWidth(n, this.textMeasure())), box);
  }

  private allExpandable(): string[] {
    return this.groups ? expandableIds(this.groups, this.view?.blocks ?? []) : [];
  }

  private setExpanded(ids: string[]): void {
    this.ui.expanded = ids;
    this.relayout();
  }

  /** The structure or the direction changed by the user's hand: lay out again and fit. */
  private relayout(save = true): void {
    this.fitAfterLayout = true;
    this.rebuild();
    if (save) this.callbacks.stateChanged();
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
      this.drawing.viewport.selectAll('*').remove();
      this.status.textContent = this.input ? 'No loss graph captured yet: it appears after the first optimizer step.' : '';
      this.legend.replaceChildren();
      return;
    }
    const t0 = performance.now();
    this.rebuildStarted = t0;
    const view = this.buildView();
    this.view = view;
    this.toolbar.foldBox.checked = this.folding();
    this.lastTimings.viewMs = performance.now() - t0;
    const m = this.textMeasure();
    const job = layoutJob(view, nodeSizes(view, (n) => nodeWidth(n, m)), this.pickDirection(view), m);
    const cached = this.layouter.cached(job);
    if (cached) {
      this.place(view, cached, job.sizes, focusGroup);
      return;
    }
    this.status.textContent = `Laying out ${formatInt(view.nodes.length)} nodes…`;
    this.root.setAttribute('aria-busy', 'true');
    this.layouter.layout(job).then(
      (result) => {
        if (!result || this.view !== view) return;
        this.lastTimings.layoutMs = this.layouter.lastMs;
        this.place(view, result, job.sizes, focusGroup);
      },
      (err: Error) => {
        if (!this.layouter.isCurrent(job)) return;
        this.status.textContent = `Layout failed: ${err.message}`;
        this.root.setAttribute('aria-busy', 'false');
        this.rendered();
      },
    );
  }

  private place(view: ViewGraph, result: LayoutResult, sizes: Map<string, [number, number]>, focusGroup?: string): void {
    const t0 = performance.now();
    const placed = (this.placed = placeGraph(view, result, sizes, this.groups!));
    this.direction = placed.direction;
    this.drawing.bounds = placed.bounds;
    this.root.setAttribute('data-direction', placed.direction);
    this.redraw();
    this.lastTimings.renderMs = performance.now() - t0;
    this.lastTimings.totalMs = performance.now() - this.rebuildStarted;
    this.lastTimings.nodes = placed.nodes.length;
    this.status.textContent = '';
    this.root.setAttribute('aria-busy', 'false');
    this.drawing.svg.attr('aria-label', `Loss graph: ${placed.nodes.length} nodes; Tab moves between them`);
    this.renderLegend();
    if (!this.restoredTransform && this.ui.transform) {
      this.restoredTransform = true;
      this.sizeBody();
      this.drawing.apply(this.ui.transform);
    } else if (!this.restoredTransform || this.fitAfterLayout) {
      this.restoredTransform = true;
      this.fitAfterLayout = false;
      this.fit(false);
    } else if (focusGroup) {
      const n = placed.nodes.find((x) => x.id === focusGroup || x.group === focusGroup || x.parent === focusGroup);
      if (n) this.centerOn(n, false);
    }
    this.updateMinimap();
    this.callbacks.rendered?.(placed.nodes.length);
    this.rendered();
  }

  private updateMinimap(): void {
    if (this.placed) this.minimap.render(this.placed.nodes, this.placed.bounds, this.drawing.current(), this.drawing.box());
  }

  private matches(): Set<string> | null {
    return this.placed && this.groups ? matchNodes(this.placed.nodes, this.ui.search, this.groups) : null;
  }

  private redraw(): void {
    if (!this.placed) return;
    const matches = this.matches();
    renderGraph(
      this.drawing.viewport,
      this.placed,
      {
        activate: (n) => this.activate(n),
        toggle: (n) => this.toggle(n),
        hover: (n, anchor) => (n && anchor ? this.hoverCard.show(n, anchor) : this.hoverCard.hide()),
        // Tab may land on a node out of view: pan to it (its badge included).
        focused: (n) => this.drawing.reveal({ x: n.x - n.width / 2 - 6, y: n.y - n.height / 2 - 6, width: n.width + 12, height: n.height + 32 }),
      },
      { selected: this.ui.selected, matches, expanded: new Set(this.ui.expanded) },
      this.textMeasure(),
    );
    this.toolbar.searchCount.textContent = matches ? `${matches.size} match${matches.size === 1 ? '' : 'es'}` : '';
  }

  private activate(n: PlacedNode): void {
    this.ui.selected = n.id;
    this.redraw();
    if (n.source) this.callbacks.revealSource(n.source);
    this.callbacks.stateChanged();
  }

  /** Select a layer or term from elsewhere (a finding, the host); expands nothing, centres the node. */
  select(target: SelectTarget): boolean {
    const n = this.placed ? findTarget(this.placed.nodes, target) : undefined;
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
    const list = matchOrder(this.placed.nodes, m);
    this.searchCursor = (this.searchCursor + dir + list.length) % list.length;
    const n = list[this.searchCursor];
    this.ui.selected = n.id;
    this.redraw();
    this.centerOn(n, true);
  }

  private centerOn(n: PlacedNode, focus: boolean): void {
    this.followFit = false;
    this.drawing.centerOn(n);
    if (focus) (this.drawing.viewport.select(`g.ll-node[data-id="${CSS.escape(n.id)}"]`).node() as SVGGElement | null)?.focus();
  }

  /** The drawing as tall as the graph needs at its fit scale, up to its share of the window. */
  private sizeBody(): void {
    const width = this.drawing.box().width;
    if (this.placed && width > 0) this.body.style.height = `${fitHeight(width, this.maxBodyHeight(), this.placed.bounds, MIN_BODY)}px`;
  }

  /** Fit the graph at a readable scale; when it is larger than the view, show the minimized loss. */
  fit(animate: boolean): void {
    if (!this.placed) return;
    this.followFit = true;
    this.sizeBody();
    const sink = this.placed.nodes.find((n) => n.isSink) ?? null;
    this.drawing.fit(this.placed.bounds, sink, animate);
  }

  private renderLegend(): void {
    renderGraphLegend(this.legend, this.input?.graph ? { terms: this.input.terms, nodes: this.placed?.nodes ?? [] } : null);
  }
}
