import { scaleLinear, scaleLog, type ScaleContinuousNumeric } from 'd3';
import { displaySafe, formatInt, formatNumber } from '../../shared/format';
import type { CurvePoints } from '../series/downsample';
import { el, sel, type Sel } from '../dom';
import { chartExtent, linePaths, logTicks, nearestRow, nonFiniteBands, yDomain, type DrawnCurve, type LineRow } from './chart-data';
import { markerSetsOf, markersMark, zeroBandMark, zeroLinesOf, ZERO_BAND, ZERO_LINE } from './chart-extras';
import { coinciding, type Coincidence } from './coincide';
import { axesMark, bandsMark, crosshairMark, gridMark, linesMark, nonFiniteMarkersMark, nowMark, rulesMark, type ChartRule } from './chart-marks';

export type { ChartRule } from './chart-marks';

const SVG_NS = 'http://www.w3.org/2000/svg';
const MARGIN = { top: 14, right: 16, bottom: 26, left: 58 };

export interface ChartCurve extends DrawnCurve {
  /** Mark non-finite runs of this curve. */
  markNonFinite: boolean;
}

/** The row of a curve's own step column that holds `step`, or null when it has none. */
function rowAt(steps: ArrayLike<number>, step: number): number | null {
  if (steps.length === 0) return null;
  const i = nearestRow(steps, step);
  return steps[i] === step ? i : null;
}

/** Values listed under the chart at the crosshair, largest first. */
const READOUT_ROWS = 8;

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
  /** Horizontal reference lines (a section's "no decay" level, say). */
  rules?: ChartRule[];
  /** On a log scale: draw exact zeros in a band under the axis, labelled with what a zero means there. */
  zeroLabel?: string;
  /** The value range ignores steps before this one (a start-up step's outliers); they are drawn, clipped. */
  rangeFrom?: number;
}

export interface ChartHooks {
  /** Pointer or keyboard moved the crosshair (null: left the plot). */
  crosshair(step: number | null): void;
  zoomBy(factor: number, aroundStep: number): void;
  panBy(steps: number): void;
  resetZoom(): void;
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
  private pointerY: number | null = null;
  /** The curve under the pointer, highlighted and named beside it. */
  hovered: string | null = null;
  /** Points drawn in the last frame, per curve id: what the tests compare with the data. */
  lastPoints = new Map<string, { raw: CurvePoints; smooth: CurvePoints | null }>();
  /** Lines lying on one another (and on a reference line) in the last frame: the legend says so. */
  coincidence: Coincidence = { groups: [], onRule: new Map() };
  /** The zero band's y, when the last frame drew one. */
  private zeroY: number | null = null;

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
    clipped.append('g').attr('class', 'll-rules');
    clipped.append('g').attr('class', 'll-lines');
    this.plot.append('g').attr('class', 'll-zero');
    // Outside the clip: a marker may sit on the zero band; markerSets keeps them inside the plot.
    this.plot.append('g').attr('class', 'll-marker-sets');
    clipped.append('line').attr('class', 'll-now');
    clipped.append('line').attr('class', 'll-crosshair');
    clipped.append('g').attr('class', 'll-markers');
    this.plot.append('text').attr('class', 'll-now-label');
    this.plot.append('text').attr('class', 'll-line-label').attr('display', 'none');
    const overlay = this.plot.append('rect').attr('class', 'll-overlay').attr('tabindex', 0).attr('role', 'slider');
    overlay.attr('aria-label', `${title}: arrow keys move the crosshair, + and − zoom, 0 resets`);
    this.readout = el(this.root, 'figcaption', 'll-readout');
    this.readout.setAttribute('aria-live', 'polite');

    const node = overlay.node()!;
    node.addEventListener('pointermove', (e) => {
      const [px, py] = this.pointer(e);
      this.pointerStep = this.x.invert(px);
      this.pointerY = py;
      this.hooks.crosshair(this.pointerStep);
      this.updateHover();
    });
    node.addEventListener('pointerleave', () => {
      this.pointerY = null;
      this.hooks.crosshair(null);
      this.updateHover();
    });
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

  private get plotHeight(): number {
    return this.height - MARGIN.top - MARGIN.bottom;
  }

  draw(frame: ChartFrame): void {
    this.frame = frame;
    const size = { width: this.plotWidth, height: this.plotHeight };
    this.svg.attr('width', this.width).attr('height', this.height).attr('viewBox', `0 0 ${this.width} ${this.height}`);
    this.svg.select('clipPath rect').attr('width', size.width);
    this.plot.attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);
    this.plot.select('rect.ll-overlay').attr('width', size.width).attr('height', size.height);

    const rules = frame.rules ?? [];
    this.x = scaleLinear().domain([frame.x0, frame.x1]).range([0, size.width]);
    const x = (v: number) => this.x(v);
    const zeros = frame.log && frame.zeroLabel !== undefined ? zeroLinesOf(frame.curves, frame.x0, frame.x1, size.width, x) : [];
    const band = zeros.length > 0 ? ZERO_BAND : 0;
    const domain = yDomain(chartExtent(frame.curves, frame.x0, frame.x1, rules.map((r) => r.y), frame.rangeFrom), frame.log);
    this.y = (frame.log ? scaleLog() : scaleLinear()).domain(domain).range([size.height - band, 0]).nice();
    this.zeroY = band ? size.height - ZERO_LINE : null;
    // Values under a log range (a start-up step) leave the plot at its bottom, never through the zero band.
    this.svg.select('clipPath rect').attr('height', size.height - band);
    const y = (v: number) => this.y(v);
    const yTicks = Math.max(2, Math.floor((size.height - band) / 40));
    const [lo, hi] = this.y.domain();
    const yValues = frame.log ? logTicks(lo, hi, yTicks) : this.y.ticks(yTicks);

    axesMark(this.plot, this.x, this.y, size, yValues);
    gridMark(this.plot.select('g.ll-grid'), this.y, yValues, size.width);
    zeroBandMark(this.plot.select('g.ll-zero'), band ? frame.zeroLabel! : null, zeros, size);
    const lines = linePaths(frame.curves, frame, size.width, x, y);
    this.lastPoints = lines.points;
    linesMark(this.plot.select('g.ll-lines'), lines.rows);
    // A zero sits in its band: lines that are zero together coincide there too.
    const yDrawn = (v: number) => (v === 0 && this.zeroY !== null ? this.zeroY : this.y(v));
    this.coincidence = coinciding(frame.curves, frame.x0, frame.x1, yDrawn, rules, { smoothed: frame.smoothing > 0 });
    const scales = { x, y: yDrawn, invert: (px: number) => this.x.invert(px) };
    const view = { x0: frame.x0, x1: frame.x1, width: size.width, smoothed: frame.smoothing > 0 };
    markersMark(this.plot.select('g.ll-marker-sets'), markerSetsOf(this.coincidence, frame.curves, scales, view, size.height));
    const bands = nonFiniteBands(frame.curves, frame.x0, frame.x1, x);
    bandsMark(this.plot.select('g.ll-bands'), bands, size.height);
    nonFiniteMarkersMark(this.plot.select('g.ll-markers'), bands);
    const now = frame.currentStep;
    nowMark(this.plot, now, now !== null && now >= frame.x0 && now <= frame.x1, this.x, size);
    rulesMark(this.plot.select('g.ll-rules'), frame.rules ?? [], this.y, size);
    this.drawCrosshair();
    this.updateHover();
  }

  private drawCrosshair(): void {
    const f = this.frame;
    const line = this.plot.select<SVGLineElement>('line.ll-crosshair');
    this.readout.replaceChildren();
    if (!f || f.crosshair === null || f.steps.length === 0) {
      crosshairMark(line, null, 0);
      this.readout.classList.remove('active');
      return;
    }
    const i = nearestRow(f.steps, f.crosshair);
    crosshairMark(line, this.x(f.steps[i]), this.plotHeight);
    this.readout.classList.add('active');
    el(this.readout, 'span', 'll-readout-step', `step ${formatInt(f.steps[i])}`);
    const exact = (v: number | null) => formatNumber(v, 6);
    // Each curve at its own row for that step (a decay curve, or a compared run, has its own step column).
    const rows = f.curves
      .map((c) => ({ c, row: rowAt(c.curve.steps, f.steps[i]) }))
      .map(({ c, row }) => ({ c, row, v: row === null ? null : c.curve.valueAt(row) }))
      .sort((a, b) => (b.v ?? -Infinity) - (a.v ?? -Infinity));
    for (const { c, v, row } of rows.slice(0, READOUT_ROWS)) {
      const item = el(this.readout, 'span', `ll-readout-item ${c.cls}`);
      el(item, 'span', 'll-swatch');
      el(item, 'span', 'll-readout-label', c.curve.label);
      el(item, 'span', 'll-readout-value', exact(v));
      if (row !== null && f.smoothing > 0 && c.curve.ema.synced > row) el(item, 'span', 'll-readout-smooth', `smoothed ${exact(c.curve.smooth.valueAt(row))}`);
    }
    if (rows.length > READOUT_ROWS) el(this.readout, 'span', 'll-more', `+${rows.length - READOUT_ROWS} more`);
  }

  /**
   * Name the line nearest the pointer (within 24 px, at the crosshair's step): with hundreds of layers a
   * legend cannot tell which line is which, the pointer can.
   */
  private updateHover(): void {
    const f = this.frame;
    let best: { id: string; label: string; x: number; y: number; d: number } | null = null;
    if (f && this.pointerY !== null && f.crosshair !== null && f.steps.length) {
      const at = f.steps[nearestRow(f.steps, f.crosshair)];
      for (const c of f.curves) {
        const i = rowAt(c.curve.steps, at);
        if (i === null) continue;
        const v = f.smoothing > 0 && c.curve.ema.synced > i ? c.curve.smooth.valueAt(i) : c.curve.valueAt(i);
        if (v === null || !Number.isFinite(v) || (f.log && v < 0) || (f.log && v === 0 && this.zeroY === null)) continue;
        const y = f.log && v === 0 ? this.zeroY! : this.y(v);
        const d = Math.abs(y - this.pointerY);
        if (d <= 24 && (!best || d < best.d)) best = { id: c.curve.id, label: c.curve.label, x: this.x(at), y, d };
      }
    }
    this.hovered = best?.id ?? null;
    this.plot.select('g.ll-lines').selectAll<SVGPathElement, LineRow>('path').classed('hovered', (d) => best !== null && d.id.startsWith(`${best.id}:`));
    const label = this.plot.select('text.ll-line-label').attr('display', best ? null : 'none');
    if (best) {
      const right = best.x > this.plotWidth * 0.6;
      label
        .attr('x', best.x + (right ? -8 : 8))
        .attr('y', best.y - 6)
        .attr('text-anchor', right ? 'end' : 'start')
        .text(displaySafe(best.label));
    }
  }

  /** Drop the last frame and its points: they hold the columns of a run that is gone. */
  clear(): void {
    this.frame = null;
    this.lastPoints = new Map();
    this.hovered = null;
  }

  setCrosshair(step: number | null): void {
    if (!this.frame) return;
    this.frame.crosshair = step;
    this.drawCrosshair();
  }
}
