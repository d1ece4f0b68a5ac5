import { el } from '../dom';
import { cardPosition, hoverHint } from './hover-layout';
import type { PlacedNode } from './place-graph';

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
