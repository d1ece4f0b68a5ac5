import { formatInt, formatNumber } from '../../shared/format';
import { axisBottom, axisLeft, scaleLinear, scaleLog, type ScaleContinuousNumeric } from 'd3';
import type { Curve } from '../../shared/series/curve-set';
import { downsampleM4, type CurvePoints } from '../../shared/series/downsample';
import { emptyExtent, isEmptyExtent, lowerBound } from '../../shared/series/lod-column';
import { el, sel, type Sel } from '../dom';

const SVG_NS = 'http://www.w3.org/2000/svg';
const MARGIN = { top: 14, right: 16, bottom: 26, left: 58 };

export interface ChartCurve {
  curve: Curve;
  /** CSS class giving its colour (currentColor). */
  colorClass: string;
  dashed: boolean;
  /** Mark non-finite runs of this curve. */
  markNonFinite: boolean;
}

export interface ChartFrame {
  steps: ArrayLike<number>;
  curves: ChartCurve[];
  x0: number;
  x1: number;
  log: boolean;
  smoothing: number;
  /** The run's newest step, drawn as the "now" line. */
  currentStep: number | null;
  /** Step under the crosshair, shared by every chart. */
  crosshair: number | null;
}

export interface ChartHooks {
  /** Pointer or keyboard moved the crosshair (null: left the plot). */
  crosshair(step: number | null): void;
  zoomBy(factor: number, aroundStep: number): void;
  panBy(steps: number): void;
  resetZoom(): void;
}


/** Keep path strings short: a tenth of a pixel is plenty. */
function r1(v: number): number {
  return Math.round(v * 10) / 10;
}

export function pathOf(points: CurvePoints, x: (v: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < points.length; i++) {
    const vy = points.y[i];
    if (Number.isNaN(vy)) {
      pen = false;
      continue;
    }
    const py = y(vy);
    if (!Number.isFinite(py)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${r1(x(points.x[i]))},${r1(py)}`;
    pen = true;
  }
  return d;
}

/**
 * One chart of training curves: M4-downsampled paths for the raw series (faint when smoothing is on)
 * and the smoothed ones, non-finite bands, the current-step line and a crosshair. `draw` updates the
 * same elements each frame; nothing is rebuilt.
 */
export class Chart {
  readonly root: HTMLElement;
  readonly svg: Sel<SVGSVGElement>;
  private readonly plot: Sel<SVGGElement>;
  private readonly readout: HTMLElement;
  private width = 600;
  private height = 220;
  private x: ScaleContinuousNumeric<number, number> = scaleLinear();
  private y: ScaleContinuousNumeric<number, number> = scaleLinear();
  private frame: ChartFrame | null = null;
  private pointerStep: number | null = null;
  /** Points drawn in the last frame, per curve id: what the tests compare with the data. */
  lastPoints = new Map<string, { raw: CurvePoints; smooth: CurvePoints | null }>();

  constructor(
    parent: HTMLElement,
    readonly title: string,
    private readonly hooks: ChartHooks,
  ) {
    this.root = el(parent, 'figure', 'll-chart');
    const svgEl = parent.ownerDocument.createElementNS(SVG_NS, 'svg') as SVGSVGElement;
    this.root.appendChild(svgEl);
    this.svg = sel(svgEl).attr('class', 'll-chart-svg');
    const clipId = `ll-clip-${title.replace(/\W+/g, '-')}`;
    this.svg.append('clipPath').attr('id', clipId).append('rect');
    this.plot = this.svg.append('g').attr('class', 'll-plot');
    this.plot.append('g').attr('class', 'll-grid');
    this.plot.append('g').attr('class', 'll-axis ll-axis-x');
    this.plot.append('g').attr('class', 'll-axis ll-axis-y');
    const clipped = this.plot.append('g').attr('class', 'll-clipped').attr('clip-path', `url(#${clipId})`);
    clipped.append('g').attr('class', 'll-bands');
    clipped.append('g').attr('class', 'll-lines');
    clipped.append('line').attr('class', 'll-now');
    clipped.append('line').attr('class', 'll-crosshair');
    clipped.append('g').attr('class', 'll-markers');
    this.plot.append('text').attr('class', 'll-now-label');
    const overlay = this.plot.append('rect').attr('class', 'll-overlay').attr('tabindex', 0).attr('role', 'slider');
    overlay.attr('aria-label', `${title}: arrow keys move the crosshair, + and − zoom, 0 resets`);
    this.readout = el(this.root, 'figcaption', 'll-readout');
    this.readout.setAttribute('aria-live', 'polite');

    const node = overlay.node()!;
    node.addEventListener('pointermove', (e) => {
      const [px] = this.pointer(e);
      this.pointerStep = this.x.invert(px);
      this.hooks.crosshair(this.pointerStep);
    });
    node.addEventListener('pointerleave', () => this.hooks.crosshair(null));
    node.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const [px] = this.pointer(e);
        this.hooks.zoomBy(Math.pow(2, e.deltaY * (e.deltaMode ? 0.05 : 0.002)), this.x.invert(px));
      },
      { passive: false },
    );
    let drag: { px: number; pointer: number } | null = null;
    node.addEventListener('pointerdown', (e) => {
      drag = { px: this.pointer(e)[0], pointer: e.pointerId };
      node.setPointerCapture(e.pointerId);
    });
    node.addEventListener('pointermove', (e) => {
      if (!drag || drag.pointer !== e.pointerId) return;
      const px = this.pointer(e)[0];
      const dx = px - drag.px;
      drag.px = px;
      if (dx !== 0) this.hooks.panBy(-(this.x.invert(dx) - this.x.invert(0)));
    });
    const end = () => (drag = null);
    node.addEventListener('pointerup', end);
    node.addEventListener('pointercancel', end);
    node.addEventListener('dblclick', () => this.hooks.resetZoom());
    node.addEventListener('keydown', (e) => {
      const f = this.frame;
      if (!f) return;
      const span = f.x1 - f.x0;
      const at = f.crosshair ?? f.currentStep ?? f.x1;
      const stepKey = Math.max(1, Math.round(span / 100));
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') this.hooks.crosshair(Math.round(at + (e.key === 'ArrowLeft' ? -stepKey : stepKey)));
      else if (e.key === 'Home') this.hooks.crosshair(f.x0);
      else if (e.key === 'End') this.hooks.crosshair(f.x1);
      else if (e.key === '+' || e.key === '=') this.hooks.zoomBy(0.5, at);
      else if (e.key === '-') this.hooks.zoomBy(2, at);
      else if (e.key === '0') this.hooks.resetZoom();
      else return;
      e.preventDefault();
    });
  }

  private pointer(e: MouseEvent): [number, number] {
    const r = (this.plot.select('rect.ll-overlay').node() as SVGRectElement).getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  resize(width: number, height: number): void {
    this.width = Math.max(120, width);
    this.height = Math.max(100, height);
  }

  get plotWidth(): number {
    return this.width - MARGIN.left - MARGIN.right;
  }

  draw(frame: ChartFrame): void {
    this.frame = frame;
    const w = this.plotWidth;
    const h = this.height - MARGIN.top - MARGIN.bottom;
    this.svg.attr('width', this.width).attr('height', this.height).attr('viewBox', `0 0 ${this.width} ${this.height}`);
    this.svg.select('clipPath rect').attr('width', w).attr('height', h);
    this.plot.attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);
    this.plot.select('rect.ll-overlay').attr('width', w).attr('height', h);

    const n = frame.steps.length;
    const i0 = Math.max(0, lowerBound(frame.steps, frame.x0) - 1);
    const i1 = Math.min(n, lowerBound(frame.steps, frame.x1) + 1);
    const ext = emptyExtent();
    const smoothOn = frame.smoothing > 0;
    for (const c of frame.curves) {
      c.curve.raw.extent(i0, i1, ext);
    }
    let lo = frame.log ? ext.minPositive : ext.min;
    let hi = ext.max;
    if (isEmptyExtent(ext) || !(lo <= hi)) {
      lo = frame.log ? 0.1 : 0;
      hi = 1;
    }
    if (frame.log) {
      if (lo === hi) {
        lo /= 2;
        hi *= 2;
      }
      this.y = scaleLog().domain([lo, hi]).range([h, 0]).nice();
    } else {
      const pad = lo === hi ? Math.abs(lo) * 0.1 || 1 : (hi - lo) * 0.05;
      this.y = scaleLinear()
        .domain([lo - pad, hi + pad])
        .range([h, 0])
        .nice();
    }
    this.x = scaleLinear().domain([frame.x0, frame.x1]).range([0, w]);
    const x = this.x;
    const y = this.y;

    this.plot
      .select<SVGGElement>('g.ll-axis-x')
      .attr('transform', `translate(0,${h})`)
      .call(axisBottom(x).ticks(Math.max(2, Math.floor(w / 90)), ',d').tickSizeOuter(0));
    const yTicks = Math.max(2, Math.floor(h / 40));
    this.plot
      .select<SVGGElement>('g.ll-axis-y')
      .call(axisLeft(y).ticks(yTicks).tickFormat((v) => formatNumber(Number(v))).tickSizeOuter(0));
    this.plot
      .select<SVGGElement>('g.ll-grid')
      .selectAll<SVGLineElement, number>('line')
      .data(y.ticks(yTicks))
      .join('line')
      .attr('x1', 0)
      .attr('x2', w)
      .attr('y1', (d) => y(d))
      .attr('y2', (d) => y(d));

    // Lines: the raw series, then the smoothed ones over it.
    const rows: Array<{ id: string; cls: string; d: string }> = [];
    this.lastPoints.clear();
    const xf = (v: number) => x(v);
    const yf = (v: number) => y(v);
    for (const c of frame.curves) {
      const raw = downsampleM4({ steps: frame.steps, column: c.curve.raw, x0: frame.x0, x1: frame.x1, pixels: w, log: frame.log });
      const smooth = smoothOn
        ? downsampleM4({ steps: frame.steps, column: c.curve.smooth, x0: frame.x0, x1: frame.x1, pixels: w, log: frame.log })
        : null;
      this.lastPoints.set(c.curve.id, { raw, smooth });
      const base = `${c.colorClass}${c.dashed ? ' dashed' : ''}`;
      rows.push({ id: `${c.curve.id}:raw`, cls: `ll-line raw ${base}${smoothOn ? ' faint' : ''}`, d: pathOf(raw, xf, yf) });
      if (smooth) rows.push({ id: `${c.curve.id}:smooth`, cls: `ll-line smooth ${base}`, d: pathOf(smooth, xf, yf) });
    }
    this.plot
      .select<SVGGElement>('g.ll-lines')
      .selectAll<SVGPathElement, (typeof rows)[number]>('path')
      .data(rows, (d) => d.id)
      .join('path')
      .attr('class', (d) => d.cls)
      .attr('data-curve', (d) => d.id)
      .attr('d', (d) => d.d);

    // Non-finite runs: a band from the first to the last such step, and a marker at its start.
    const bands: Array<{ id: string; x0: number; x1: number; label: string }> = [];
    for (const c of frame.curves) {
      if (!c.markNonFinite) continue;
      for (const [s, e] of c.curve.raw.nonFiniteRuns(i0, i1)) {
        const v = c.curve.valueAt(s);
        const label = v !== null && Number.isNaN(v) ? 'NaN' : v !== null && v < 0 ? '−∞' : '∞';
        const bx0 = x(frame.steps[s]);
        const bx1 = x(frame.steps[e - 1]);
        const last = bands[bands.length - 1];
        if (last && bx0 - last.x1 < 3) {
          last.x1 = Math.max(last.x1, bx1);
          continue;
        }
        bands.push({ id: `${c.curve.id}:${s}`, x0: bx0, x1: bx1, label: `${label} from step ${frame.steps[s]}` });
      }
    }
    bands.sort((a, b) => a.x0 - b.x0);
    this.plot
      .select<SVGGElement>('g.ll-bands')
      .selectAll<SVGRectElement, (typeof bands)[number]>('rect')
      .data(bands, (d) => d.id)
      .join('rect')
      .attr('class', 'll-nonfinite-band')
      .attr('x', (d) => d.x0 - 1)
      .attr('width', (d) => Math.max(2, d.x1 - d.x0 + 2))
      .attr('y', 0)
      .attr('height', h);
    this.plot
      .select<SVGGElement>('g.ll-markers')
      .selectAll<SVGGElement, (typeof bands)[number]>('g.ll-nonfinite-marker')
      .data(bands.slice(0, 50), (d) => d.id)
      .join((enter) => {
        const g = enter.append('g').attr('class', 'll-nonfinite-marker');
        g.append('path').attr('d', 'M-5,0L5,0L0,8z');
        g.append('text').attr('x', 7).attr('y', 8);
        return g;
      })
      .attr('transform', (d) => `translate(${d.x0},0)`)
      .call((g) => g.select('text').text((d) => d.label));

    const now = frame.currentStep;
    const nowVisible = now !== null && now >= frame.x0 && now <= frame.x1;
    this.plot
      .select('line.ll-now')
      .attr('display', nowVisible ? null : 'none')
      .attr('x1', nowVisible ? x(now!) : 0)
      .attr('x2', nowVisible ? x(now!) : 0)
      .attr('y1', 0)
      .attr('y2', h);
    this.plot
      .select('text.ll-now-label')
      .attr('display', nowVisible ? null : 'none')
      .attr('x', nowVisible ? Math.min(x(now!), w) - 4 : 0)
      .attr('y', -3)
      .attr('text-anchor', 'end')
      .text(now === null ? '' : `step ${formatInt(now)}`);

    this.drawCrosshair();
  }

  private drawCrosshair(): void {
    const f = this.frame;
    const h = this.height - MARGIN.top - MARGIN.bottom;
    const line = this.plot.select('line.ll-crosshair');
    if (!f || f.crosshair === null || f.steps.length === 0) {
      line.attr('display', 'none');
      this.readout.textContent = '';
      this.readout.classList.remove('active');
      return;
    }
    let i = lowerBound(f.steps, f.crosshair);
    if (i >= f.steps.length) i = f.steps.length - 1;
    if (i > 0 && Math.abs(f.steps[i - 1] - f.crosshair) < Math.abs(f.steps[i] - f.crosshair)) i--;
    const step = f.steps[i];
    const px = this.x(step);
    line.attr('display', null).attr('x1', px).attr('x2', px).attr('y1', 0).attr('y2', h);
    this.readout.replaceChildren();
    this.readout.classList.add('active');
    el(this.readout, 'span', 'll-readout-step', `step ${formatInt(step)}`);
    const exact = (v: number | null) => formatNumber(v, 6);
    const MAX = 8;
    const rows = f.curves
      .map((c) => ({ c, v: c.curve.valueAt(i) }))
      .sort((a, b) => (b.v ?? -Infinity) - (a.v ?? -Infinity));
    for (const { c, v } of rows.slice(0, MAX)) {
      const item = el(this.readout, 'span', `ll-readout-item ${c.colorClass}`);
      el(item, 'span', 'll-swatch');
      el(item, 'span', 'll-readout-label', c.curve.label);
      el(item, 'span', 'll-readout-value', exact(v));
      if (f.smoothing > 0 && c.curve.ema.synced > i) el(item, 'span', 'll-readout-smooth', `smoothed ${exact(c.curve.smooth.valueAt(i))}`);
    }
    if (rows.length > MAX) el(this.readout, 'span', 'll-more', `+${rows.length - MAX} more`);
  }

  setCrosshair(step: number | null): void {
    if (!this.frame) return;
    this.frame.crosshair = step;
    this.drawCrosshair();
  }
}
