import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import { sel, type Sel } from '../dom';
import type { Bounds } from './place-graph';
import { centerTransform, fitTransform, type ViewTransform } from './viewport-math';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ARROW_ROLES = ['data', 'regularization', 'mixed', 'unreached'];

/**
 * The zoomable drawing of the loss graph: the <svg>, its arrow markers, the viewport group everything is
 * drawn into, and d3's zoom behaviour. It knows nothing about the graph; the panel asks it to fit, centre
 * or restore a transform, and hears about every change the user makes.
 */
export class GraphViewport {
  readonly svg: Sel<SVGSVGElement>;
  readonly viewport: Sel<SVGGElement>;
  private readonly zoomBehavior: ZoomBehavior<SVGSVGElement, unknown>;
  transform: ZoomTransform = zoomIdentity;

  constructor(parent: HTMLElement, onEnd: (t: ViewTransform) => void) {
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
      .filter((event: Event) => (event.type !== 'dblclick' && !(event as MouseEvent).button) || event.type === 'wheel')
      .on('zoom', (event: { transform: ZoomTransform }) => {
        this.transform = event.transform;
        this.viewport.attr('transform', event.transform.toString());
      })
      .on('end', () => onEnd({ x: this.transform.x, y: this.transform.y, k: this.transform.k }));
    this.svg.call(this.zoomBehavior).on('dblclick.zoom', null);
  }

  get node(): SVGSVGElement {
    return this.svg.node()!;
  }

  box(): { width: number; height: number } {
    const r = this.node.getBoundingClientRect();
    return { width: r.width, height: r.height };
  }

  apply(t: ViewTransform, animate = false): void {
    const z = zoomIdentity.translate(t.x, t.y).scale(t.k);
    const target = animate ? this.svg.transition().duration(250) : this.svg;
    (target as unknown as Sel<SVGSVGElement>).call(this.zoomBehavior.transform, z);
  }

  fit(bounds: Bounds, readable: boolean, animate: boolean): void {
    const t = fitTransform(this.box(), bounds, readable);
    if (t) this.apply(t, animate);
  }

  centerOn(point: { x: number; y: number }): void {
    this.apply(centerTransform(this.box(), point, Math.max(this.transform.k, 0.6)));
  }
}
