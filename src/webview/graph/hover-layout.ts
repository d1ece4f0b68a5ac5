import type { PlacedNode } from './place-graph';

interface Rect {
  left: number;
  top: number;
  right: number;
  width: number;
  height: number;
}

/**
 * Where the card goes: beside the node, never over it where there is room. Right of it, else left of it,
 * else under it, else above it; the first that fits inside the drawing's box (4 px margin), else clamped
 * into the box. Pure: every rectangle is in page coordinates, the result is relative to the box.
 */
export function cardPosition(box: Rect, anchor: Rect, card: { width: number; height: number }): { left: number; top: number } {
  const a = { left: anchor.left - box.left, top: anchor.top - box.top, right: anchor.right - box.left, bottom: anchor.top - box.top + anchor.height };
  const clampX = (x: number) => Math.min(Math.max(4, x), Math.max(4, box.width - card.width - 4));
  const clampY = (y: number) => Math.min(Math.max(4, y), Math.max(4, box.height - card.height - 4));
  const fitsX = (x: number) => x >= 4 && x + card.width <= box.width - 4;
  const fitsY = (y: number) => y >= 4 && y + card.height <= box.height - 4;
  const right = a.right + 8;
  const left = a.left - 8 - card.width;
  if (fitsX(right)) return { left: right, top: clampY(a.top) };
  if (fitsX(left)) return { left, top: clampY(a.top) };
  const below = a.bottom + 8;
  const above = a.top - 8 - card.height;
  if (fitsY(below)) return { left: clampX(a.left), top: below };
  if (fitsY(above)) return { left: clampX(a.left), top: above };
  return { left: clampX(right), top: clampY(a.top) };
}

/** What a click, Enter and a double-click do on this node, for the card's last line. */
export function hoverHint(n: PlacedNode): string {
  const click = n.source ? 'click or Enter: open its source line' : 'click: select';
  const dbl = n.expandable ? 'double-click or Space: expand' : n.parent ? 'double-click or Space: collapse' : '';
  return [click, dbl].filter(Boolean).join(' · ');
}
