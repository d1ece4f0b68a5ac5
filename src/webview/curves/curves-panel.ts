// Over 300 lines, on purpose: this class alone owns the shared step axis, crosshair and zoom, and the one-draw-per-frame
// schedule with background indexing that every section obeys; sections, toolbar, styles and step domains are modules
// of their own (section-view, curves-toolbar, curve-style, step-domain).
import type { DecayStatus } from '../../shared/analysis/terms';
import type { PenaltyCounts } from '../../shared/analysis/verdict';
import { formatInt } from '../../shared/format';
import type { Series } from '../../shared/model/run-state';
import { CurveSet, type Curve } from '../series/curve-set';
import { el, panelSection } from '../dom';
import type { UiState } from '../ui-state';
import type { Chart, ChartHooks } from './chart';
import { SECTIONS } from './curve-sections';
import { buildCurvesToolbar } from './curves-toolbar';
import { SectionView } from './section-view';
import { drawOrder, styleClass } from './curve-style';
import { clampDomain, fullRange, zoomDomain, type StepDomain } from './step-domain';

export interface CurvesInput {
  objective: number | null;
  objectives: number[];
  series: Series | null;
  layerOf: (weightId: string) => string;
  decayOf: (layer: string) => DecayStatus;
  penalties: PenaltyCounts;
  /** 2·lr·l2 per decayed weight (the Decay per step section's reference lines). */
  decayReferences?: ReadonlyArray<{ value: number; weights: readonly string[] }>;
  /** Decays no penalty expresses (a user's AdamW, the script's decay step), with their timescale, in words. */
  decoupledNotes?: readonly string[];
  /** The decoupled what-if's series, overlaid dashed on the script's own (Compare with Decoupled Weight Decay). */
  compare?: Series | null;
}

export interface CurvesCallbacks {
  stateChanged(): void;
  objectiveChanged(objective: number): void;
  exportCsv(): void;
  exportJson(): void;
}

/** Rows indexed per background slice: a few milliseconds. */
const INDEX_SLICE_ROWS = 1 << 18;

/**
 * Training curves: one chart per section (curve-sections.ts), sharing one step axis, one crosshair and one
 * zoom. Appends only index the new rows of the curves on screen and schedule one draw per animation frame,
 * however many steps arrived.
 */
export class CurvesPanel {
  readonly root: HTMLElement;
  private readonly sections: SectionView[] = [];
  private readonly objectiveSelect: HTMLSelectElement;
  private readonly empty: HTMLElement;
  private input: CurvesInput | null = null;
  private set: CurveSet | null = null;
  private compareSet: CurveSet | null = null;
  private crosshair: number | null = null;
  private frameRequested = false;
  private forceNext = false;
  private drawnRows = 0;
  private drawnAt = 0;
  private chartWidth = 0;
  /** Duration of the last draw (sync + downsample + paths), for the benchmark. */
  lastDrawMs = 0;
  /** Duration of the last animation-frame callback, drawn or only indexed. */
  lastFrameMs = 0;
  /** Frames drawn so far (the tests check appends are coalesced). */
  draws = 0;
  private drawnResolvers: Array<() => void> = [];
  private indexTimer: number | null = null;

  constructor(
    parent: HTMLElement,
    private readonly ui: UiState['curves'],
    private readonly callbacks: CurvesCallbacks,
  ) {
    const { root, tools } = panelSection(parent, 'll-curves', 'll-curves-title', 'Training curves', 'Curve tools');
    this.root = root;
    this.objectiveSelect = buildCurvesToolbar(tools, ui, {
      objective: (o) => this.callbacks.objectiveChanged(o),
      smoothing: (w) => {
        this.ui.smoothing = w;
        this.set?.setSmoothing(w);
        this.compareSet?.setSmoothing(w);
        this.changed();
      },
      logScale: (on) => {
        this.ui.logScale = on;
        this.changed();
      },
      resetZoom: () => this.setDomain(null),
      exportCsv: () => this.callbacks.exportCsv(),
      exportJson: () => this.callbacks.exportJson(),
    }).objectiveSelect;

    this.empty = el(this.root, 'p', 'll-empty', 'No optimizer step yet: the curves start with the first one.');
    const charts = el(this.root, 'div', 'll-charts');
    const hooks: ChartHooks = {
      crosshair: (step) => this.setCrosshair(step),
      zoomBy: (factor, around) => {
        const d = this.domain();
        if (d) this.setDomain(zoomDomain(d, factor, around));
      },
      panBy: (steps) => {
        const d = this.domain();
        if (d && this.ui.xDomain) this.setDomain([d[0] + steps, d[1] + steps]);
      },
      resetZoom: () => this.setDomain(null),
    };
    const actions = { changed: () => this.changed(), toggleCurve: (id: string) => this.toggleCurve(id) };
    for (const def of SECTIONS) this.sections.push(new SectionView(charts, def, this.ui, hooks, actions));
    // Width comes from the observer: reading clientWidth while drawing would force a layout every frame.
    new ResizeObserver((entries) => {
      const box = entries[0]?.target.querySelector('.ll-chart-box');
      const width = box ? box.getBoundingClientRect().width : 0;
      if (width > 0 && Math.abs(width - this.chartWidth) >= 1) {
        this.chartWidth = width;
        this.requestDraw();
      }
    }).observe(charts);
  }

  /** The loss chart and the weight-norm chart (the tests and the benchmark read their points). */
  get lossChart(): Chart {
    return this.sections[0].chart;
  }

  get normChart(): Chart {
    return this.sections[1].chart;
  }

  /** The Decay per step chart. */
  get decayChart(): Chart {
    return this.sections.find((s) => s.def.id === 'decay')!.chart;
  }

  /** The sections on screen, by id (the tests read their legends). */
  section(id: string): SectionView | undefined {
    return this.sections.find((s) => s.def.id === id);
  }

  whenDrawn(): Promise<void> {
    return new Promise((resolve) => this.drawnResolvers.push(resolve));
  }

  get curveSet(): CurveSet | null {
    return this.set;
  }

  setInput(input: CurvesInput): void {
    const compare = input.compare ?? null;
    const seriesChanged = input.series !== this.input?.series || compare !== (this.input?.compare ?? null);
    this.input = input;
    if (seriesChanged) {
      // Overlaid, each run's curves are named after it; alone, the run's curves keep their plain names.
      const variant = (id: string, label: string) => (compare ? { id, label } : null);
      this.set = input.series ? new CurveSet(input.series, input.layerOf, this.ui.smoothing, variant('as-written', 'as written')) : null;
      this.compareSet = compare ? new CurveSet(compare, input.layerOf, this.ui.smoothing, { id: 'decoupled', label: 'decoupled' }) : null;
      // A new run's curves: the old legends and frames go, or they keep the old run alive.
      for (const sec of this.sections) sec.clear();
    }
    this.objectiveSelect.hidden = input.objectives.length < 2;
    if (input.objectives.length >= 2 && this.objectiveSelect.options.length !== input.objectives.length) {
      this.objectiveSelect.replaceChildren();
      for (const o of input.objectives) el(this.objectiveSelect, 'option', '', `objective ${o}`).value = String(o);
    }
    if (input.objective !== null) this.objectiveSelect.value = String(input.objective);
    this.requestDraw();
  }

  /** The penalties' verdicts moved (new steps): the loss legend's notes may change. */
  setPenalties(penalties: PenaltyCounts): void {
    if (!this.input || JSON.stringify(penalties) === JSON.stringify(this.input.penalties)) return;
    this.input = { ...this.input, penalties };
    this.requestDraw();
  }

  /** New rows were appended to the series: index them on the next frame, draw them if a pixel would change. */
  dataChanged(): void {
    this.schedule(false);
  }

  /** Something other than new rows changed (size, zoom, smoothing, scale, visibility): draw on the next frame. */
  requestDraw(): void {
    this.schedule(true);
  }

  /** A view choice changed: draw it and remember it. */
  private changed(): void {
    this.requestDraw();
    this.callbacks.stateChanged();
  }

  private schedule(force: boolean): void {
    this.forceNext ||= force;
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      const t0 = performance.now();
      const force = this.forceNext;
      this.forceNext = false;
      if (force || this.worthDrawing()) this.draw();
      else this.indexShown();
      this.lastFrameMs = performance.now() - t0;
    });
  }

  /** Index the appended rows of the curves on screen only (hidden ones catch up when they are shown). */
  private indexShown(): void {
    if (!this.set) return;
    this.set.refresh();
    this.compareSet?.refresh();
    for (const s of this.sections) if (s.content) this.syncShown(s.content.curves.map((c) => c.curve));
  }

  /** Index the rows appended to these curves (each of its own run). */
  private syncShown(curves: readonly Curve[]): void {
    this.set?.syncCurves(curves);
  }

  /** The compared run's rows arrived: the overlay is not subject to the pixel rule, draw it. */
  compareChanged(): void {
    this.schedule(true);
  }

  /**
   * Appends that add less than a pixel's worth of rows to a curve that follows the run change nothing
   * on screen: index them, and draw once they add up to a pixel (or 250 ms have passed, for the step label).
   */
  private worthDrawing(): boolean {
    const set = this.set;
    if (!set || this.ui.xDomain !== null) return true;
    const rows = set.length;
    const perPixel = rows / Math.max(1, this.lossChart.plotWidth);
    return rows - this.drawnRows >= perPixel || performance.now() - this.drawnAt > 250;
  }

  /** Every step either run has reached. */
  private fullDomain(): StepDomain | null {
    const ranges = [this.set, this.compareSet].map((x) => (x ? fullRange(x.series.step) : null)).filter((r): r is StepDomain => r !== null);
    if (ranges.length === 0) return null;
    return [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))];
  }

  private domain(): StepDomain | null {
    const full = this.fullDomain();
    return full ? this.ui.xDomain ?? full : null;
  }

  private setDomain(d: StepDomain | null): void {
    this.ui.xDomain = clampDomain(d, this.fullDomain());
    this.changed();
  }

  private setCrosshair(step: number | null): void {
    this.crosshair = step;
    for (const s of this.sections) s.chart.setCrosshair(step);
  }

  private toggleCurve(id: string): void {
    const h = new Set(this.ui.hidden);
    if (h.has(id)) h.delete(id);
    else h.add(id);
    this.ui.hidden = [...h];
    this.changed();
  }

  draw(): void {
    const t0 = performance.now();
    const set = this.set;
    const hasData = !!set && set.length > 0;
    this.empty.hidden = hasData;
    this.root.classList.toggle('no-data', !hasData);
    if (!set || !hasData || !this.input) {
      // Nothing to draw: let go of the last run's curves too.
      for (const s of this.sections) s.clear();
      for (const r of this.drawnResolvers.splice(0)) r();
      return;
    }
    this.draws++;
    set.refresh();
    this.compareSet?.refresh();
    const d = this.domain()!;
    const steps = this.compareSet && this.compareSet.length > set.length ? this.compareSet.series.step : set.series.step;
    if (this.chartWidth === 0) this.chartWidth = this.lossChart.root.parentElement!.getBoundingClientRect().width || 600;
    const boxW = this.chartWidth - 2;
    const boxH = Math.max(160, Math.min(320, Math.round(boxW * 0.45)));
    const hidden = new Set(this.ui.hidden);
    const base = { steps, x0: d[0], x1: d[1], log: this.ui.logScale, smoothing: this.ui.smoothing, currentStep: steps[steps.length - 1], crosshair: this.crosshair };
    const ctx = {
      set,
      compare: this.compareSet,
      decayOf: this.input.decayOf,
      penalties: this.input.penalties,
      normFilter: this.ui.normFilter,
      allNorms: this.ui.allNorms,
      decayReferences: this.input.decayReferences ?? [],
      decoupledNotes: this.input.decoupledNotes ?? [],
    };
    for (const s of this.sections) {
      const content = s.def.content(ctx);
      const empty = s.def.hideWhenEmpty === true && content.curves.length === 0;
      s.setHidden(empty);
      if (empty) {
        s.clear();
        continue;
      }
      s.renderLegend(content);
      const shown = drawOrder(content.curves.filter((c) => !hidden.has(c.curve.id)));
      this.syncShown(shown.map((c) => c.curve));
      s.chart.resize(boxW, boxH);
      const axis = content.steps && content.steps.length > 0 ? content.steps : steps;
      s.chart.draw({
        ...base,
        steps: axis,
        log: s.def.log === true || base.log,
        rules: content.rules,
        zeroLabel: content.zeroLabel,
        rangeFrom: content.rangeFrom,
        curves: shown.map((c) => ({ curve: c.curve, cls: styleClass(c.style), markNonFinite: true })),
      });
      s.renderCoincidence();
    }
    this.root.setAttribute('data-steps', String(steps.length));
    this.root.setAttribute('aria-description', `${formatInt(steps.length)} steps`);
    this.lastDrawMs = performance.now() - t0;
    this.drawnRows = set.length;
    this.drawnAt = performance.now();
    this.scheduleIndexing();
    for (const r of this.drawnResolvers.splice(0)) r();
  }

  /**
   * After a hydrate of a long run the curves on screen were drawn by scanning their rows; their indexes,
   * which make zooming and later draws cheap, are built now in slices that keep every frame short.
   */
  private scheduleIndexing(): void {
    if (this.indexTimer !== null || this.indexMore(0) === 0) return;
    this.indexTimer = window.setTimeout(() => {
      this.indexTimer = null;
      if (this.indexMore(INDEX_SLICE_ROWS) > 0) this.scheduleIndexing();
    }, 0);
  }

  /** The curves on screen now (not those of a run replaced meanwhile, which would keep it alive). */
  private indexMore(rows: number): number {
    const shown = this.sections.flatMap((s) => s.content?.curves.map((c) => c.curve) ?? []);
    return this.set ? this.set.indexMore(shown, rows) : 0;
  }
}
