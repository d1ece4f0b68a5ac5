import type { DecayStatus } from '../../shared/analysis/terms';
import type { PenaltyCounts } from '../../shared/analysis/verdict';
import type { Curve, CurveSet } from '../../shared/series/curve-set';
import { curveStyle, type CurveStyle, type StyleContext } from './curve-style';
import { selectNormCurves, type NormSelection } from './norm-selection';

/**
 * The sections of the training curves, one chart each, as data: which curves a section plots, in which
 * order, how each looks, and what its legend says besides the curves. The panel draws any list of these;
 * another section (the effective decay per step, say) is one more entry in SECTIONS.
 */
export interface SectionContext {
  set: CurveSet;
  decayOf(layer: string): DecayStatus;
  penalties: PenaltyCounts;
  normFilter: string;
  allNorms: boolean;
}

export interface SectionCurve {
  curve: Curve;
  style: CurveStyle;
}

export interface SectionContent {
  /** In legend order; the chart draws them by their style's z. */
  curves: SectionCurve[];
  /** Lines of the legend that are not curves: what a reader would otherwise get wrong. */
  notes: string[];
  /** For a section that shows a subset (weight norms): how many there are, and how they were picked. */
  selection: NormSelection | null;
}

export interface SectionDef {
  id: string;
  title: string;
  /** The chart's accessible name. */
  chartLabel: string;
  /** A filter box and "show all" in its legend. */
  filterable: boolean;
  content(ctx: SectionContext): SectionContent;
}

/** Legend order of the loss curves: the one the optimizer minimized first. */
const LOSS_ORDER = ['totalLoss', 'dataLoss', 'regularizationLoss', 'withAllPenalties'];

const LOSS: SectionDef = {
  id: 'loss',
  title: 'Loss',
  chartLabel: 'Loss',
  filterable: false,
  content(ctx) {
    const p = ctx.penalties;
    const leftOut = p.never + p.sometimes > 0;
    const styleCtx: StyleContext = { decayOf: ctx.decayOf, normIndex: () => 0, normCount: 0 };
    const curves = ctx.set.curves
      .filter((c) => c.group === 'loss' && (c.id !== 'withAllPenalties' || leftOut))
      .sort((a, b) => LOSS_ORDER.indexOf(a.id) - LOSS_ORDER.indexOf(b.id))
      .map((curve) => ({ curve, style: curveStyle(curve, styleCtx) }));
    const notes: string[] = [];
    if (p.always + p.sometimes === 0) notes.push('total = data (no penalty in the loss)');
    return { curves, notes, selection: null };
  },
};

const NORMS: SectionDef = {
  id: 'norms',
  title: 'Weight norm per layer ‖w‖',
  chartLabel: 'Weight norms',
  filterable: true,
  content(ctx) {
    const all = ctx.set.curves.filter((c) => c.group === 'norm');
    const selection = selectNormCurves(all, { decayOf: ctx.decayOf, filter: ctx.normFilter, showAll: ctx.allNorms, length: ctx.set.length });
    const index = new Map(selection.shown.map((c, i) => [c.id, i]));
    const styleCtx: StyleContext = { decayOf: ctx.decayOf, normIndex: (id) => index.get(id) ?? 0, normCount: selection.shown.length };
    const notes =
      selection.mode === 'top'
        ? [`the ${selection.shown.length} of ${selection.total} layers whose norm changed most, and the decayed ones that changed most`]
        : [];
    return { curves: selection.shown.map((curve) => ({ curve, style: curveStyle(curve, styleCtx) })), notes, selection };
  },
};

export const SECTIONS: readonly SectionDef[] = [LOSS, NORMS];
