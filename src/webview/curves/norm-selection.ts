import type { DecayStatus } from '../../shared/analysis/terms';
import type { Curve } from '../series/curve-set';

/**
 * Which weight-norm lines to draw when a model has hundreds of layers: by default the layers whose norm
 * changed most, plus the most-changed decayed ones (what decay should be visibly shrinking), in model
 * order; a filter or "show all" overrides. Pure.
 */
export const TOP_CHANGED = 8;
export const TOP_DECAYED = 8;

export interface NormSelection {
  shown: Curve[];
  total: number;
  /** all: every layer (few enough, or asked for); filter: those matching the box; top: the default pick. */
  mode: 'all' | 'filter' | 'top';
}

function firstValue(c: Curve, length: number, fromEnd: boolean): number | null {
  for (let k = 0; k < length; k++) {
    const v = c.valueAt(fromEnd ? length - 1 - k : k);
    if (v !== null) return v;
  }
  return null;
}

/** |last − first| / |first| over a curve's rows; a norm that went non-finite changed most of all. */
export function relativeChange(c: Curve, length: number): number {
  const first = firstValue(c, length, false);
  const last = firstValue(c, length, true);
  if (first === null || last === null) return 0;
  if (!Number.isFinite(first) || !Number.isFinite(last)) return Infinity;
  return Math.abs(last - first) / Math.max(Math.abs(first), 1e-12);
}

export function selectNormCurves(
  curves: readonly Curve[],
  opts: { decayOf(layer: string): DecayStatus; filter: string; showAll: boolean; length: number },
): NormSelection {
  const total = curves.length;
  const q = opts.filter.trim().toLowerCase();
  if (q) return { shown: curves.filter((c) => c.label.toLowerCase().includes(q)), total, mode: 'filter' };
  if (opts.showAll || total <= TOP_CHANGED + TOP_DECAYED) return { shown: [...curves], total, mode: 'all' };
  const change = new Map(curves.map((c) => [c.id, relativeChange(c, opts.length)]));
  const byChange = (list: readonly Curve[]) => [...list].sort((a, b) => change.get(b.id)! - change.get(a.id)!);
  const keep = new Set(byChange(curves).slice(0, TOP_CHANGED).map((c) => c.id));
  const decayed = curves.filter((c) => c.layer !== null && opts.decayOf(c.layer) !== 'none' && !keep.has(c.id));
  for (const c of byChange(decayed).slice(0, TOP_DECAYED)) keep.add(c.id);
  return { shown: curves.filter((c) => keep.has(c.id)), total, mode: 'top' };
}
