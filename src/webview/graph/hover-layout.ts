import type { PlacedNode } from './place-graph';

interface Rect {
  left: number;
  top: number;
  right: number;
  width: number;
  height: number;
}

/**
 * Where the card goes: right of the node, top-aligned with it, kept inside the drawing's box (4 px margin).
 * Pure: every rectangle is in page coordinates, the result is relative to the box.
 */
export function cardPosition(box: Rect, anchor: Rect, card: { width: number; height: number }): { left: number; top: number } {
  const left = Math.min(Math.max(4, anchor.right - box.left + 8), Math.max(4, box.width - card.width - 4));
  const top = Math.min(Math.max(4, anchor.top - box.top), Math.max(4, box.height - card.height - 4));
  return { left, top };
}

/** What a click, Enter and a double-click do on this node, for the card's last line. */
export function hoverHint(n: PlacedNode): string {
  const click = n.source ? 'click or Enter: open its source line' : 'click: select';
  const dbl = n.expandable ? 'double-click or Space: expand' : n.parent ? 'double-click or Space: collapse' : '';
  return [click, dbl].filter(Boolean).join(' · ');
}
