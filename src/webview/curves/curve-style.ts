import type { DecayStatus } from '../../shared/analysis/terms';
import type { Curve } from '../series/curve-set';

/**
 * How a curve looks, decided in one place for the chart and its legend: a colour class (currentColor
 * from a --vscode-* variable), a stroke pattern, its place in the stacking order and a tag for the legend.
 * Pure. A new kind of curve is one more entry in FIXED_STYLES (or one more rule in curveStyle).
 */
export type Stroke = 'solid' | 'dashed' | 'dotted';

export interface CurveStyle {
  /** CSS class setting `color`; lines and swatches draw in currentColor. */
  color: string;
  stroke: Stroke;
  /** Drawn above curves with a lower z (the minimized loss on top of the data loss it may equal). */
  z: number;
  /** Extra words after the name in the legend ("no decay", "decay dropped"), or null. */
  tag: string | null;
  /** The tag's own class (its colour). */
  tagClass: string | null;
}

export interface StyleContext {
  decayOf(layer: string): DecayStatus;
  /** A norm curve's place among the norm curves shown (its colour when they are few). */
  normIndex(curveId: string): number;
  /** Norm curves shown: past MANY_LAYERS the colour says the decay verdict instead of the layer. */
  normCount: number;
}

const plain = (color: string, stroke: Stroke = 'solid', z = 0): CurveStyle => ({ color, stroke, z, tag: null, tagClass: null });

/** Curves whose look does not depend on the run. */
export const FIXED_STYLES: Record<string, CurveStyle> = {
  // The minimized loss: dashed and on top, so a data loss it equals (no penalty in the loss) still shows.
  totalLoss: plain('c-total', 'dashed', 10),
  dataLoss: plain('c-data'),
  regularizationLoss: plain('c-reg'),
  // What the loss would be if the left-out penalties were in it: not something the optimizer minimized.
  withAllPenalties: plain('c-leftout', 'dotted', 5),
};

export const PALETTE = 6;
export const MANY_LAYERS = 12;

const DECAY_TAG: Record<DecayStatus, string> = {
  decayed: 'decayed',
  none: 'no decay',
  dropped: 'decay dropped',
  partial: 'decay partly dropped',
};

export function curveStyle(curve: Curve, ctx: StyleContext): CurveStyle {
  const fixed = FIXED_STYLES[curve.base];
  if (fixed) return fixed;
  if (curve.group !== 'norm' || curve.layer === null) return plain('c-total');
  const status = ctx.decayOf(curve.layer);
  const color = ctx.normCount > MANY_LAYERS ? `st-${status} many` : `pal-${ctx.normIndex(curve.id) % PALETTE}`;
  const stroke = status === 'dropped' || status === 'partial' ? 'dashed' : 'solid';
  return { color, stroke, z: 0, tag: DECAY_TAG[status], tagClass: `decay-${status}` };
}

/** The classes a line or a legend swatch gets for a style. */
export function styleClass(style: CurveStyle): string {
  return style.stroke === 'solid' ? style.color : `${style.color} ${style.stroke}`;
}

/** Curves in drawing order: lowest z first, so the highest is drawn last, on top; ties keep their order. */
export function drawOrder<T extends { style: CurveStyle }>(curves: readonly T[]): T[] {
  return curves.map((c, i) => ({ c, i })).sort((a, b) => a.c.style.z - b.c.style.z || a.i - b.i).map((x) => x.c);
}
