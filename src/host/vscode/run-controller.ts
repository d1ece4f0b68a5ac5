// Over 300 lines, on purpose: a Run and the controller share one lifecycle (the controller alone starts, compares,
// adopts, settles and stops runs, and links a comparison's partner/compareOf), so the bookkeeping stays in one file.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Finding } from '../../shared/analysis/finding';
import { analyzeRun } from '../../shared/analysis/rules';
import { emptyRunState, stateVersion, type RunState, type RunStatus } from '../../shared/model/run-state';
import type { WeightDecayMode } from '../../shared/protocol/run-data';
import type { RunnerEvent, WireRunnerEvent } from '../../shared/protocol/runner-protocol';
import { VersionedFindings } from '../panel/versioned-findings';
import type * as Engine from '../../engine/run-script';
import type { RunOutcome } from '../../engine/run-script';
import { readSettings, type LossLensSettings } from './settings';
import { pythonFor } from './python-interpreter';

let nextId = 1;

/**
 * A live run's findings come from the whole state (analyzeRun reads every step's columns, so one analysis takes
 * time in proportion to the run's length). Between two analyses of a running script at least this many times the
 * last one's duration passes, so analysis takes at most a tenth of the host's time however long the run: on a short
 * run (an analysis well under a millisecond) that is every batch, as before; on a 100,000-step run, every few.
 * A finished run's findings are always current (the engine's final analysis).
 */
const ANALYSIS_SPACING = 9;

/**
 * One run of one script: the live state the panel, editor notes and Problems are rebuilt from. The state
 * owns the status (the engine writes it); findings are derived from the state when it changed (the reducer's
 * version, see stateVersion) and someone reads them: the views read them once per batch of events.
 */
export class Run {
  readonly id = nextId++;
  /** Every file the run reported a position in: the only files a webview may ask us to open. */
  readonly files: Set<string>;
  outcome: RunOutcome | null = null;
  pid: number | undefined;
  /** In the environment of every process of the run (LOSS_LENS_RUN): how a stop finds them, and tests check. */
  mark: string | undefined;
  /**
   * Compare with Decoupled Weight Decay: on the script's own run (as written), the decoupled what-if run shown
   * overlaid in its panel. The partner is never the panel's, the notes' or the Problems' run itself.
   */
  partner: Run | null = null;
  /** Changes made outside the reducer (the run ended, failed): with the state's own version, what findings are of. */
  private version = 0;
  /** The version the findings were derived at (-1: never). */
  private analyzedAt = -1;
  /** While running: no analysis before this time (performance.now()), see ANALYSIS_SPACING. */
  private nextAnalysis = 0;
  private readonly derived = new VersionedFindings();

  constructor(
    readonly script: string,
    readonly state: RunState = emptyRunState(script),
    findings?: Finding[],
    /** How the run treats weight decay: the script as written, or the decoupled what-if. */
    readonly weightDecay: WeightDecayMode = state.weightDecay ?? 'as-written',
  ) {
    this.files = new Set([script]);
    this.state.weightDecay = weightDecay;
    if (findings) this.setFindings(findings);
  }

  /** The decoupled side of a comparison: shown only overlaid on its partner. */
  get isComparison(): boolean {
    return this.weightDecay === 'decoupled' && this.compareOf !== null;
  }

  /** For the decoupled side of a comparison: the run (as written) it is compared with. */
  compareOf: Run | null = null;

  get status(): RunStatus {
    return this.state.status;
  }

  get findings(): Finding[] {
    this.analyze();
    return this.derived.findings;
  }

  /** Moves only when the findings changed: how the webview feed knows to send them, without comparing them. */
  get findingsVersion(): number {
    this.analyze();
    return this.derived.version;
  }

  /** Both counters only grow, so their sum changes whenever either does. */
  private get stateAt(): number {
    return this.version + stateVersion(this.state);
  }

  private analyze(): void {
    if (this.analyzedAt === this.stateAt) return;
    if (this.status === 'running' && this.analyzedAt >= 0 && performance.now() < this.nextAnalysis) return;
    const started = performance.now();
    const findings = analyzeRun(this.state);
    const ended = performance.now();
    this.nextAnalysis = ended + ANALYSIS_SPACING * (ended - started);
    this.setFindings(findings);
  }

  private setFindings(findings: Finding[]): void {
    this.analyzedAt = this.stateAt;
    this.derived.set(findings);
  }

  /** The state changed outside the reducer (the run ended or failed), with the final findings when known. */
  changed(findings?: Finding[]): void {
    this.version++;
    if (findings) this.setFindings(findings);
  }
}

export type RunChange =
  | { kind: 'started'; run: Run }
  /** `events`: as the runner wrote them (wire JSON), already folded into the run's state. */
  | { kind: 'events'; run: Run; events: WireRunnerEvent[] }
  | { kind: 'finished'; run: Run };

interface Active {
  run: Run;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Owns the runs: at most one per script, a re-run replaces the old one, and no child process outlives its run
 * (cancel, re-run, dispose). Events are batched before they are announced, so views update a few times a second.
 */
export class RunController implements vscode.Disposable {
  private readonly active = new Map<string, Active>();
  private readonly finished = new Map<string, Run>();
  private readonly emitter = new vscode.EventEmitter<RunChange>();
  readonly onDidChange = this.emitter.event;
  private latest: string | null = null;

  constructor(
    private readonly runnerPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly toolVersion: string,
  ) {}

  get(script: string): Run | undefined {
    return this.active.get(script)?.run ?? this.finished.get(script);
  }

  /** Every run this window knows, running or finished. */
  all(): Run[] {
    const runs = new Map<string, Run>(this.finished);
    for (const [script, a] of this.active) runs.set(script, a.run);
    return [...runs.values()];
  }

  /** The script of the run started last, for Stop and Re-run without an editor. */
  latestScript(): string | null {
    return this.latest;
  }

  isRunning(script?: string): boolean {
    return script ? this.active.has(script) : this.active.size > 0;
  }

  async start(script: string): Promise<Run> {
    await this.stop(script);
    const settings = readSettings(vscode.Uri.file(script));
    const run = new Run(script);
    this.latest = script;
    const abort = new AbortController();
    // Registered before anything is awaited, so a Stop that comes right away still finds the run.
    const done = this.execute(run, settings, abort.signal).finally(() => this.settle(script, run));
    this.active.set(script, { run, abort, done });
    this.emitter.fire({ kind: 'started', run });
    void this.updateContext();
    return run;
  }

  /**
   * Compare with Decoupled Weight Decay: the script as written and its decoupled what-if, one after the other (or
   * at once where the machine has the cores for two). One Stop stops both; the script's run is the one as written,
   * with the decoupled one as its partner.
   */
  async compare(script: string, options: { parallel?: boolean } = {}): Promise<{ run: Run; decoupled: Run }> {
    await this.stop(script);
    const settings = readSettings(vscode.Uri.file(script));
    const run = new Run(script);
    const decoupled = new Run(script, undefined, undefined, 'decoupled');
    run.partner = decoupled;
    decoupled.compareOf = run;
    this.latest = script;
    const abort = new AbortController();
    const parallel = options.parallel ?? os.availableParallelism() >= 4;
    this.log.info(`Comparing ${script} with its decoupled what-if (${parallel ? 'both at once' : 'one after the other'})`);
    const first = this.execute(run, settings, abort.signal).finally(() => this.finishedOne(run));
    const second = (parallel ? Promise.resolve() : first).then(() => {
      if (abort.signal.aborted) {
        // Stopped before its turn: it never ran.
        decoupled.state.status = 'cancelled';
        decoupled.state.end = { reason: 'stopped-by-user', exitCode: null, exitSource: null };
        return;
      }
      this.emitter.fire({ kind: 'started', run: decoupled });
      return this.execute(decoupled, settings, abort.signal);
    });
    const done = Promise.all([first, second.finally(() => this.finishedOne(decoupled))]).then(() => this.settle(script, run, false));
    this.active.set(script, { run, abort, done });
    this.emitter.fire({ kind: 'started', run });
    if (parallel) this.emitter.fire({ kind: 'started', run: decoupled });
    void this.updateContext();
    return { run, decoupled };
  }

  /** One run of a comparison ended: its views update now, whatever the other is doing. */
  private finishedOne(run: Run): void {
    this.emitter.fire({ kind: 'finished', run });
  }

  /** The script's runs are over: it is no longer active, and its run is the finished one. */
  private settle(script: string, run: Run, announce = true): void {
    if (this.active.get(script)?.run === run) this.active.delete(script);
    this.finished.set(script, run);
    if (announce) this.emitter.fire({ kind: 'finished', run });
    void this.updateContext();
  }

  /** The decoupled run a script's run is compared with, if it is a comparison. */
  compareOf(script: string): Run | undefined {
    return this.get(script)?.partner ?? undefined;
  }

  private async execute(run: Run, settings: LossLensSettings, signal: AbortSignal): Promise<void> {
    const { script } = run;
    let pending: WireRunnerEvent[] = [];
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = () => {
      flushTimer = undefined;
      if (pending.length === 0) return;
      const events = pending;
      pending = [];
      this.emitter.fire({ kind: 'events', run, events });
    };
    const variant = run.weightDecay === 'decoupled' ? ', weight decay decoupled (what-if)' : '';
    const args = settings.scriptArguments.length ? `, arguments ${JSON.stringify(settings.scriptArguments)}` : '';
    this.log.info(`Running ${script} (backend ${settings.backend}, ${settings.steps} steps, ${settings.timeoutSeconds} s${args}${variant})`);
    try {
      // The engine (esbuild, child processes) loads only when a run starts, keeping activation light.
      const { runScript } = loadEngine(this.runnerPath);
      const outcome = await runScript({
        scriptPath: script,
        args: settings.scriptArguments,
        cwd: vscode.workspace.getWorkspaceFolder(vscode.Uri.file(script))?.uri.fsPath ?? path.dirname(script),
        steps: settings.steps,
        timeoutSeconds: settings.timeoutSeconds,
        backend: settings.backend,
        weightDecay: run.weightDecay,
        nodePath: settings.nodePath || undefined,
        pythonPath: /\.py$/i.test(script) ? await pythonFor(vscode.Uri.file(script), settings.pythonPath, this.log) : undefined,
        runnerPath: this.runnerPath,
        toolVersion: this.toolVersion,
        signal,
        state: run.state,
        onStarted: ({ pid, mark }) => {
          run.pid = pid;
          run.mark = mark;
        },
        // Folded into run.state by the engine (which bumps its version); the wire JSON is what the panel gets.
        onEvent: (event, _state, wire) => {
          for (const file of filesOf(event)) run.files.add(file);
          if (event.type === 'notice') this.log.info(event.message);
          if (event.type === 'error') this.log.error(`${event.error.name}: ${event.error.message}`);
          pending.push(wire);
          flushTimer ??= setTimeout(flush, 100);
        },
        onOutput: (_stream, text) => this.log.append(text),
        onProtocolError: (error) => this.log.warn(`Ignored a malformed runner message: ${error}`),
      });
      clearTimeout(flushTimer);
      flush();
      run.outcome = outcome;
      run.changed(outcome.findings);
      for (const f of outcome.findings) if (f.source) run.files.add(f.source.file);
      this.log.info(`Finished ${path.basename(script)}${variant}: ${run.status}, ${outcome.report.steps} steps, ${outcome.findings.length} findings`);
    } catch (err) {
      clearTimeout(flushTimer);
      run.state.status = 'failed';
      run.changed();
      this.log.error(`Loss Lens failed to run ${script}: ${(err as Error)?.stack ?? String(err)}`);
    }
  }

  /**
   * Takes back a finished run saved before a window reload, so the restored panel, the notes and Problems
   * all show it again. Ignored when the script already has a run in this window.
   */
  adopt(state: RunState, findings: Finding[], compare: RunState | null = null): Run | undefined {
    if (this.get(state.script)) return this.get(state.script);
    const run = new Run(state.script, state, findings);
    if (compare) {
      // The decoupled what-if it was compared with: overlaid in the panel again, never the notes' or Problems' run.
      run.partner = new Run(state.script, compare, [], 'decoupled');
      run.partner.compareOf = run;
    }
    for (const l of state.layers) if (l.source) run.files.add(l.source.file);
    for (const f of findings) if (f.source) run.files.add(f.source.file);
    for (const g of Object.values(state.graphs)) if (g.source) run.files.add(g.source.file);
    this.finished.set(state.script, run);
    this.latest ??= state.script;
    this.emitter.fire({ kind: 'finished', run });
    void this.updateContext();
    return run;
  }

  /** Stop the run of a script (or every run) and wait until its processes are gone. */
  async stop(script?: string): Promise<void> {
    const targets = script ? [this.active.get(script)].filter((a): a is Active => !!a) : [...this.active.values()];
    for (const a of targets) a.abort.abort();
    await Promise.all(targets.map((a) => a.done));
  }

  /** Resolves when the run of `script` (if any) has finished. */
  async whenDone(script: string): Promise<Run | undefined> {
    await this.active.get(script)?.done;
    return this.get(script);
  }

  private async updateContext(): Promise<void> {
    await vscode.commands.executeCommand('setContext', 'lossLens.running', this.active.size > 0);
    await vscode.commands.executeCommand('setContext', 'lossLens.hasRun', this.latest !== null);
  }

  dispose(): void {
    for (const a of this.active.values()) a.abort.abort();
    this.emitter.dispose();
  }

  /** For deactivate(): kill every run and wait for the processes to be gone. */
  async disposeAndWait(): Promise<void> {
    const pending = [...this.active.values()].map((a) => a.done);
    this.dispose();
    await Promise.all(pending);
  }
}

function filesOf(event: RunnerEvent): string[] {
  switch (event.type) {
    case 'layers':
      return event.layers.flatMap((l) => (l.source ? [l.source.file] : []));
    case 'graph':
      return event.graph.source ? [event.graph.source.file] : [];
    case 'error':
      return event.error.source ? [event.error.source.file] : [];
    case 'end':
      return event.exitSource ? [event.exitSource.file] : [];
    default:
      return [];
  }
}

/**
 * The engine (esbuild, child processes, the script scan) is dist/engine.js, next to the runner, required with the
 * first run: bundled into extension.js it made activation load a megabyte it does not need.
 */
function loadEngine(runnerPath: string): typeof Engine {
  // A plain require of a computed path: esbuild leaves it alone, so the engine stays out of extension.js.
  return require(path.join(path.dirname(runnerPath), 'engine.js')) as typeof Engine;
}
