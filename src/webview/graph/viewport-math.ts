import type { Bounds } from './place-graph';

/**
 * The pure geometry of the graph's viewport: fitting, centring, keeping a node in view and how far the
 * graph may be panned. A transform maps graph coordinates to the box: screen = k · graph + (x, y).
 */
export interface ViewTransform {
  x: number;
  y: number;
  k: number;
}

export interface Box {
  width: number;
  height: number;
}

/** Never zoom in further than this when fitting a small graph. */
export const MAX_FIT_SCALE = 1.25;
/**
 * Node labels are 12 px: a fit never draws them smaller (issue 21: at 11 px they were the smallest text of the
 * panel). A graph that does not fit at this scale pans instead, with the box grown as tall as the panel allows.
 */
export const READABLE_SCALE = 1;
const MARGIN = 12;

/** Place content of `size` (already scaled) on one axis: centred when it fits, else around `focus`, edges kept in. */
function placeAxis(box: number, start: number, size: number, focus: number | null): number {
  if (size <= box - 2 * MARGIN) return (box - size) / 2 - start;
  const wanted = focus === null ? MARGIN - start : box / 2 - focus;
  return Math.min(MARGIN - start, Math.max(box - MARGIN - (start + size), wanted));
}

/**
 * The transform that shows as much of the graph as fits at a readable scale: all of it, centred, when it
 * fits at `minScale` or more; otherwise at `minScale`, centred on `focus` (the minimized loss, where the
 * penalties meet) and never past the graph's edges. Null when the box has no size yet.
 */
export function fitTransform(box: Box, bounds: Bounds, minScale: number, focus: { x: number; y: number } | null = null): ViewTransform | null {
  if (box.width === 0 || box.height === 0) return null;
  const all = Math.min(MAX_FIT_SCALE, (box.width - 2 * MARGIN) / bounds.width, (box.height - 2 * MARGIN) / bounds.height);
  const k = Math.max(all, Math.min(minScale, MAX_FIT_SCALE));
  return {
    x: placeAxis(box.width, bounds.x * k, bounds.width * k, focus && focus.x * k),
    y: placeAxis(box.height, bounds.y * k, bounds.height * k, focus && focus.y * k),
    k,
  };
}

/** The whole graph fits a box at `scale` (its margins kept): what folding until it fits asks of each layout. */
export function fitsAt(box: Box, bounds: Bounds, scale: number): boolean {
  return bounds.width * scale <= box.width - 2 * MARGIN && bounds.height * scale <= box.height - 2 * MARGIN;
}

/**
 * How tall the drawing needs to be to show the graph at its fit scale in a box up to `maxHeight` tall: a
 * small graph gets a short panel instead of a tall empty one. At least `minHeight`.
 */
export function fitHeight(width: number, maxHeight: number, bounds: Bounds, minHeight: number): number {
  const t = fitTransform({ width, height: maxHeight }, bounds, READABLE_SCALE);
  if (!t) return maxHeight;
  return Math.round(Math.max(minHeight, Math.min(maxHeight, bounds.height * t.k + 2 * MARGIN)));
}

/** The transform that puts a graph point at the box's centre, at scale `k`. */
export function centerTransform(box: Box, point: { x: number; y: number }, k: number): ViewTransform {
  return { x: box.width / 2 - point.x * k, y: box.height / 2 - point.y * k, k };
}

/**
 * Keep panning inside the graph: an axis where the graph is larger than the box may move until its far
 * edge is MARGIN inside; an axis where it is smaller stays where it is (a fit put it there).
 */
export function clampPan(t: ViewTransform, box: Box, bounds: Bounds): ViewTransform {
  const axis = (pos: number, view: number, start: number, size: number) => {
    const s = start * t.k;
    const z = size * t.k;
    if (z <= view - 2 * MARGIN) return pos;
    return Math.min(MARGIN - s, Math.max(view - MARGIN - (s + z), pos));
  };
  return { k: t.k, x: axis(t.x, box.width, bounds.x, bounds.width), y: axis(t.y, box.height, bounds.y, bounds.height) };
}

/** The smallest pan that brings a graph rectangle fully into view (MARGIN inside), or null if it already is. */
export function revealTransform(t: ViewTransform, box: Box, rect: Bounds): ViewTransform | null {
  const axis = (pos: number, view: number, start: number, size: number) => {
    const a = start * t.k + pos;
    const b = (start + size) * t.k + pos;
    if (b - a > view - 2 * MARGIN) return pos + (MARGIN - a);
    if (a < MARGIN) return pos + (MARGIN - a);
    if (b > view - MARGIN) return pos - (b - (view - MARGIN));
    return pos;
  };
  const x = axis(t.x, box.width, rect.x, rect.width);
  const y = axis(t.y, box.height, rect.y, rect.height);
  return x === t.x && y === t.y ? null : { x, y, k: t.k };
}
