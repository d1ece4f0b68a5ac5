import { el } from '../dom';
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

/** What a click and a double-click do on this node, for the card's last line. */
export function hoverHint(n: PlacedNode): string {
  const click = n.source ? 'click: reveal source' : 'click: select';
  const dbl = n.expandable ? 'double-click: expand' : n.parent ? 'double-click: collapse' : '';
  return [click, dbl].filter(Boolean).join(' · ');
}

/** The hover card of a graph node: its name, badge, every detail row and what clicking does. */
export class HoverCard {
  readonly el: HTMLElement;

  constructor(parent: HTMLElement) {
    this.el = el(parent, 'div', 'll-tooltip');
    this.el.setAttribute('role', 'tooltip');
    this.el.hidden = true;
  }

  hide(): void {
    this.el.hidden = true;
  }

  show(n: PlacedNode, anchor: Element): void {
    const tip = this.el;
    tip.replaceChildren();
    el(tip, 'div', 'll-tooltip-title', n.label);
    if (n.badge) el(tip, 'div', 'll-tooltip-badge', n.badge);
    const dl = el(tip, 'dl', 'll-tooltip-rows');
    for (const [k, v] of n.details) {
      el(dl, 'dt', '', k);
      el(dl, 'dd', '', v);
    }
    el(tip, 'div', 'll-tooltip-hint', hoverHint(n));
    tip.hidden = false;
    const p = cardPosition(tip.parentElement!.getBoundingClientRect(), anchor.getBoundingClientRect(), { width: tip.offsetWidth, height: tip.offsetHeight });
    tip.style.left = `${p.left}px`;
    tip.style.top = `${p.top}px`;
  }
}
