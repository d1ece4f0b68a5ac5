import { axisBottom, axisLeft, type ScaleContinuousNumeric } from 'd3';
import { formatInt, formatNumber } from '../../shared/format';
import type { Sel } from '../dom';
import { stepTicks, type LineRow, type NonFiniteBand } from './chart-data';

/**
 * The marks of a chart, the way Observable Plot writes them: each one draws one kind of thing into its own
 * group from plain data and the scales, with a keyed join, so calling it again updates it in place.
 */
export type YScale = ScaleContinuousNumeric<number, number>;
export interface PlotSize {
  width: number;
  height: number;
}

export function axesMark(plot: Sel<SVGGElement>, x: YScale, y: YScale, size: PlotSize, yTicks: number[]): void {
  plot
    .select<SVGGElement>('g.ll-axis-x')
    .attr('transform', `translate(0,${size.height})`)
    .call(
      axisBottom(x)
        .tickValues(stepTicks(x.domain()[0], x.domain()[1], Math.max(2, Math.floor(size.width / 90))))
        .tickFormat((v) => formatInt(Number(v)))
        .tickSizeOuter(0),
    );
  plot.select<SVGGElement>('g.ll-axis-y').call(
    axisLeft(y)
      .tickValues(yTicks)
      .tickFormat((v) => formatNumber(Number(v)))
      .tickSizeOuter(0),
  );
}

export function gridMark(g: Sel<SVGGElement>, y: YScale, yTicks: number[], width: number): void {
  g.selectAll<SVGLineElement, number>('line')
    .data(yTicks)
    .join('line')
    .attr('x1', 0)
    .attr('x2', width)
    .attr('y1', (d) => y(d))
    .attr('y2', (d) => y(d));
}

export function linesMark(g: Sel<SVGGElement>, rows: readonly LineRow[]): void {
  g.selectAll<SVGPathElement, LineRow>('path')
    .data(rows, (d) => d.id)
    .join('path')
    .attr('class', (d) => d.cls)
    .attr('data-curve', (d) => d.id)
    .attr('d', (d) => d.d);
}

export function bandsMark(g: Sel<SVGGElement>, bands: readonly NonFiniteBand[], height: number): void {
  g.selectAll<SVGRectElement, NonFiniteBand>('rect')
    .data(bands, (d) => d.id)
    .join('rect')
    .attr('class', 'll-nonfinite-band')
    .attr('x', (d) => d.x0 - 1)
    .attr('width', (d) => Math.max(2, d.x1 - d.x0 + 2))
    .attr('y', 0)
    .attr('height', height);
}

/** A triangle and a label at the start of each band (the first 50: past that they would only overlap). */
export function nonFiniteMarkersMark(g: Sel<SVGGElement>, bands: readonly NonFiniteBand[]): void {
  g.selectAll<SVGGElement, NonFiniteBand>('g.ll-nonfinite-marker')
    .data(bands.slice(0, 50), (d) => d.id)
    .join((enter) => {
      const m = enter.append('g').attr('class', 'll-nonfinite-marker');
      m.append('path').attr('d', 'M-5,0L5,0L0,8z');
      m.append('text').attr('x', 7).attr('y', 8);
      return m;
    })
    .attr('transform', (d) => `translate(${d.x0},0)`)
    .call((m) => m.select('text').text((d) => d.label));
}

/** The run's newest step: a dotted vertical line and its label, when it is in view. */
export function nowMark(plot: Sel<SVGGElement>, now: number | null, visible: boolean, x: YScale, size: PlotSize): void {
  const px = visible && now !== null ? x(now) : 0;
  plot
    .select('line.ll-now')
    .attr('display', visible ? null : 'none')
    .attr('x1', px)
    .attr('x2', px)
    .attr('y1', 0)
    .attr('y2', size.height);
  plot
    .select('text.ll-now-label')
    .attr('display', visible ? null : 'none')
    .attr('x', visible ? Math.min(px, size.width) - 4 : 0)
    .attr('y', -3)
    .attr('text-anchor', 'end')
    .text(now === null ? '' : `step ${formatInt(now)}`);
}

export function crosshairMark(line: Sel<SVGLineElement>, px: number | null, height: number): void {
  if (px === null) line.attr('display', 'none');
  else line.attr('display', null).attr('x1', px).attr('x2', px).attr('y1', 0).attr('y2', height);
}

export interface ChartRule {
  id: string;
  y: number;
  label: string;
}

/** Horizontal reference lines across the plot, each with its label at the right end. */
export function rulesMark(g: Sel<SVGGElement>, rules: readonly ChartRule[], y: YScale, size: PlotSize): void {
  g.selectAll<SVGGElement, ChartRule>('g.ll-rule')
    .data(rules.filter((r) => Number.isFinite(y(r.y))), (d) => d.id)
    .join((enter) => {
      const r = enter.append('g').attr('class', 'll-rule');
      r.append('line');
      r.append('text').attr('dy', '-0.35em').attr('text-anchor', 'end');
      return r;
    })
    .attr('transform', (d) => `translate(0,${y(d.y)})`)
    .call((r) => r.select('line').attr('x1', 0).attr('x2', size.width))
    // At the right end, over the lines with a halo: the lines start at the left, where the start-up step is.
    .call((r) => r.select('text').attr('x', size.width - 4))
    .call((r) => r.select('text').text((d) => d.label));
}
