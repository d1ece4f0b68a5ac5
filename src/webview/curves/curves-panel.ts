import type { DecayStatus } from '../../shared/analysis/terms';
import type { PenaltyCounts } from '../../shared/analysis/verdict';
import { formatInt } from '../../shared/format';
import type { Series } from '../../shared/model/run-state';
import { CurveSet } from '../../shared/series/curve-set';
import { button, el, panelSection } from '../dom';
import type { UiState } from '../ui-state';
import { Chart, type ChartHooks } from './chart';
import { renderCurveLegend } from './curve-legend';
import { SECTIONS, type SectionContent, type SectionDef } from './curve-sections';
import { drawOrder, styleClass } from './curve-style';
import { clampDomain, fullRange, zoomDomain, type StepDomain } from './step-domain';

export interface CurvesInput {
  objective: number | null;
  objectives: number[];
  series: Series | null;
  layerOf: (weightId: string) => string;
  decayOf: (layer: string) => DecayStatus;
  penalties: PenaltyCounts;
}

export interface CurvesCallbacks {
  stateChanged(): void;
  objectiveChanged(objective: number): void;
  exportCsv(): void;
  exportJson(): void;
}

/** Rows indexed per background slice: a few milliseconds. */
const INDEX_SLICE_ROWS = 1 << 18;

/** One section on screen: its chart, its legend, and what it showed last. */
interface SectionView {
  def: SectionDef;
  chart: Chart;
  legend: HTMLElement;
  notes: HTMLElement;
  count: HTMLElement | null;
  content: SectionContent | null;
  legendKey: string;
}

/**
 * Training curves: one chart per section (curve-sections.ts), sharing one step axis, one crosshair and one
 * zoom. Appends only index the new rows of the curves on screen and schedule one draw per animation frame,
 * however many steps arrived.
 */
export class CurvesPanel {
  readonly root: HTMLElement;
  private readonly sections: SectionView[] = [];
  private readonly smoothInput: HTMLInputElement;
  private readonly smoothValue: HTMLElement;
  private readonly logBox: HTMLInputElement;
  private readonly objectiveSelect: HTMLSelectElement;
  private readonly empty: HTMLElement;
  private input: CurvesInput | null = null;
  private set: CurveSet | null = null;
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
    this.objectiveSelect = el(tools, 'select', 'll-input');
    this.objectiveSelect.setAttribute('aria-label', 'Objective (variable set) to plot');
    this.objectiveSelect.hidden = true;
    this.objectiveSelect.addEventListener('change', () => this.callbacks.objectiveChanged(Number(this.objectiveSelect.value)));
    const smoothLabel = el(tools, 'label', 'll-slider');
    el(smoothLabel, 'span', '', 'Smoothing');
    this.smoothInput = el(smoothLabel, 'input');
    this.smoothInput.type = 'range';
    this.smoothInput.min = '0';
    this.smoothInput.max = '0.99';
    this.smoothInput.step = '0.01';
    this.smoothInput.value = String(ui.smoothing);
    this.smoothInput.setAttribute('aria-label', 'Smoothing weight (exponential moving average)');
    this.smoothValue = el(smoothLabel, 'span', 'll-slider-value', ui.smoothing.toFixed(2));
    this.smoothInput.addEventListener('input', () => {
      this.ui.smoothing = Number(this.smoothInput.value);
      this.smoothValue.textContent = this.ui.smoothing.toFixed(2);
      this.set?.setSmoothing(this.ui.smoothing);
      this.changed();
    });
    const logLabel = el(tools, 'label', 'll-check');
    this.logBox = el(logLabel, 'input');
    this.logBox.type = 'checkbox';
    this.logBox.checked = ui.logScale;
    el(logLabel, 'span', '', 'Log scale');
    this.logBox.addEventListener('change', () => {
      this.ui.logScale = this.logBox.checked;
      this.changed();
    });
    button(tools, 'Reset zoom', 'Show every step and follow the run', () => this.setDomain(null));
    button(tools, 'CSV', 'Export the curves as CSV', () => this.callbacks.exportCsv());
    button(tools, 'JSON', 'Export the curves as JSON', () => this.callbacks.exportJson());

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
    for (const def of SECTIONS) this.sections.push(this.buildSection(charts, def, hooks));
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

  private buildSection(parent: HTMLElement, def: SectionDef, hooks: ChartHooks): SectionView {
    const box = el(parent, 'div', `ll-chart-box ll-section-${def.id}`);
    el(box, 'h3', 'll-chart-title', def.title);
    let count: HTMLElement | null = null;
    if (def.filterable) {
      const tools = el(box, 'div', 'll-section-tools');
      const filter = el(tools, 'input', 'll-input ll-norm-filter');
      filter.type = 'search';
      filter.placeholder = 'Filter layers';
      filter.setAttribute('aria-label', `Filter the ${def.chartLabel.toLowerCase()} by layer name`);
      filter.value = this.ui.normFilter;
      filter.addEventListener('input', () => {
        this.ui.normFilter = filter.value;
        this.changed();
      });
      const all = button(tools, '', 'Show every layer, not only those that changed most', () => {
        this.ui.allNorms = !this.ui.allNorms;
        this.changed();
      });
      all.classList.add('ll-show-all');
      count = el(tools, 'span', 'll-section-count');
      count.setAttribute('aria-live', 'polite');
    }
    const legend = el(box, 'div', 'll-chart-legend');
    const notes = el(box, 'div', 'll-legend-notes');
    return { def, chart: new Chart(box, def.chartLabel, hooks), legend, notes, count, content: null, legendKey: '' };
  }

  /** The loss chart and the weight-norm chart (the tests and the benchmark read their points). */
  get lossChart(): Chart {
    return this.sections[0].chart;
  }

  get normChart(): Chart {
    return this.sections[1].chart;
  }

  whenDrawn(): Promise<void> {
    return new Promise((resolve) => this.drawnResolvers.push(resolve));
  }

  get curveSet(): CurveSet | null {
    return this.set;
  }

  setInput(input: CurvesInput): void {
    const seriesChanged = input.series !== this.input?.series;
    this.input = input;
    if (seriesChanged) this.set = input.series ? new CurveSet(input.series, input.layerOf, this.ui.smoothing) : null;
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
    for (const s of this.sections) if (s.content) this.set.syncCurves(s.content.curves.map((c) => c.curve));
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

  private domain(): StepDomain | null {
    const full = this.set ? fullRange(this.set.series.step) : null;
    return full ? this.ui.xDomain ?? full : null;
  }

  private setDomain(d: StepDomain | null): void {
    this.ui.xDomain = clampDomain(d, this.set ? fullRange(this.set.series.step) : null);
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

  private renderLegend(s: SectionView, content: SectionContent): void {
    const hidden = new Set(this.ui.hidden);
    const key = JSON.stringify([content.curves.map((c) => [c.curve.id, c.curve.label, c.style]), this.ui.hidden, content.notes]);
    if (s.count && content.selection) {
      const sel = content.selection;
      s.count.textContent = `${formatInt(sel.shown.length)} of ${formatInt(sel.total)} layers`;
      const all = s.legend.parentElement!.querySelector<HTMLButtonElement>('.ll-show-all')!;
      all.textContent = this.ui.allNorms ? 'Show fewer' : 'Show all';
      all.setAttribute('aria-pressed', String(this.ui.allNorms));
      all.hidden = sel.total <= sel.shown.length && !this.ui.allNorms;
    }
    if (key === s.legendKey) return;
    s.legendKey = key;
    const entries = content.curves.map((c) => ({ curve: c.curve, style: c.style, hidden: hidden.has(c.curve.id) }));
    renderCurveLegend(s.legend, entries, (id) => this.toggleCurve(id));
    s.notes.replaceChildren();
    for (const n of content.notes) el(s.notes, 'span', 'll-legend-note', n);
  }

  draw(): void {
    const t0 = performance.now();
    const set = this.set;
    const hasData = !!set && set.length > 0;
    this.empty.hidden = hasData;
    this.root.classList.toggle('no-data', !hasData);
    if (!set || !hasData || !this.input) {
      for (const r of this.drawnResolvers.splice(0)) r();
      return;
    }
    this.draws++;
    set.refresh();
    const d = this.domain()!;
    const steps = set.series.step;
    if (this.chartWidth === 0) this.chartWidth = this.lossChart.root.parentElement!.getBoundingClientRect().width || 600;
    const boxW = this.chartWidth - 2;
    const boxH = Math.max(160, Math.min(320, Math.round(boxW * 0.45)));
    const hidden = new Set(this.ui.hidden);
    const base = { steps, x0: d[0], x1: d[1], log: this.ui.logScale, smoothing: this.ui.smoothing, currentStep: steps[steps.length - 1], crosshair: this.crosshair };
    const ctx = { set, decayOf: this.input.decayOf, penalties: this.input.penalties, normFilter: this.ui.normFilter, allNorms: this.ui.allNorms };
    for (const s of this.sections) {
      const content = (s.content = s.def.content(ctx));
      this.renderLegend(s, content);
      const shown = drawOrder(content.curves.filter((c) => !hidden.has(c.curve.id)));
      set.syncCurves(shown.map((c) => c.curve));
      s.chart.resize(boxW, boxH);
      s.chart.draw({ ...base, curves: shown.map((c) => ({ curve: c.curve, cls: styleClass(c.style), markNonFinite: true })) });
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
    if (this.indexTimer !== null || !this.set) return;
    const shown = this.sections.flatMap((s) => s.content?.curves.map((c) => c.curve) ?? []);
    if (this.set.indexMore(shown, 0) === 0) return;
    this.indexTimer = window.setTimeout(() => {
      this.indexTimer = null;
      if (this.set && this.set.indexMore(shown, INDEX_SLICE_ROWS) > 0) this.scheduleIndexing();
    }, 0);
  }
}
