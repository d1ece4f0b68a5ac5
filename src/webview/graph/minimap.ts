import { sel, type Sel } from '../dom';
import type { Bounds, PlacedNode } from './place-graph';
import type { Box, ViewTransform } from './viewport-math';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** The overview's largest size on screen. */
const MAX_W = 160;
const MAX_H = 140;

/** What part of the graph a transform shows in a box, in graph coordinates (clipped to the graph). */
export function visibleRect(t: ViewTransform, box: Box, bounds: Bounds): Bounds {
  const x0 = Math.max(bounds.x, -t.x / t.k);
  const y0 = Math.max(bounds.y, -t.y / t.k);
  const x1 = Math.min(bounds.x + bounds.width, (box.width - t.x) / t.k);
  const y1 = Math.min(bounds.y + bounds.height, (box.height - t.y) / t.k);
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** True when the view shows the whole graph (nothing to point at on an overview). */
export function showsAll(t: ViewTransform, box: Box, bounds: Bounds): boolean {
  const v = visibleRect(t, box, bounds);
  return v.width >= bounds.width - 1 && v.height >= bounds.height - 1;
}

/**
 * The overview of a graph that does not fit its box at a readable size (issue 21: nothing hinted that nodes were
 * hidden above the view): every node as a small box, the part on screen drawn as a frame; a click or a drag on it
 * brings that part of the graph into view. Hidden while the whole graph is in view.
 */
export class Minimap {
  private readonly svg: Sel<SVGSVGElement>;
  private scale = 1;
  private bounds: Bounds | null = null;

  constructor(
    parent: HTMLElement,
    private readonly goTo: (point: { x: number; y: number }) => void,
  ) {
    const svgEl = parent.ownerDocument.createElementNS(SVG_NS, 'svg') as SVGSVGElement;
    parent.appendChild(svgEl);
    this.svg = sel(svgEl).attr('class', 'll-minimap').attr('role', 'img').attr('display', 'none');
    this.svg.append('g').attr('class', 'll-minimap-nodes');
    this.svg.append('rect').attr('class', 'll-minimap-view');
    let dragging = false;
    const at = (e: PointerEvent) => {
      const r = svgEl.getBoundingClientRect();
      const b = this.bounds;
      if (!b) return;
      this.goTo({ x: b.x + (e.clientX - r.left) / this.scale, y: b.y + (e.clientY - r.top) / this.scale });
    };
    svgEl.addEventListener('pointerdown', (e) => {
      dragging = true;
      svgEl.setPointerCapture(e.pointerId);
      at(e);
      e.stopPropagation();
    });
    svgEl.addEventListener('pointermove', (e) => dragging && at(e));
    svgEl.addEventListener('pointerup', () => (dragging = false));
    svgEl.addEventListener('pointercancel', () => (dragging = false));
    // The drawing under it must not start a pan or a zoom from a press on the overview.
    for (const type of ['mousedown', 'wheel', 'dblclick', 'touchstart']) svgEl.addEventListener(type, (e) => e.stopPropagation());
  }

  /** Draw the nodes (a new layout) and the view's frame; hidden when the view shows the whole graph. */
  render(nodes: readonly PlacedNode[], bounds: Bounds, t: ViewTransform, box: Box): void {
    const all = showsAll(t, box, bounds);
    this.svg.attr('display', all ? 'none' : null);
    if (all) return;
    this.bounds = bounds;
    this.scale = Math.min(MAX_W / bounds.width, MAX_H / bounds.height);
    const s = this.scale;
    this.svg.attr('width', Math.ceil(bounds.width * s)).attr('height', Math.ceil(bounds.height * s));
    const hidden = nodes.filter((n) => !inside(n, visibleRect(t, box, bounds))).length;
    this.svg.attr('aria-label', `Overview of the loss graph: ${hidden} of ${nodes.length} nodes are outside the view; click or drag here to move it`);
    this.svg
      .select<SVGGElement>('g.ll-minimap-nodes')
      .selectAll<SVGRectElement, PlacedNode>('rect')
      .data(nodes, (d) => d.id)
      .join('rect')
      .attr('class', (d) => `ll-minimap-node${d.isSink ? ' sink' : ''}${d.reaches === false ? ' unreached' : ''}`)
      .attr('x', (d) => (d.x - d.width / 2 - bounds.x) * s)
      .attr('y', (d) => (d.y - d.height / 2 - bounds.y) * s)
      .attr('width', (d) => Math.max(2, d.width * s))
      .attr('height', (d) => Math.max(2, d.height * s));
    const v = visibleRect(t, box, bounds);
    this.svg
      .select('rect.ll-minimap-view')
      .attr('x', (v.x - bounds.x) * s)
      .attr('y', (v.y - bounds.y) * s)
      .attr('width', v.width * s)
      .attr('height', v.height * s);
  }
}

function inside(n: PlacedNode, v: Bounds): boolean {
  return n.x - n.width / 2 >= v.x - 0.5 && n.x + n.width / 2 <= v.x + v.width + 0.5 && n.y - n.height / 2 >= v.y - 0.5 && n.y + n.height / 2 <= v.y + v.height + 0.5;
}
