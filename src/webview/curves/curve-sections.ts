import type { DecayStatus } from '../../shared/analysis/terms';
import type { PenaltyCounts } from '../../shared/analysis/verdict';
import { formatNumber } from '../../shared/format';
import type { Curve, CurveSet } from '../series/curve-set';
import type { ChartRule } from './chart-marks';
import { curveStyle, PALETTE, type CurveStyle, type StyleContext } from './curve-style';
import { selectNormCurves, type NormSelection } from './norm-selection';

/**
 * The sections of the training curves, one chart each, as data: which curves a section plots, in which
 * order, how each looks, and what its legend says besides the curves. The panel draws any list of these;
 * another section (the effective decay per step, say) is one more entry in SECTIONS.
 */
export interface SectionContext {
  set: CurveSet;
  /** A second run overlaid on the first (the decoupled what-if beside the script as written), or null. */
  compare: CurveSet | null;
  decayOf(layer: string): DecayStatus;
  penalties: PenaltyCounts;
  normFilter: string;
  allNorms: boolean;
  /** What plain SGD with each weight's L2 would remove per step (2·lr·l2), drawn as reference lines. */
  decayReferences: ReadonlyArray<{ value: number; weights: readonly string[] }>;
  /** Decoupled decays in words, with their timescale (the Decay per step section's notes). */
  decoupledNotes: readonly string[];
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
  /** Horizontal reference lines. */
  rules?: ChartRule[];
  /** The step axis of the crosshair when it is not the series' (the decay's own step column). */
  steps?: ArrayLike<number>;
  /** On a log scale, exact zeros are drawn in a band with this label (what a zero means in this section). */
  zeroLabel?: string;
  /** The value range starts at this step (the steps before it are start-up outliers). */
  rangeFrom?: number;
}

export interface SectionDef {
  id: string;
  title: string;
  /** The chart's accessible name. */
  chartLabel: string;
  /** A filter box and "show all" in its legend. */
  filterable: boolean;
  /** Always on a log scale, whatever the toolbar says (values spanning orders of magnitude). */
  log?: boolean;
  /** Hidden while it has no curve (a run without decay has nothing to show there). */
  hideWhenEmpty?: boolean;
  content(ctx: SectionContext): SectionContent;
}

/** The note a comparison adds to every section's legend. */
export const COMPARE_NOTE = 'solid: the script as written · dashed: decoupled weight decay (what-if)';

/** Overlaid runs: the second run's curve for the same line, in the same colour and dashed. */
function withPartners(ctx: SectionContext, curves: SectionCurve[]): SectionCurve[] {
  const compare = ctx.compare;
  if (!compare) return curves;
  const partner = new Map(compare.curves.map((c) => [c.base, c]));
  const out: SectionCurve[] = [];
  for (const c of curves) {
    out.push({ curve: c.curve, style: { ...c.style, stroke: 'solid' } });
    const p = partner.get(c.curve.base);
    if (p) out.push({ curve: p, style: { ...c.style, stroke: 'dashed', z: c.style.z + 1 } });
  }
  return out;
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
    // Compared: the data loss of both runs (the decoupled run minimizes the data loss alone).
    const wanted = (c: Curve) => (ctx.compare ? c.base === 'dataLoss' : c.group === 'loss' && (c.base !== 'withAllPenalties' || leftOut));
    const curves = ctx.set.curves
      .filter((c) => c.group === 'loss' && wanted(c))
      .sort((a, b) => LOSS_ORDER.indexOf(a.base) - LOSS_ORDER.indexOf(b.base))
      .map((curve) => ({ curve, style: curveStyle(curve, styleCtx) }));
    const notes: string[] = [];
    if (ctx.compare) notes.push(COMPARE_NOTE);
    else if (p.always + p.sometimes === 0) notes.push('total = data (no penalty in the loss)');
    return { curves: withPartners(ctx, curves), notes, selection: null };
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
    if (ctx.compare) notes.push(COMPARE_NOTE);
    return { curves: withPartners(ctx, selection.shown.map((curve) => ({ curve, style: curveStyle(curve, styleCtx) }))), notes, selection };
  },
};

/** "2·lr·l2 = 1e-6", the SGD reference of one or more weights. */
function referenceLabel(value: number, count: number, total: number): string {
  return `2·lr·l2 = ${formatNumber(value, 2)}${total > 1 ? ` (${count} weight${count === 1 ? '' : 's'})` : ''}`;
}

/**
 * The effective decay per layer over the steps (issue 11): the fraction of each decayed weight its decay removed
 * that step, measured under its own optimizer, on a log scale, with 2·lr·l2 (plain SGD with that L2) as reference.
 */
const DECAY: SectionDef = {
  id: 'decay',
  title: 'Decay per step',
  chartLabel: 'Effective decay per step',
  filterable: false,
  log: true,
  hideWhenEmpty: true,
  content(ctx) {
    const own = ctx.set.curves.filter((c) => c.group === 'decay');
    // Curves only the compared run has (the decoupled run decays every L2-penalized weight) come along too.
    const extra = ctx.compare ? ctx.compare.curves.filter((c) => c.group === 'decay' && !own.some((o) => o.base === c.base)) : [];
    const curves = own.map((curve, i) => ({ curve, style: { color: `pal-${i % PALETTE}`, stroke: 'solid' as const, z: 0, tag: null, tagClass: null } }));
    const paired = withPartners(ctx, curves);
    extra.forEach((curve, i) => paired.push({ curve, style: { color: `pal-${(own.length + i) % PALETTE}`, stroke: 'dashed', z: 1, tag: null, tagClass: null } }));
    const refs = ctx.decayReferences;
    const rules = refs.map((r, i) => ({ id: `sgd-${i}`, y: r.value, label: referenceLabel(r.value, r.weights.length, refs.length) }));
    const notes = [
      'fraction of the weight its decay removes per step, under its own optimizer',
      ...(refs.length ? ['dotted: what plain SGD with the same L2 removes (2·lr·l2)'] : []),
      ...ctx.decoupledNotes,
    ];
    if (ctx.compare) notes.push(COMPARE_NOTE);
    const longest = [ctx.set, ctx.compare].filter((x): x is CurveSet => x !== null).map((x) => x.series.decay.step).sort((a, b) => b.length - a.length)[0];
    // A decay of exactly 0 is a penalty that never reaches the loss (or one the optimizer never applied): the
    // chart draws it in a labelled band, since a log axis has no zero.
    const dropped = own.some((c) => c.layer !== null && ['dropped', 'partial'].includes(ctx.decayOf(c.layer)));
    const zeroLabel = dropped ? '0: never reaches the loss' : '0: no decay that step';
    // Step 1's value is measured on a freshly started optimizer (Adam's first step divides by a tiny second
    // moment) and can sit ten orders of magnitude away from every later step: it must not set the range.
    const rangeFrom = longest.length > 2 ? longest[1] : undefined;
    return { curves: paired, notes, selection: null, rules, steps: longest, zeroLabel, rangeFrom };
  },
};

export const SECTIONS: readonly SectionDef[] = [LOSS, NORMS, DECAY];
