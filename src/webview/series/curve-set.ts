import type { Series } from '../../shared/model/run-state';
import { EmaColumn } from './ema';
import { LodColumn, type ValueAt } from './lod-column';

export type CurveGroup = 'loss' | 'norm' | 'decay';

/** One line of the training curves: its raw values, their index, and the smoothed copy when smoothing is on. */
export interface Curve {
  id: string;
  /** The id without the run's prefix (`dataLoss`, `norm:dense`): the same line in either of two overlaid runs. */
  base: string;
  label: string;
  group: CurveGroup;
  /** For norm and decay curves: the layer whose weights it measures. */
  layer: string | null;
  /** For decay curves: the weight. */
  weight?: string;
  /**
   * The step of each row. Loss and norm curves share the series' step column; the effective decay has its own
   * (a step's decay arrives after the step), and a compared run has its own series.
   */
  steps: ArrayLike<number>;
  valueAt: ValueAt;
  raw: LodColumn;
  ema: EmaColumn;
  smooth: LodColumn;
}

export const LOSS_CURVES = [
  { id: 'totalLoss', label: 'total loss (minimized)' },
  { id: 'dataLoss', label: 'data loss' },
  { id: 'regularizationLoss', label: 'regularization loss' },
] as const;

/** The loss as it would be with every penalty in it: the data loss plus every penalty's value, in or out. */
export const WITH_ALL_PENALTIES = { id: 'withAllPenalties', label: 'loss with the left-out penalties (not minimized)' } as const;

/**
 * The curves of one objective, indexed for drawing. It reads the RunState's own column arrays (no copy)
 * and indexes whatever rows were appended since the last sync, so a batched append costs O(batch).
 * Indexing is lazy per curve (`syncCurves`): a view indexes only what it draws, so a hydrate of a long run
 * with hundreds of layers indexes the handful of curves on screen, and a hidden curve catches up when shown.
 */
export class CurveSet {
  readonly curves: Curve[] = [];
  private normLayers = new Map<string, string[]>();
  private weightCount = -1;
  private termCount = 0;
  private decayCount = -1;
  private smoothing: number;

  /**
   * `variant` names the run when two are overlaid (the script as written and its decoupled what-if): every curve's
   * id gets `<variant>:` in front (except the first run's, `as-written`, whose ids stay plain) and its label
   * ` · <variant label>` after.
   */
  constructor(
    readonly series: Series,
    private readonly layerOf: (weightId: string) => string,
    smoothing: number,
    readonly variant: { id: string; label: string } | null = null,
  ) {
    this.smoothing = smoothing;
    for (const c of LOSS_CURVES) {
      const column = series[c.id];
      this.curves.push(this.makeCurve(c.id, c.label, 'loss', null, (i) => column[i]));
    }
  }

  /** Rows a curve has now: its own step column's length. */
  static rows(c: Curve): number {
    return c.steps.length;
  }

  get length(): number {
    return this.series.step.length;
  }

  /** The id a curve of this run gets: plain for the first run, `<variant>:` before it for an overlaid one. */
  idOf(id: string): string {
    return this.variant && this.variant.id !== 'as-written' ? `${this.variant.id}:${id}` : id;
  }

  private makeCurve(id: string, label: string, group: CurveGroup, layer: string | null, valueAt: ValueAt, steps: ArrayLike<number> = this.series.step): Curve {
    const ema = new EmaColumn(valueAt, this.smoothing);
    const shown = this.variant ? `${label} · ${this.variant.label}` : label;
    return { id: this.idOf(id), base: id, label: shown, group, layer, steps, valueAt, raw: new LodColumn(valueAt), ema, smooth: new LodColumn(ema.valueAt, 32) };
  }

  /**
   * One curve per weight with an effective decay (the fraction its decay removes per step), on the decay's own
   * step column, labelled by its layer (and the weight, where a layer has several).
   */
  private refreshDecayCurves(): void {
    const decay = this.series.decay;
    if (!decay) return;
    const weights = Object.keys(decay.values);
    if (weights.length === this.decayCount) return;
    this.decayCount = weights.length;
    const perLayer = new Map<string, number>();
    for (const w of weights) perLayer.set(this.layerOf(w), (perLayer.get(this.layerOf(w)) ?? 0) + 1);
    for (const w of weights) {
      const id = `decay:${w}`;
      if (this.curves.some((c) => c.base === id)) continue;
      const layer = this.layerOf(w);
      const column = decay.values[w];
      const short = w.startsWith(`${layer}/`) ? w.slice(layer.length + 1) : w;
      const label = (perLayer.get(layer) ?? 0) > 1 ? `${layer} ${short}` : layer;
      const curve = this.makeCurve(id, label, 'decay', layer, (i) => column[i] ?? null, decay.step);
      curve.weight = w;
      this.curves.push(curve);
    }
  }

  /** Per layer, √(Σ‖w‖²) over its weights: the norm of all the layer's parameters together. */
  private refreshNormCurves(): void {
    const weights = Object.keys(this.series.weightNorms);
    if (weights.length === this.weightCount) return;
    this.weightCount = weights.length;
    const byLayer = new Map<string, string[]>();
    for (const w of weights) {
      const layer = this.layerOf(w);
      const list = byLayer.get(layer) ?? [];
      list.push(w);
      byLayer.set(layer, list);
    }
    for (const [layer, ws] of byLayer) {
      const before = this.normLayers.get(layer);
      if (before && before.length === ws.length) continue;
      const columns = ws.map((w) => this.series.weightNorms[w]);
      const valueAt: ValueAt = (i) => {
        let sum = 0;
        let seen = false;
        for (const col of columns) {
          const v = col[i];
          if (v === null || v === undefined) continue;
          seen = true;
          sum += v * v;
        }
        return seen ? Math.sqrt(sum) : null;
      };
      const curve = this.makeCurve(`norm:${layer}`, layer, 'norm', layer, valueAt);
      const id = curve.id;
      const at = this.curves.findIndex((c) => c.id === id);
      if (at >= 0) this.curves[at] = curve;
      else this.curves.push(curve);
      this.normLayers.set(layer, ws);
    }
  }

  /** With penalties in the run, the loss as it would be with all of them; rebuilt when a new term appears. */
  private refreshWithAll(): void {
    const ids = Object.keys(this.series.terms);
    if (ids.length === this.termCount) return;
    this.termCount = ids.length;
    const terms = ids.map((id) => this.series.terms[id]);
    const data = this.series.dataLoss;
    const valueAt: ValueAt = (i) => {
      let v = data[i];
      for (const col of terms) {
        const t = col[i];
        if (t !== null && t !== undefined) v += t;
      }
      return v;
    };
    const curve = this.makeCurve(WITH_ALL_PENALTIES.id, WITH_ALL_PENALTIES.label, 'loss', null, valueAt);
    const at = this.curves.findIndex((c) => c.id === curve.id);
    if (at >= 0) this.curves[at] = curve;
    else this.curves.splice(LOSS_CURVES.length, 0, curve);
  }

  /** Pick up curves for weights and terms seen since the last call (cheap: nothing is indexed). */
  refresh(): void {
    this.refreshWithAll();
    this.refreshNormCurves();
    this.refreshDecayCurves();
  }

  /** Index the rows appended since the last call, in these curves only. */
  syncCurves(curves: readonly Curve[]): void {
    for (const c of curves) {
      const n = CurveSet.rows(c);
      c.raw.sync(n);
      if (this.smoothing > 0) {
        c.ema.sync(n);
        c.smooth.sync(n);
      }
    }
  }

  /** Build up to `rows` more of the lazily built indexes of these curves; returns the rows still pending. */
  indexMore(curves: readonly Curve[], rows: number): number {
    let pending = 0;
    for (const c of curves) {
      for (const col of [c.raw, c.smooth]) {
        if (col.pending > 0 && rows > 0) {
          const before = col.pending;
          rows -= before - col.indexMore(rows);
        }
        pending += col.pending;
      }
    }
    return pending;
  }

  /** Index rows appended since the last call, in every curve. */
  sync(): void {
    this.refresh();
    this.syncCurves(this.curves);
  }

  get smoothingWeight(): number {
    return this.smoothing;
  }

  /** A new weight recomputes the smoothed columns, each when it is next synced. */
  setSmoothing(weight: number): void {
    if (weight === this.smoothing) return;
    this.smoothing = weight;
    for (const c of this.curves) {
      c.ema.setWeight(weight);
      c.smooth.reset();
    }
  }

  byteLength(): number {
    return this.curves.reduce((n, c) => n + c.raw.byteLength() + c.smooth.byteLength() + (this.smoothing > 0 ? c.ema.byteLength() : 0), 0);
  }
}
