// Over 300 lines, on purpose: this class is the one place that decides when the graph is rebuilt, laid out,
// placed and fitted (new data, expansions, folding, direction, a resized panel), and those decisions stay
// consistent only together. Everything it delegates is a module of its own: graph-viewport (zoom and pan),
// graph-layouter and layout-job (layouts), place-graph, render-graph, graph-search, graph-toolbar,
// graph-legend, hover-card, fold-to-fit (which folds and layouts a fit tries).
import type { TermView } from '../../shared/analysis/terms';
import { formatInt } from '../../shared/format';
import { foldChains, isChainId } from '../graph-view/chains';
import { groupGraph, isBlockGroupId, type GraphGroups } from '../graph-view/graph-groups';
import { buildViewGraph, expandableIds, type ViewGraph } from '../graph-view/graph-view';
import type { LayerInfo, LossGraph, OptimizerInfo, SourcePosition } from '../../shared/protocol/run-data';
import type { SelectTarget } from '../../shared/panel/webview-protocol';
import { button, el, panelSection } from '../dom';
import type { UiState } from '../ui-state';
import { canvasMeasure } from './canvas-measure';
import type { LayoutDirection, LayoutResult } from './dagre-layout';
import { chooseDirection } from './direction';
import { firstFit, foldNotice, foldSteps, type FitAttempt, type FoldStep } from './fold-to-fit';
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
import { READABLE_SCALE, fitHeight, fitsAt, type Box } from './viewport-math';

/**
 * The drawing grows to the graph's height at its fit scale, up to the panel's own height (issue 21: capped at 64%
 * of the window, it cut graphs the panel had room for; scrolled to, the whole drawing is in view); at least
 * MIN_BODY px.
 */
const MIN_BODY = 260;
/** Room kept inside the window around the drawing: its section's border and the page's padding. */
const BODY_SLACK = 16;
/** Up to this many nodes, a fit that does not fit one way is laid out the other way too. */
const TRY_BOTH_DIRECTIONS = 60;

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
  private readonly foldNote: HTMLElement;
  private readonly foldNoteText: HTMLElement;
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
  /** What the last layout folded (repeated blocks, chains): the fewest folds with which the graph fit its box. */
  private fold: FoldStep = { repeats: false, chains: [] };
  /** Bumped by every rebuild: a fold-to-fit still laying out an older structure stops. */
  private generation = 0;

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
    // What a fit folded, said over the graph, with the way back.
    this.foldNote = el(this.root, 'div', 'll-fold-note');
    this.foldNote.setAttribute('role', 'status');
    this.foldNote.hidden = true;
    this.foldNoteText = el(this.foldNote, 'span', 'll-fold-note-text');
    button(this.foldNote, 'Unfold all', 'Unfold what was folded to fit; the graph then pans, with an overview', () => this.unfoldAll());
    const body = (this.body = el(this.root, 'div', 'll-graph-body'));
    this.drawing = new GraphViewport(
      body,
      (t) => {
        this.ui.transform = t;
        this.ui.fitted = this.followFit;
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
    // A panel that changes shape (resize, maximize, restore) is folded, laid out and fitted again for its new shape,
    // unless the user moved the view since; then only when it wants the other direction ('auto').
    let width = 0;
    const reshaped = () => {
      if (!this.view || !this.placed) return;
      if (this.followFit || (this.ui.direction === 'auto' && this.pickDirection(this.view) !== this.direction)) this.relayout(false);
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

  private buildView(step: FoldStep = this.fold): ViewGraph {
    const { layers, terms, optimizer } = this.input!;
    const view = buildViewGraph({ groups: this.groups!, layers, terms, optimizer }, { expanded: new Set(this.ui.expanded), collapseRepeats: step.repeats });
    return foldChains(view, step.chains);
  }

  /** Folding to fit is ours unless the user unticked "Fold repeated blocks" or the host says never. */
  private mayFold(): boolean {
    return this.ui.collapseRepeats !== false && this.foldSetting !== 'never';
  }

  /** Unfold what a fit folded: its chains stay unfolded (the user's choice), its repeated blocks too. */
  private unfoldAll(): void {
    if (this.fold.repeats && !this.folding()) this.ui.collapseRepeats = false;
    this.ui.expanded = [...new Set([...this.ui.expanded, ...this.fold.chains.map((c) => c.id)])];
    this.relayout();
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

  /** The box a fit has: the drawing's width, and the tallest it may grow to (fit() shrinks it to the graph). */
  private fitBox(): Box {
    return { width: this.drawing.box().width, height: this.maxBodyHeight() };
  }

  /** Chosen for the tallest the drawing may be, not its current height. */
  private pickDirection(view: ViewGraph, sizes = nodeSizes(view, (n) => nodeWidth(n, this.textMeasure()))): LayoutDirection {
    if (this.ui.direction !== 'auto') return this.ui.direction;
    return chooseDirection(view, sizes, this.fitBox());
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
    // An unfolded chain is gone: its first node is where the eye goes.
    this.rebuild(isChainId(id) ? this.fold.chains.find((c) => c.id === id)?.members[0] ?? id : id);
    this.callbacks.stateChanged();
  }

  /** Structure changed: new view graph, new layout (in the worker), then draw. */
  private rebuild(focusGroup?: string): void {
    if (!this.groups || !this.input) {
      this.generation++;
      this.placed = null;
      this.foldNote.hidden = true;
      this.drawing.viewport.selectAll('*').remove();
      this.status.textContent = this.input ? 'No loss graph captured yet: it appears after the first optimizer step.' : '';
      this.legend.replaceChildren();
      return;
    }
    const t0 = performance.now();
    this.rebuildStarted = t0;
    const generation = ++this.generation;
    const base = this.folding();
    const box = this.fitBox();
    // A hidden panel (no width) folds nothing: it is folded for its shape once it has one.
    const steps =
      this.mayFold() && box.width > 0
        ? foldSteps((repeats) => this.buildView({ repeats, chains: [] }), base, this.ui.collapseRepeats === null && this.foldSetting === 'auto', new Set(this.ui.expanded))
        : [{ repeats: base, chains: [] }];
    this.lastTimings.viewMs = performance.now() - t0;
    void this.layoutToFit(generation, steps, box, focusGroup);
  }

  /**
   * Lay out each fold step in turn (in the direction the box suggests, then the other one when the choice is ours)
   * until one fits the box at the readable scale; the most folded one when none does (then it pans, with an overview).
   */
  private async layoutToFit(generation: number, steps: FoldStep[], box: Box, focusGroup?: string): Promise<void> {
    const m = this.textMeasure();
    this.lastTimings.layoutMs = 0;
    let chosen: FitAttempt | null;
    try {
      chosen = await firstFit(steps, {
        build: (step) => this.buildView(step),
        sizes: (view) => nodeSizes(view, (n) => nodeWidth(n, m)),
        directions: (view, sizes) => {
          const first = this.pickDirection(view, sizes);
          // A small graph is laid out the other way too before it is folded more (a big one is slow to lay out twice,
          // and never fits whole at the readable scale anyway).
          return this.ui.direction === 'auto' && view.nodes.length <= TRY_BOTH_DIRECTIONS ? [first, first === 'LR' ? 'TB' : 'LR'] : [first];
        },
        layout: async (job, view) => {
          if (!this.layouter.cached(job)) {
            this.status.textContent = `Laying out ${formatInt(view.nodes.length)} nodes…`;
            this.root.setAttribute('aria-busy', 'true');
          }
          const result = await this.layouter.layout(job);
          this.lastTimings.layoutMs += this.layouter.lastMs;
          return generation === this.generation ? result : null;
        },
        fits: (view, result, sizes) => fitsAt(box, placeGraph(view, result, sizes, this.groups!).bounds, READABLE_SCALE),
        measure: m,
      });
    } catch (err) {
      if (generation !== this.generation) return;
      this.status.textContent = `Layout failed: ${(err as Error).message}`;
      this.root.setAttribute('aria-busy', 'false');
      this.rendered();
      return;
    }
    if (!chosen) return;
    this.fold = chosen.step;
    this.view = chosen.view;
    this.toolbar.foldBox.checked = chosen.step.repeats;
    const note = foldNotice(chosen.step, this.folding(), chosen.view);
    this.foldNote.hidden = note === null;
    this.foldNoteText.textContent = note ?? '';
    this.place(chosen.view, chosen.result, chosen.job.sizes, focusGroup);
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
    // A saved view is restored only when the user had moved it; a saved fit is fitted again, to today's panel.
    const fits = fitsAt(this.fitBox(), placed.bounds, READABLE_SCALE);
    if (!this.restoredTransform && this.ui.transform && !this.ui.fitted) {
      this.restoredTransform = true;
      this.sizeBody();
      this.drawing.apply(this.ui.transform);
    } else if (!this.restoredTransform || this.fitAfterLayout || (focusGroup && fits)) {
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
    // A chain folded to fit has no source of its own: a click or Enter unfolds it.
    if (n.kind === 'chain') return this.toggle(n);
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
