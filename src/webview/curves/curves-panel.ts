import type { DecayStatus } from '../../shared/analysis/terms';
import type { Series } from '../../shared/model/run-state';
import { CurveSet, type Curve } from '../../shared/series/curve-set';
import { button, el, panelSection } from '../dom';
import { formatInt } from '../../shared/format';
import type { UiState } from '../ui-state';
import { Chart, type ChartCurve } from './chart';
import { renderCurveLegend } from './curve-legend';
import { curveStyle, styleClass, type StyleContext } from './curve-style';

export interface CurvesInput {
  objective: number | null;
  objectives: number[];
  series: Series | null;
  layerOf: (weightId: string) => string;
  decayOf: (layer: string) => DecayStatus;
}

export interface CurvesCallbacks {
  stateChanged(): void;
  objectiveChanged(objective: number): void;
  exportCsv(): void;
  exportJson(): void;
}


/**
 * Training curves: total / data / regularization loss, and the per-layer weight norms, sharing one
 * step axis, one crosshair and one zoom. Appends only re-index the new rows and schedule one draw per
 * animation frame, however many steps arrived.
 */
export class CurvesPanel {
  readonly root: HTMLElement;
  readonly lossChart: Chart;
  readonly normChart: Chart;
  private readonly smoothInput: HTMLInputElement;
  private readonly smoothValue: HTMLElement;
  private readonly logBox: HTMLInputElement;
  private readonly objectiveSelect: HTMLSelectElement;
  private readonly lossLegend: HTMLElement;
  private readonly normLegend: HTMLElement;
  private readonly empty: HTMLElement;
  private input: CurvesInput | null = null;
  private set: CurveSet | null = null;
  private crosshair: number | null = null;
  private frameRequested = false;
  private legendKey = '';
  private chartWidth = 0;
  /** Duration of the last draw (sync + downsample + paths), for the benchmark. */
  lastDrawMs = 0;
  /** Duration of the last animation-frame callback, drawn or only indexed. */
  lastFrameMs = 0;
  /** Frames drawn so far (the tests check appends are coalesced). */
  draws = 0;
  private drawnResolvers: Array<() => void> = [];

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
      this.requestDraw();
      this.callbacks.stateChanged();
    });
    const logLabel = el(tools, 'label', 'll-check');
    this.logBox = el(logLabel, 'input');
    this.logBox.type = 'checkbox';
    this.logBox.checked = ui.logScale;
    el(logLabel, 'span', '', 'Log scale');
    this.logBox.addEventListener('change', () => {
      this.ui.logScale = this.logBox.checked;
      this.requestDraw();
      this.callbacks.stateChanged();
    });
    button(tools, 'Reset zoom', 'Show every step and follow the run', () => this.setDomain(null));
    button(tools, 'CSV', 'Export the curves as CSV', () => this.callbacks.exportCsv());
    button(tools, 'JSON', 'Export the curves as JSON', () => this.callbacks.exportJson());

    this.empty = el(this.root, 'p', 'll-empty', 'No optimizer step yet: the curves start with the first one.');
    const charts = el(this.root, 'div', 'll-charts');
    const hooks = {
      crosshair: (step: number | null) => this.setCrosshair(step),
      zoomBy: (factor: number, around: number) => this.zoomBy(factor, around),
      panBy: (steps: number) => this.panBy(steps),
      resetZoom: () => this.setDomain(null),
    };
    const lossBox = el(charts, 'div', 'll-chart-box');
    el(lossBox, 'h3', 'll-chart-title', 'Loss');
    this.lossLegend = el(lossBox, 'div', 'll-chart-legend');
    this.lossChart = new Chart(lossBox, 'Loss', hooks);
    const normBox = el(charts, 'div', 'll-chart-box');
    el(normBox, 'h3', 'll-chart-title', 'Weight norm per layer ‖w‖');
    this.normLegend = el(normBox, 'div', 'll-chart-legend');
    this.normChart = new Chart(normBox, 'Weight norms', hooks);
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

  whenDrawn(): Promise<void> {
    return new Promise((resolve) => this.drawnResolvers.push(resolve));
  }

  get curveSet(): CurveSet | null {
    return this.set;
  }

  setInput(input: CurvesInput): void {
    const seriesChanged = input.series !== this.input?.series;
    this.input = input;
    if (seriesChanged) {
      this.set = input.series ? new CurveSet(input.series, input.layerOf, this.ui.smoothing) : null;
      this.legendKey = '';
    }
    this.objectiveSelect.hidden = input.objectives.length < 2;
    if (input.objectives.length >= 2 && this.objectiveSelect.options.length !== input.objectives.length) {
      this.objectiveSelect.replaceChildren();
      for (const o of input.objectives) {
        const opt = el(this.objectiveSelect, 'option', '', `objective ${o}`);
        opt.value = String(o);
      }
    }
    if (input.objective !== null) this.objectiveSelect.value = String(input.objective);
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

  private forceNext = false;
  private drawnRows = 0;
  private drawnAt = 0;

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
      else this.set?.sync();
      this.lastFrameMs = performance.now() - t0;
    });
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

  private stepRange(): [number, number] | null {
    const steps = this.set?.series.step;
    if (!steps || steps.length === 0) return null;
    const first = steps[0];
    const last = steps[steps.length - 1];
    return first === last ? [first - 0.5, last + 0.5] : [first, last];
  }

  private domain(): [number, number] | null {
    const full = this.stepRange();
    if (!full) return null;
    return this.ui.xDomain ?? full;
  }

  private setDomain(d: [number, number] | null): void {
    const full = this.stepRange();
    if (d && full) {
      const span = Math.max(2, Math.min(d[1] - d[0], full[1] - full[0]));
      let a = Math.max(full[0], d[0]);
      let b = a + span;
      if (b > full[1]) {
        b = full[1];
        a = b - span;
      }
      d = a <= full[0] && b >= full[1] ? null : [a, b];
    }
    this.ui.xDomain = d;
    this.requestDraw();
    this.callbacks.stateChanged();
  }

  private zoomBy(factor: number, around: number): void {
    const d = this.domain();
    if (!d) return;
    this.setDomain([around + (d[0] - around) * factor, around + (d[1] - around) * factor]);
  }

  private panBy(steps: number): void {
    const d = this.domain();
    if (!d || !this.ui.xDomain) return;
    this.setDomain([d[0] + steps, d[1] + steps]);
  }

  private setCrosshair(step: number | null): void {
    this.crosshair = step;
    this.lossChart.setCrosshair(step);
    this.normChart.setCrosshair(step);
  }

  private styleContext(): StyleContext {
    const norms = this.set?.curves.filter((c) => c.group === 'norm') ?? [];
    const index = new Map(norms.map((c, i) => [c.id, i]));
    return { decayOf: this.input!.decayOf, normIndex: (id) => index.get(id) ?? 0, normCount: norms.length };
  }

  private chartCurves(curves: Curve[], ctx: StyleContext): ChartCurve[] {
    const hidden = new Set(this.ui.hidden);
    return curves.filter((c) => !hidden.has(c.id)).map((c) => ({ curve: c, cls: styleClass(curveStyle(c, ctx)), markNonFinite: true }));
  }

  private toggleCurve(id: string): void {
    const h = new Set(this.ui.hidden);
    if (h.has(id)) h.delete(id);
    else h.add(id);
    this.ui.hidden = [...h];
    this.requestDraw();
    this.callbacks.stateChanged();
  }

  private renderLegends(ctx: StyleContext): void {
    const set = this.set;
    if (!set) return;
    const key = set.curves.map((c) => c.id).join('|') + '#' + this.ui.hidden.join('|');
    if (key === this.legendKey) return;
    this.legendKey = key;
    const hidden = new Set(this.ui.hidden);
    const entries = (group: Curve['group']) =>
      set.curves.filter((c) => c.group === group).map((curve) => ({ curve, style: curveStyle(curve, ctx), hidden: hidden.has(curve.id) }));
    renderCurveLegend(this.lossLegend, entries('loss'), (id) => this.toggleCurve(id));
    renderCurveLegend(this.normLegend, entries('norm'), (id) => this.toggleCurve(id));
  }

  draw(): void {
    const t0 = performance.now();
    const set = this.set;
    const hasData = !!set && set.length > 0;
    this.empty.hidden = hasData;
    this.root.classList.toggle('no-data', !hasData);
    if (!set || !hasData) {
      for (const r of this.drawnResolvers.splice(0)) r();
      return;
    }
    this.draws++;
    set.sync();
    const ctx = this.styleContext();
    this.renderLegends(ctx);
    const d = this.domain()!;
    const steps = set.series.step;
    const current = steps[steps.length - 1];
    if (this.chartWidth === 0) this.chartWidth = this.lossChart.root.parentElement!.getBoundingClientRect().width || 600;
    const boxW = this.chartWidth - 2;
    const boxH = Math.max(160, Math.min(320, Math.round(boxW * 0.45)));
    this.lossChart.resize(boxW, boxH);
    this.normChart.resize(boxW, boxH);
    const base = { steps, x0: d[0], x1: d[1], log: this.ui.logScale, smoothing: this.ui.smoothing, currentStep: current, crosshair: this.crosshair };
    this.lossChart.draw({ ...base, curves: this.chartCurves(set.curves.filter((c) => c.group === 'loss'), ctx) });
    this.normChart.draw({ ...base, curves: this.chartCurves(set.curves.filter((c) => c.group === 'norm'), ctx) });
    this.root.setAttribute('data-steps', String(steps.length));
    this.root.setAttribute('aria-description', `${formatInt(steps.length)} steps`);
    this.lastDrawMs = performance.now() - t0;
    this.drawnRows = set.length;
    this.drawnAt = performance.now();
    for (const r of this.drawnResolvers.splice(0)) r();
  }
}
