import type { Finding } from '../../shared/analysis/finding';
import { emptyRunState, type RunState } from '../../shared/model/run-state';
import type { WireRunnerEvent } from '../../shared/protocol/runner-protocol';
import {
  DEFAULT_UI_SETTINGS,
  append,
  encodeForWebview,
  hydrate,
  replaceFindings,
  type AppendTarget,
  type EncodedMessage,
  type HostMessage,
  type SelectTarget,
  type UiSettings,
} from '../../shared/panel/webview-protocol';

/**
 * The findings of a run, with what tells whether they changed: `findingsVersion` when the source keeps one (it
 * bumps only when the findings really changed), else the identity of the list. Never their text: comparing
 * JSON.stringify of every finding on every batch cost as much as the batch.
 */
export interface FeedRun {
  state: RunState;
  findings: Finding[];
  findingsVersion?: number;
}

/** What a feed shows: the run of one script as its host knows it right now (none before the first run). */
export interface FeedSource {
  run(): FeedRun | undefined;
  /** The decoupled what-if run the panel compares the run with (Compare with Decoupled Weight Decay), if any. */
  compare?(): RunState | undefined;
}

/**
 * The host side of one webview: nothing before the webview says `ready`, then `hydrate` with the whole run,
 * then batched `append`s, and `findings` only when they changed. The extension's panel and the test
 * harness both drive this, so the harness exercises the code that ships.
 */
export class WebviewFeed {
  private isReady = false;
  /** The findings last sent: their version (or list, for a source without versions). */
  private lastFindings: unknown = undefined;
  /** A selection asked for before the webview was ready: sent right after its first hydrate. */
  private pendingSelect: SelectTarget | null = null;
  /** What was sent, for tests. */
  readonly sent = { hydrate: 0, append: 0, findings: 0, select: 0, stale: 0, compareAppend: 0, compareHydrate: 0 };
  /** Whether a file of the run changed since it ran; kept here so a reloaded webview is told again. */
  private isStale = false;

  constructor(
    private readonly script: string,
    private readonly source: FeedSource,
    private readonly transport: (message: EncodedMessage) => unknown,
    private readonly settings: UiSettings = DEFAULT_UI_SETTINGS,
  ) {}

  get ready(): boolean {
    return this.isReady;
  }

  /** The webview (new, or reloaded) asked for the picture. */
  async onReady(): Promise<void> {
    this.isReady = true;
    await this.hydrate();
    const target = this.pendingSelect;
    this.pendingSelect = null;
    if (target) await this.select(target);
  }

  /** The full picture: on `ready`, and when a run starts or ends. */
  async hydrate(): Promise<void> {
    if (!this.isReady) return;
    const run = this.source.run();
    const findings = run?.findings ?? [];
    this.lastFindings = findingsKey(run);
    await this.post(hydrate(run?.state ?? emptyRunState(this.script), findings, this.settings, this.source.compare?.() ?? null));
    if (this.isStale) await this.post({ type: 'stale', stale: true });
  }

  get stale(): boolean {
    return this.isStale;
  }

  /** The run's files changed since it ran (true), or a new run began (false). Sent only when it changes. */
  async markStale(stale: boolean): Promise<void> {
    if (stale === this.isStale) return;
    this.isStale = stale;
    if (this.isReady) await this.post({ type: 'stale', stale });
  }

  /**
   * New runner events, already folded into the source's state, as the runner wrote them (the JSON the engine
   * parsed from the channel: they are forwarded, not encoded again); the findings follow when they changed.
   */
  async events(events: readonly WireRunnerEvent[], target: AppendTarget = 'run'): Promise<void> {
    if (!this.isReady || events.length === 0) return;
    await this.post(append(events, target));
    // The compared run's findings are not the panel's: its own stay as they are.
    if (target === 'compare') return;
    const run = this.source.run();
    const key = findingsKey(run);
    if (key === this.lastFindings) return;
    this.lastFindings = key;
    await this.post(replaceFindings(run?.findings ?? []));
  }

  /** Bring a layer or term into view in the webview (now, or as soon as it is ready). */
  async select(target: SelectTarget): Promise<void> {
    if (!this.isReady) this.pendingSelect = target;
    else await this.post({ type: 'select', target });
  }

  private async post(message: HostMessage): Promise<void> {
    this.sent[message.type]++;
    if (message.type === 'append' && message.target === 'compare') this.sent.compareAppend++;
    if (message.type === 'hydrate' && message.compare) this.sent.compareHydrate++;
    await this.transport(encodeForWebview(message));
  }
}

/** What stands for a run's findings when deciding whether to send them again (see FeedRun). */
function findingsKey(run: FeedRun | undefined): unknown {
  if (!run) return NO_FINDINGS;
  return run.findingsVersion ?? run.findings;
}

const NO_FINDINGS = Symbol('no run');
