import type { DecayStatus } from '../../shared/analysis/terms';
import type { Curve } from '../../shared/series/curve-set';

/**
 * How a curve looks, decided in one place for the chart and its legend: a colour class (currentColor
 * from a --vscode-* variable), a stroke pattern and a tag for the legend. Pure.
 */
export type Stroke = 'solid' | 'dashed' | 'dotted';

export interface CurveStyle {
  /** CSS class setting `color`; lines and swatches draw in currentColor. */
  color: string;
  stroke: Stroke;
  /** Extra words after the name in the legend ("no decay", "decay dropped"), or null. */
  tag: string | null;
  /** The tag's own class (its colour). */
  tagClass: string | null;
}

export interface StyleContext {
  decayOf(layer: string): DecayStatus;
  /** A norm curve's place among the norm curves (its colour when they are few). */
  normIndex(curveId: string): number;
  /** Norm curves in all: past MANY_LAYERS the colour says the decay verdict instead of the layer. */
  normCount: number;
}

export const LOSS_COLORS: Record<string, string> = { totalLoss: 'c-total', dataLoss: 'c-data', regularizationLoss: 'c-reg' };
export const PALETTE = 6;
export const MANY_LAYERS = 12;

const DECAY_TAG: Record<DecayStatus, string> = {
  decayed: 'decayed',
  none: 'no decay',
  dropped: 'decay dropped',
  partial: 'decay partly dropped',
};

export function curveStyle(curve: Curve, ctx: StyleContext): CurveStyle {
  if (curve.group === 'loss') return { color: LOSS_COLORS[curve.id] ?? 'c-total', stroke: 'solid', tag: null, tagClass: null };
  const status = ctx.decayOf(curve.layer!);
  const color = ctx.normCount > MANY_LAYERS ? `st-${status} many` : `pal-${ctx.normIndex(curve.id) % PALETTE}`;
  const stroke = status === 'dropped' || status === 'partial' ? 'dashed' : 'solid';
  return { color, stroke, tag: DECAY_TAG[status], tagClass: `decay-${status}` };
}

/** The classes a line or a legend swatch gets for a style. */
export function styleClass(style: CurveStyle): string {
  return style.stroke === 'solid' ? style.color : `${style.color} ${style.stroke}`;
}
