import { symbol, symbolCircle, symbolDiamond, symbolSquare, symbolTriangle } from 'd3';
import type { Curve } from '../series/curve-set';
import { downsampleM4 } from '../series/downsample';
import { sel, type Sel } from '../dom';
import { zeroRuns, type Scale } from './chart-data';
import type { PlotSize } from './chart-marks';
import { markerPoints, type Coincidence } from './coincide';

/**
 * Marks a log chart needs besides its lines: the band where exact zeros are drawn (a log axis has no zero), and the
 * markers that tell apart lines lying on one another. Keyed joins, like chart-marks.ts: drawing again updates them.
 */

/** Height of the zero band under a log chart's plot area. */
export const ZERO_BAND = 30;
/** The zero line's distance from the plot's bottom: under the band's label, clear of it. */
export const ZERO_LINE = 9;

export interface ZeroLine {
  id: string;
  cls: string;
  /** [x0, x1] pixel spans of the curve's runs of zeros. */
  spans: Array<[number, number]>;
}

/**
 * A labelled band under the log axis, its zero line, and each curve's runs of zeros on it, in the curve's colour
 * and stroke. `label` null: no curve is zero in view, and the band takes no room.
 */
export function zeroBandMark(g: Sel<SVGGElement>, label: string | null, lines: readonly ZeroLine[], size: PlotSize): void {
  g.attr('display', label === null ? 'none' : null);
  const top = size.height - ZERO_BAND;
  const mid = size.height - ZERO_LINE;
  g.selectAll<SVGRectElement, number>('rect.ll-zero-band')
    .data(label === null ? [] : [0])
    .join('rect')
    .attr('class', 'll-zero-band')
    .attr('x', 0)
    .attr('y', top)
    .attr('width', size.width)
    .attr('height', ZERO_BAND);
  g.selectAll<SVGTextElement, string>('text.ll-zero-label')
    .data(label === null ? [] : [label])
    .join('text')
    .attr('class', 'll-zero-label')
    .attr('x', -6)
    .attr('y', mid)
    .attr('dy', '0.32em')
    .attr('text-anchor', 'end')
    .text('0');
  g.selectAll<SVGTextElement, string>('text.ll-zero-note')
    .data(label === null ? [] : [label])
    .join('text')
    .attr('class', 'll-zero-note')
    .attr('x', 4)
    .attr('y', top + 2)
    .attr('dy', '0.9em')
    .attr('text-anchor', 'start')
    .text((d) => d);
  g.selectAll<SVGPathElement, ZeroLine>('path.ll-line')
    .data(label === null ? [] : lines, (d) => d.id)
    .join('path')
    .attr('class', (d) => `ll-line zero ${d.cls}`)
    .attr('data-curve', (d) => d.id)
    // A run of one step is a short tick, so a single zero still shows.
    .attr('d', (d) => d.spans.map(([a, b]) => `M${Math.round((b - a < 4 ? a - 3 : a) * 10) / 10},${mid}H${Math.round((b - a < 4 ? a + 3 : b) * 10) / 10}`).join(''));
}

export interface MarkerSet {
  id: string;
  cls: string;
  /** The member's turn in its group: its shape. */
  shape: number;
  points: Array<[number, number]>;
}

const SHAPES = [symbolCircle, symbolSquare, symbolTriangle, symbolDiamond];

/** Small shapes along each line of a coinciding group, in the line's colour, each member its own shape. */
export function markersMark(g: Sel<SVGGElement>, sets: readonly MarkerSet[]): void {
  g.selectAll<SVGGElement, MarkerSet>('g.ll-marker-set')
    .data(sets, (d) => d.id)
    .join('g')
    .attr('class', (d) => `ll-marker-set ${d.cls}`)
    .attr('data-curve', (d) => d.id)
    .each(function (d) {
      const path = symbol(SHAPES[d.shape % SHAPES.length], 30)() ?? '';
      const s = sel(this as SVGGElement).selectAll<SVGPathElement, [number, number]>('path').data(d.points);
      s.join('path')
        .attr('class', 'll-marker')
        .attr('d', path)
        .attr('transform', (p) => `translate(${Math.round(p[0] * 10) / 10},${Math.round(p[1] * 10) / 10})`);
    });
}

type Drawn = { curve: Curve; cls: string };

/** Each curve's runs of exact zeros in view, in pixels (at full M4 resolution: a zero between steps is kept). */
export function zeroLinesOf(curves: readonly Drawn[], x0: number, x1: number, pixels: number, x: Scale): ZeroLine[] {
  const out: ZeroLine[] = [];
  for (const c of curves) {
    const points = downsampleM4({ steps: c.curve.steps, column: c.curve.raw, x0, x1, pixels, log: false });
    const runs = zeroRuns(points).map(([a, b]): [number, number] => [x(a), x(b)]);
    if (runs.length) out.push({ id: `${c.curve.id}:zero`, cls: c.cls, spans: runs });
  }
  return out;
}

/** Markers for the members of each coinciding group, taking turns along the shared line, inside the plot. */
export function markerSetsOf(
  co: Coincidence,
  curves: readonly Drawn[],
  scales: { x: Scale; y: Scale; invert: Scale },
  view: { x0: number; x1: number; width: number; smoothed: boolean },
  height: number,
): MarkerSet[] {
  const byId = new Map(curves.map((c) => [c.curve.id, c]));
  return co.groups.flatMap((group) =>
    group.map((id, i) => {
      const c = byId.get(id)!;
      const points = markerPoints(c.curve, i, group.length, scales, view).filter(([, py]) => py >= 0 && py <= height);
      return { id, cls: c.cls, shape: i, points };
    }),
  );
}
