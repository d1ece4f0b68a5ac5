import { displaySafe, formatShape } from '../../shared/format';
import type { ViewEdge, ViewNode } from '../graph-view/graph-view';

/**
 * How big a node is and how much of its text fits: from measured text widths, so a label is cut only
 * when the node has reached its widest. Pure; the webview measures with a canvas in the node's own
 * font (canvas-measure.ts), tests with the approximation below.
 */
export type TextKind = 'label' | 'detail' | 'badge' | 'edge';

export interface TextMeasure {
  width(text: string, kind: TextKind): number;
}

/** Average advance per character of each kind, for when there is no canvas (Node tests). */
const CHAR: Record<TextKind, number> = { label: 7.2, detail: 6.2, badge: 6.6, edge: 6.0 };
export const approxMeasure: TextMeasure = { width: (text, kind) => text.length * CHAR[kind] };

export const NODE_MIN_WIDTH = 96;
/** Past this a label is cut, with the whole of it in the hover card and the accessible name. */
export const NODE_MAX_WIDTH = 360;
/** The label starts after the stripe; the +/− toggle sits at the right end. */
export const TEXT_LEFT = 11;
const TOGGLE_ROOM = 20;
const DETAIL_RIGHT = 8;
const BADGE_PAD = 10;

export function labelRoom(width: number): number {
  return width - TEXT_LEFT - TOGGLE_ROOM;
}

export function detailRoom(width: number): number {
  return width - TEXT_LEFT - DETAIL_RIGHT;
}

export function badgeWidth(n: ViewNode, width: number, m: TextMeasure): number {
  return n.badge ? Math.min(width, Math.ceil(m.width(n.badge, 'badge')) + BADGE_PAD) : 0;
}

/** As wide as the node's text as drawn (names with their escapes, see displaySafe), within the limits. */
export function nodeWidth(n: ViewNode, m: TextMeasure = approxMeasure): number {
  const need = Math.max(
    m.width(displaySafe(n.label), 'label') + TEXT_LEFT + TOGGLE_ROOM,
    m.width(displaySafe(n.detail), 'detail') + TEXT_LEFT + DETAIL_RIGHT,
    n.badge ? m.width(n.badge, 'badge') + BADGE_PAD : 0,
  );
  return Math.max(NODE_MIN_WIDTH, Math.min(NODE_MAX_WIDTH, Math.ceil(need)));
}

/** The longest prefix of `text` that fits in `room` with an ellipsis; the text itself when it fits. */
export function fitText(text: string, room: number, kind: TextKind, m: TextMeasure = approxMeasure): string {
  if (m.width(text, kind) <= room) return text;
  let lo = 1;
  let hi = text.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (m.width(`${text.slice(0, mid)}…`, kind) <= room) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

/**
 * An edge's label: the shape of the tensor it carries, and how many more go the same way (a layer hands on its
 * kernel's product and its bias: two tensors). "(+1)" alone read as an unexplained count (issue 21).
 */
export function edgeLabel(e: ViewEdge): string {
  const more = e.count - 1;
  return more > 0 ? `${formatShape(e.shape)} +${more} tensor${more === 1 ? '' : 's'}` : formatShape(e.shape);
}
