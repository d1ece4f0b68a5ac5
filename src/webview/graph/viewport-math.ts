import type { Bounds } from './place-graph';

/** A d3 zoom transform as plain numbers: screen = k · graph + (x, y). */
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
const FIT_MARGIN = 24;

/**
 * The transform that fits `bounds` into the box, centred. `readable` (the automatic fit) stops at a scale
 * where labels can still be read and then shows the end of the graph, where the minimized loss and the
 * penalties meet. Pure; null when the box has no size yet.
 */
export function fitTransform(box: Box, bounds: Bounds, readable: boolean): ViewTransform | null {
  if (box.width === 0 || box.height === 0) return null;
  const all = Math.min(MAX_FIT_SCALE, (box.width - FIT_MARGIN) / bounds.width, (box.height - FIT_MARGIN) / bounds.height);
  const k = readable ? Math.max(all, Math.min(0.5, (box.height - FIT_MARGIN) / bounds.height)) : all;
  const x = k === all ? (box.width - bounds.width * k) / 2 - bounds.x * k : box.width - 12 - (bounds.x + bounds.width) * k;
  return { x, y: (box.height - bounds.height * k) / 2 - bounds.y * k, k };
}

/** The transform that puts a graph point at the box's centre, at scale `k`. */
export function centerTransform(box: Box, point: { x: number; y: number }, k: number): ViewTransform {
  return { x: box.width / 2 - point.x * k, y: box.height / 2 - point.y * k, k };
}
