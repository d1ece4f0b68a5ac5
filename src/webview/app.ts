import type { Finding } from '../shared/analysis/finding';
import { collectTerms, layerDecay, penaltiesByLayer, refreshTermViews, type DecayStatus, type TermView } from '../shared/analysis/terms';
import { applyRunnerEvent, objectivesOf, type RunState } from '../shared/model/run-state';
import {
  WEBVIEW_PROTOCOL_VERSION,
  parseHostToWebview,
  type ExportFormat,
  type HostToWebview,
} from '../shared/protocol/webview-protocol';
import { CurvesPanel } from './curves/curves-panel';
import { el, message } from './dom';
import { displaySafe, formatInt } from '../shared/format';
import { seriesToCsv, seriesToJson, standaloneSvg, svgToPngBase64 } from './export';
import { FindingsPanel } from './findings/findings-panel';
import { GraphPanel } from './graph/graph-panel';
import type { HostBridge } from './host-bridge';
import { defaultUiState, parseUiState, type UiState } from './ui-state';

/** Refresh term values in the graph at most this often while steps stream in. */
const GRAPH_VALUE_REFRESH_MS = 500;

/**
 * The webview application: receives checked host messages, folds runner events into its RunState
 * with the same reducer the host uses, and drives the three panels. Renders are coalesced into
 * animation frames; appends never rebuild anything.
 */
export class App {
  private state: RunState | null = null;
  private findings: Finding[] = [];
  private ui: UiState;
  private readonly hadSavedState: boolean;
  private readonly header: HTMLElement;
  private readonly statusLine: HTMLElement;
  private readonly notices: HTMLElement;
  readonly graph: GraphPanel;
  readonly curves: CurvesPanel;
  readonly findingsPanel: FindingsPanel;
  private terms: TermView[] = [];
  private penalties = new Map<string, TermView[]>();
  private objective: number | null = null;
  private lastGraphRefresh = 0;
  private graphRefreshTimer: number | null = null;
  private saveTimer: number | null = null;
  /** Counters the tests and the benchmark read. */
  readonly stats = { messages: 0, rejected: 0, events: 0, hydrates: 0, appends: 0 };

  constructor(
    private readonly rootEl: HTMLElement,
    private readonly bridge: HostBridge,
  ) {
    const saved = parseUiState(bridge.getState());
    this.hadSavedState = saved !== null;
    this.ui = saved ?? defaultUiState(0.6, false);
    rootEl.replaceChildren();
    rootEl.setAttribute('aria-busy', 'true');
    this.header = el(rootEl, 'header', 'll-header');
    const h1 = el(this.header, 'h1', 'll-title', 'Loss Lens');
    h1.setAttribute('aria-label', 'Loss Lens');
    this.statusLine = el(this.header, 'div', 'll-status');
    this.statusLine.setAttribute('role', 'status');
    this.notices = el(rootEl, 'div', 'll-notices');
    const main = el(rootEl, 'main', 'll-main');
    this.graph = new GraphPanel(main, this.ui.graph, {
      revealSource: (source) => this.bridge.post({ type: 'revealSource', source }),
      stateChanged: () => this.saveState(),
      exportSvg: (svg, bounds) => this.exportFile('graph-svg', standaloneSvg(svg, bounds)),
      exportPng: (svg, bounds) => {
        const text = standaloneSvg(svg, bounds);
        svgToPngBase64(text, bounds.width + 32, bounds.height + 32).then(
          (b64) => this.exportFile('graph-png', b64),
          (err: Error) => this.bridge.post({ type: 'log', level: 'error', message: `PNG export failed: ${err.message}` }),
        );
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
    const base = (this.state?.script.split(/[\\/]/).pop() ?? 'run').replace(/\.[^.]+$/, '');
    const ext = { 'graph-svg': 'svg', 'graph-png': 'png', 'curves-csv': 'csv', 'curves-json': 'json' }[format];
    const mime = { 'graph-svg': 'image/svg+xml', 'graph-png': 'image/png', 'curves-csv': 'text/csv', 'curves-json': 'application/json' }[format];
    const kind = format.startsWith('graph') ? 'loss-graph' : 'curves';
    this.bridge.post({
      type: 'export',
      format,
      suggestedName: `${base}.${kind}.${ext}`,
      mime,
      encoding: format === 'graph-png' ? 'base64' : 'utf8',
      data,
    });
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
    const parsed = parseHostToWebview(data);
    if (!parsed.ok) {
      this.stats.rejected++;
      this.bridge.post({ type: 'log', level: 'error', message: `Rejected a host message: ${parsed.error}` });
      return;
    }
    this.handle(parsed.value);
  }

  private handle(msg: HostToWebview): void {
    switch (msg.type) {
      case 'hydrate': {
        this.stats.hydrates++;
        this.state = msg.run;
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
        return;
      }
      case 'append': {
        if (!this.state) return;
        this.stats.appends++;
        let structural = false;
        let steps = false;
        for (const event of msg.events) {
          applyRunnerEvent(this.state, event);
          this.stats.events++;
          if (event.type === 'graph' || event.type === 'layers' || event.type === 'optimizer') structural = true;
          else if (event.type === 'step') steps = true;
        }
        if (structural) this.pushAll();
        else if (steps) {
          this.curves.dataChanged();
          this.scheduleGraphValues();
          this.renderHeader();
        } else this.renderHeader();
        return;
      }
      case 'findings':
        this.findings = msg.findings;
        this.findingsPanel.render(this.findings);
        return;
      case 'select':
        this.graph.select(msg.target);
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
    });
    this.findingsPanel.render(this.findings);
    this.renderHeader();
    this.lastGraphRefresh = performance.now();
  }

  private scheduleGraphValues(): void {
    if (this.graphRefreshTimer !== null) return;
    const wait = Math.max(0, GRAPH_VALUE_REFRESH_MS - (performance.now() - this.lastGraphRefresh));
    this.graphRefreshTimer = window.setTimeout(() => {
      this.graphRefreshTimer = null;
      this.lastGraphRefresh = performance.now();
      if (!this.state) return;
      this.refreshTerms(false);
      this.graph.refreshValues();
    }, wait);
  }

  private renderHeader(): void {
    const s = this.state;
    const line = this.statusLine;
    line.replaceChildren();
    if (!s) return;
    el(line, 'span', 'll-script', s.script.split(/[\\/]/).pop() ?? s.script).title = displaySafe(s.script);
    el(line, 'span', `ll-badge-status status-${s.status}`, s.status === 'running' && s.end ? 'ended' : s.status);
    const o = this.currentObjective();
    const series = o === null ? undefined : s.series[o];
    const steps = series?.step.length ?? 0;
    const last = series && steps ? series.step[steps - 1] : null;
    const stepText = el(line, 'span', 'll-step-indicator', last === null ? 'no step yet' : `step ${formatInt(last)}`);
    stepText.setAttribute('data-step', String(last ?? 0));
    if (s.backend) el(line, 'span', 'll-meta-item', `${s.backend.name} · tfjs ${s.backend.tfjsVersion}`);
    if (s.end) el(line, 'span', 'll-meta-item', `ended: ${s.end.reason}`);
    this.notices.replaceChildren();
    if (s.error) {
      const e = el(this.notices, 'div', 'll-notice ll-notice-error');
      el(e, 'strong', '', `${s.error.name}: `);
      message(e, 'span', '', s.error.message);
    }
    for (const n of s.notices) el(this.notices, 'div', 'll-notice', n);
  }
}
