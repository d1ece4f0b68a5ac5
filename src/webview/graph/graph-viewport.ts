import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import { sel, type Sel } from '../dom';
import type { Bounds } from './place-graph';
import { READABLE_SCALE, centerTransform, clampPan, fitTransform, revealTransform, type ViewTransform } from './viewport-math';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ARROW_ROLES = ['data', 'regularization', 'mixed', 'unreached'];

/**
 * The zoomable drawing of the loss graph: the <svg>, its arrow markers, the viewport group everything is
 * drawn into, and d3's zoom behaviour. The wheel pans (like scrolling a page, and the page scrolls on once
 * the graph's edge is reached); Ctrl/⌘ + wheel, a pinch, the zoom buttons and the − / + keys zoom.
 */
export class GraphViewport {
  readonly svg: Sel<SVGSVGElement>;
  readonly viewport: Sel<SVGGElement>;
  private readonly zoomBehavior: ZoomBehavior<SVGSVGElement, unknown>;
  transform: ZoomTransform = zoomIdentity;
  /** The drawn graph's extent, for panning limits; null before the first layout. */
  bounds: Bounds | null = null;
  /** Called on every change of the view (the overview follows it). */
  onZoom: (() => void) | null = null;

  constructor(
    parent: HTMLElement,
    private readonly onEnd: (t: ViewTransform) => void,
    /** The user moved the view (drag, pinch, wheel, the zoom buttons): a resize no longer re-fits it. */
    private readonly onUserMove: () => void = () => {},
  ) {
    const svgEl = parent.ownerDocument.createElementNS(SVG_NS, 'svg') as SVGSVGElement;
    parent.appendChild(svgEl);
    this.svg = sel(svgEl).attr('class', 'll-graph-svg').attr('role', 'group').attr('aria-label', 'Loss graph');
    const defs = this.svg.append('defs');
    for (const role of ARROW_ROLES) {
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
      // Drag pans; a wheel zooms only with Ctrl/⌘ (a pinch arrives as Ctrl + wheel); a plain wheel pans, below.
      .filter((event: Event) => {
        if (event.type === 'wheel') return (event as WheelEvent).ctrlKey || (event as WheelEvent).metaKey;
        return event.type !== 'dblclick' && !(event as MouseEvent).button;
      })
      .on('zoom', (event: { transform: ZoomTransform; sourceEvent: Event | null }) => {
        if (event.sourceEvent) this.onUserMove();
        this.transform = event.transform;
        this.viewport.attr('transform', event.transform.toString());
        this.onZoom?.();
      })
      .on('end', () => this.onEnd(this.current()));
    this.svg.call(this.zoomBehavior).on('dblclick.zoom', null);
    svgEl.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
  }

  get node(): SVGSVGElement {
    return this.svg.node()!;
  }

  current(): ViewTransform {
    return { x: this.transform.x, y: this.transform.y, k: this.transform.k };
  }

  box(): { width: number; height: number } {
    const r = this.node.getBoundingClientRect();
    return { width: r.width, height: r.height };
  }

  private wheel(e: WheelEvent): void {
    if (e.ctrlKey || e.metaKey || !this.bounds) return;
    const line = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.box().height : 1;
    const dx = (e.shiftKey && !e.deltaX ? e.deltaY : e.deltaX) * line;
    const dy = (e.shiftKey && !e.deltaX ? 0 : e.deltaY) * line;
    const t = this.current();
    const next = clampPan({ ...t, x: t.x - dx, y: t.y - dy }, this.box(), this.bounds);
    // At the graph's edge the wheel scrolls the page instead.
    if (Math.abs(next.x - t.x) < 0.5 && Math.abs(next.y - t.y) < 0.5) return;
    e.preventDefault();
    this.onUserMove();
    // A programmatic transform ends like a drag does, so the new view is saved too.
    this.apply(next);
  }

  apply(t: ViewTransform, animate = false): void {
    const z = zoomIdentity.translate(t.x, t.y).scale(t.k);
    const target = animate ? this.svg.transition().duration(250) : this.svg;
    (target as unknown as Sel<SVGSVGElement>).call(this.zoomBehavior.transform, z);
  }

  /** Fit at a readable scale (never below it: the graph pans instead), centred on `focus` when it does not fit. */
  fit(bounds: Bounds, focus: { x: number; y: number } | null, animate: boolean): void {
    const t = fitTransform(this.box(), bounds, READABLE_SCALE, focus);
    if (t) this.apply(t, animate);
  }

  /** Zoom around the box's centre (the toolbar's − and +). */
  zoomBy(factor: number): void {
    this.onUserMove();
    this.svg.transition().duration(150).call(this.zoomBehavior.scaleBy, factor);
  }

  centerOn(point: { x: number; y: number }): void {
    this.apply(centerTransform(this.box(), point, Math.max(this.transform.k, READABLE_SCALE)));
  }

  /** Centre a graph point at the current scale, kept inside the graph's edges (a click on the overview). */
  panTo(point: { x: number; y: number }): void {
    if (!this.bounds) return;
    this.onUserMove();
    this.apply(clampPan(centerTransform(this.box(), point, this.transform.k), this.box(), this.bounds));
  }

  /** Pan just enough to show a rectangle of the graph (a node that got the keyboard focus). */
  reveal(rect: Bounds): void {
    const t = revealTransform(this.current(), this.box(), rect);
    if (t) this.apply(t);
  }
}
