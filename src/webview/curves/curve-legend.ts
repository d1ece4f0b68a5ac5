import type { Curve } from '../series/curve-set';
import { displaySafe } from '../../shared/format';
import { el } from '../dom';
import { styleClass, type CurveStyle } from './curve-style';

export interface LegendEntry {
  curve: Curve;
  style: CurveStyle;
  hidden: boolean;
}

/** A chart's legend: one toggle button per curve, in its line's colour and stroke, with its tag. */
export function renderCurveLegend(box: HTMLElement, entries: readonly LegendEntry[], toggle: (curveId: string) => void): void {
  box.replaceChildren();
  for (const { curve, style, hidden } of entries) {
    const b = el(box, 'button', `ll-legend-toggle ${styleClass(style)}${hidden ? ' off' : ''}`);
    b.type = 'button';
    b.dataset.curve = curve.id;
    b.setAttribute('aria-pressed', hidden ? 'false' : 'true');
    b.title = displaySafe(`Show or hide ${curve.label}`);
    el(b, 'span', 'll-swatch');
    el(b, 'span', 'll-legend-text', curve.label);
    if (style.tag) el(b, 'span', `ll-decay-tag ${style.tagClass ?? ''}`.trim(), style.tag);
    b.addEventListener('click', () => toggle(curve.id));
  }
}
