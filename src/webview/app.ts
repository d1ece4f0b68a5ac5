// Over 300 lines, on purpose: the one place host messages turn into state and panel updates, so the order of folding,
// refreshing and rendering is read in one file; header, verdict, panels, export and marks are modules of their own.
import { comparisonNotices, decayReferenceLines } from '../shared/analysis/compare';
import { decoupledDecayNotes } from '../shared/analysis/decoupled-decay';
import type { Finding } from '../shared/analysis/finding';
import { collectTerms, layerDecay, penaltiesByLayer, refreshTermViews, type DecayStatus, type TermView } from '../shared/analysis/terms';
import { penaltyCounts, verdictOf } from '../shared/analysis/verdict';
import { applyRunnerEvent, objectivesOf, type RunState } from '../shared/model/run-state';
import { WEBVIEW_PROTOCOL_VERSION, parseHostToWebview, type ExportFormat, type HostToWebview } from '../shared/panel/webview-protocol';
import { CurvesPanel } from './curves/curves-panel';
import { el, message, prose } from './dom';
import { exportMessage, seriesToCsv, seriesToJson, standaloneSvg, svgToPngBase64 } from './export';
import { FindingsPanel } from './findings/findings-panel';
import { GraphPanel } from './graph/graph-panel';
import { CompareLine } from './header/compare-line';
import { RunHeader } from './header/run-header';
import type { HostBridge } from './host-bridge';
import { createMarks, epochNow, markRun, type PanelMarks } from './panel-timing';
import { defaultUiState, parseUiState, type UiState } from './ui-state';
import { VerdictPanel } from './verdict/verdict-panel';

/** Refresh term values in the graph, and the verdict, at most this often while steps stream in. */
const VALUE_REFRESH_MS = 500;

/**
 * The webview application: receives checked host messages, folds runner events into its RunState
 * with the same reducer the host uses, and drives the header, the verdict and the three panels. Renders
 * are coalesced into animation frames; appends never rebuild anything.
 */
export class App {
  private state: RunState | null = null;
  /** Compare with Decoupled Weight Decay: the what-if run, overlaid on the script's own. */
  private compare: RunState | null = null;
  private findings: Finding[] = [];
  private ui: UiState;
  private readonly hadSavedState: boolean;
  private readonly header: RunHeader;
  private readonly notices: HTMLElement;
  private readonly compareLine: CompareLine;
  private readonly verdict: VerdictPanel;
  readonly graph: GraphPanel;
  readonly curves: CurvesPanel;
  readonly findingsPanel: FindingsPanel;
  private terms: TermView[] = [];
  private penalties = new Map<string, TermView[]>();
  private objective: number | null = null;
  private lastValueRefresh = 0;
  private valueRefreshTimer: number | null = null;
  private saveTimer: number | null = null;
  /** Counters the tests and the benchmark read. */
  readonly stats = { messages: 0, rejected: 0, events: 0, hydrates: 0, appends: 0 };
  readonly marks: PanelMarks = createMarks();
  /**
   * The last hydrate: check (zod + unpacking the columns), apply (views), the first draw of the curves (its
   * own work), and the total from the message to the drawn curves (the draw waits for an animation frame).
   */
  lastHydrate = { checkMs: 0, applyMs: 0, drawMs: 0, totalMs: 0 };

  constructor(
    private readonly rootEl: HTMLElement,
    private readonly bridge: HostBridge,
  ) {
    const saved = parseUiState(bridge.getState());
    this.hadSavedState = saved !== null;
    this.ui = saved ?? defaultUiState(0.6, false);
    // The HTML already painted the script's name and "Starting…"; the header takes over the same markup.
    const script = rootEl.getAttribute('data-script') || null;
    rootEl.replaceChildren();
    rootEl.setAttribute('aria-busy', 'true');
    this.header = new RunHeader(rootEl, script, {
      stop: () => this.bridge.post({ type: 'stop' }),
      rerun: () => this.bridge.post({ type: 'rerun' }),
    });
    this.compareLine = new CompareLine(rootEl);
    this.notices = el(rootEl, 'div', 'll-notices');
    this.verdict = new VerdictPanel(rootEl, { showFindings: () => this.findingsPanel.focusFirst() });
    const main = el(rootEl, 'main', 'll-main');
    this.graph = new GraphPanel(main, this.ui.graph, {
      revealSource: (source) => this.bridge.post({ type: 'revealSource', source }),
      stateChanged: () => this.saveState(),
      exportSvg: (svg, bounds) => this.exportFile('graph-svg', standaloneSvg(svg, bounds)),
      exportPng: (svg, bounds) => {
        svgToPngBase64(standaloneSvg(svg, bounds), bounds.width + 32, bounds.height + 32).then(
          (b64) => this.exportFile('graph-png', b64),
          (err: Error) => this.bridge.post({ type: 'log', level: 'error', message: `PNG export failed: ${err.message}` }),
        );
      },
      rendered: (nodes) => {
        if (nodes > 0 && this.marks.firstGraph === null) this.marks.firstGraph = epochNow();
      },
    });
    this.findingsPanel = new FindingsPanel(main, {
      revealSource: (source) => this.bridge.post({ type: 'revealSource', source }),
      select: (target) => this.graph.select(target),
    });
    this.curves = new CurvesPanel(main, this.ui.curves, {
      stateChanged: () => this.saveState(),
      objectiveChanged: (o) => {
        this.ui.curves.objective = o;
        this.objective = o;
        this.pushAll();
        this.saveState();
      },
      exportCsv: () => this.withSeries((s) => this.exportFile('curves-csv', seriesToCsv(s))),
      exportJson: () => this.withSeries((s, o) => this.exportFile('curves-json', seriesToJson(this.state!.script, o, s))),
    });
    bridge.onMessage((data) => this.receive(data));
    bridge.post({ type: 'ready', protocol: WEBVIEW_PROTOCOL_VERSION });
  }

  private withSeries(f: (s: NonNullable<RunState['series'][number]>, objective: number) => void): void {
    const o = this.objective;
    const s = o === null ? undefined : this.state?.series[o];
    if (s && o !== null) f(s, o);
  }

  private exportFile(format: ExportFormat, data: string): void {
    this.bridge.post(exportMessage(format, this.state?.script ?? null, data));
  }

  private saveState(): void {
    if (this.saveTimer !== null) return;
    this.saveTimer = window.setTimeout(() => {
      this.saveTimer = null;
      this.bridge.setState(this.ui);
    }, 100);
  }

  /** Flush a pending state save now (tests reload right after acting). */
  saveStateNow(): void {
    if (this.saveTimer !== null) window.clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.bridge.setState(this.ui);
  }

  receive(data: unknown): void {
    this.stats.messages++;
    const t0 = performance.now();
    const parsed = parseHostToWebview(data);
    if (!parsed.ok) {
      this.stats.rejected++;
      this.bridge.post({ type: 'log', level: 'error', message: `Rejected a host message: ${parsed.error}` });
      return;
    }
    const t1 = performance.now();
    this.handle(parsed.value);
    if (parsed.value.type === 'hydrate') {
      const t2 = performance.now();
      const timing = { checkMs: t1 - t0, applyMs: t2 - t1, drawMs: 0, totalMs: 0 };
      this.lastHydrate = timing;
      void this.curves.whenDrawn().then(() => {
        timing.totalMs = performance.now() - t0;
        timing.drawMs = this.curves.lastDrawMs;
      });
    }
  }

  private handle(msg: HostToWebview): void {
    switch (msg.type) {
      case 'hydrate': {
        this.stats.hydrates++;
        this.marks.firstHydrate ??= epochNow();
        this.state = msg.run;
        this.compare = msg.compare;
        this.findings = msg.findings;
        if (this.ui.script !== msg.run.script) {
          this.ui.script = msg.run.script;
          this.saveState();
        }
        if (!this.hadSavedState && this.stats.hydrates === 1) {
          this.ui.curves.smoothing = msg.settings.smoothing;
          this.ui.curves.logScale = msg.settings.logScale;
        }
        this.graph.foldSetting = msg.settings.collapseRepeats;
        this.objective = null;
        this.rootEl.setAttribute('aria-busy', 'false');
        this.pushAll();
        markRun(this.marks, this.state);
        return;
      }
      case 'append': {
        if (!this.state) return;
        this.stats.appends++;
        if (msg.target === 'compare') {
          if (!this.compare) return;
          const seriesBefore = Object.keys(this.compare.series).length;
          let structural = false;
          for (const event of msg.events) {
            applyRunnerEvent(this.compare, event);
            this.stats.events++;
            if (event.type === 'layers' || event.type === 'graph') structural = true;
          }
          if (structural || Object.keys(this.compare.series).length !== seriesBefore) this.pushAll();
          else this.curves.compareChanged();
          this.renderHeader();
          // The comparison's line reads medians over every step: at most every VALUE_REFRESH_MS, like the verdict.
          this.scheduleValues();
          return;
        }
        let structural = false;
        let steps = false;
        for (const event of msg.events) {
          applyRunnerEvent(this.state, event);
          this.stats.events++;
          if (event.type === 'graph' || event.type === 'layers' || event.type === 'optimizer' || event.type === 'optimizer-weights') structural = true;
          else if (event.type === 'step' || event.type === 'decay') steps = true;
        }
        markRun(this.marks, this.state);
        if (structural) this.pushAll();
        else {
          if (steps) {
            this.curves.dataChanged();
            this.scheduleValues();
          }
          this.renderHeader();
        }
        return;
      }
      case 'findings':
        this.findings = msg.findings;
        this.findingsPanel.render(this.findings, this.state?.framework ?? 'tfjs');
        this.renderVerdict();
        return;
      case 'select':
        this.graph.select(msg.target);
        return;
      case 'stale':
        this.header.setStale(msg.stale);
        return;
    }
  }

  private objectives(): number[] {
    return this.state ? objectivesOf(this.state) : [];
  }

  private currentObjective(): number | null {
    const all = this.objectives();
    if (this.objective !== null && all.includes(this.objective)) return this.objective;
    const wanted = this.ui.curves.objective;
    this.objective = wanted !== null && all.includes(wanted) ? wanted : all[0] ?? null;
    return this.objective;
  }

  private layerOfWeight = (weightId: string): string => {
    for (const l of this.state?.layers ?? []) if (l.weights.some((w) => w.id === weightId)) return l.name;
    return weightId.split('/')[0];
  };

  private decayOf = (layer: string): DecayStatus => layerDecay(this.penalties.get(layer) ?? []);

  private refreshTerms(full: boolean): void {
    if (full) {
      this.terms = collectTerms(this.state!);
      this.penalties = penaltiesByLayer(this.terms);
    } else refreshTermViews(this.terms, this.state!);
  }

  private pushAll(): void {
    if (!this.state) return;
    this.refreshTerms(true);
    const o = this.currentObjective();
    const graph = o === null ? null : this.state.graphs[o] ?? null;
    this.graph.setInput({ graph, layers: this.state.layers, terms: this.terms, optimizer: o === null ? undefined : this.state.optimizers[o] });
    this.curves.setInput({
      objective: o,
      objectives: this.objectives(),
      series: o === null ? null : this.state.series[o] ?? null,
      layerOf: this.layerOfWeight,
      decayOf: this.decayOf,
      penalties: penaltyCounts(this.terms),
      decayReferences: decayReferenceLines(this.state),
      decoupledNotes: decoupledDecayNotes(this.state),
      compare: o === null || !this.compare ? null : this.compare.series[o] ?? this.compare.series[objectivesOf(this.compare)[0]] ?? null,
    });
    this.findingsPanel.render(this.findings, this.state?.framework ?? 'tfjs');
    this.renderHeader();
    this.renderVerdict();
    this.lastValueRefresh = performance.now();
  }

  /** Steps arrived: term values in the graph, and the verdict, follow at most every VALUE_REFRESH_MS. */
  private scheduleValues(): void {
    if (this.valueRefreshTimer !== null) return;
    const wait = Math.max(0, VALUE_REFRESH_MS - (performance.now() - this.lastValueRefresh));
    this.valueRefreshTimer = window.setTimeout(() => {
      this.valueRefreshTimer = null;
      this.lastValueRefresh = performance.now();
      if (!this.state) return;
      this.refreshTerms(false);
      this.graph.refreshValues();
      this.curves.setPenalties(penaltyCounts(this.terms));
      this.renderVerdict();
    }, wait);
  }

  private renderVerdict(): void {
    const s = this.state;
    if (!s) return;
    const o = this.currentObjective();
    const steps = o === null ? undefined : s.series[o]?.step;
    this.verdict.render(verdictOf(s, this.findings, {}, this.terms), steps?.length ? steps[steps.length - 1] : null, this.findings);
    this.compareLine.render(s, this.compare);
  }

  private renderHeader(): void {
    const s = this.state;
    this.header.render(s);
    this.notices.replaceChildren();
    if (!s) return;
    if (s.error) {
      const e = el(this.notices, 'div', 'll-notice ll-notice-error');
      el(e, 'strong', '', `${s.error.name}: `);
      message(e, 'span', '', s.error.message);
    }
    for (const n of s.notices) prose(this.notices, 'div', 'll-notice', n);
    if (this.compare) for (const n of comparisonNotices(s, this.compare)) prose(this.notices, 'div', 'll-notice ll-notice-compare', n);
  }
}
