import type { Finding } from '../analysis/finding';
import { emptyRunState, type RunState } from '../model/run-state';
import type { RunnerEvent } from './runner-protocol';
import {
  DEFAULT_UI_SETTINGS,
  append,
  encodeForWebview,
  hydrate,
  replaceFindings,
  type AppendTarget,
  type EncodedMessage,
  type HostToWebview,
  type SelectTarget,
  type UiSettings,
} from './webview-protocol';

/** What a feed shows: the run of one script as its host knows it right now (none before the first run). */
export interface FeedSource {
  run(): { state: RunState; findings: Finding[] } | undefined;
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
  private lastFindings = '';
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
    this.lastFindings = JSON.stringify(findings);
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

  /** New runner events, already folded into the source's state; the findings follow when they changed. */
  async events(events: RunnerEvent[], target: AppendTarget = 'run'): Promise<void> {
    if (!this.isReady || events.length === 0) return;
    await this.post(append(events, target));
    // The compared run's findings are not the panel's: its own stay as they are.
    if (target === 'compare') return;
    const findings = this.source.run()?.findings ?? [];
    const key = JSON.stringify(findings);
    if (key === this.lastFindings) return;
    this.lastFindings = key;
    await this.post(replaceFindings(findings));
  }

  /** Bring a layer or term into view in the webview (now, or as soon as it is ready). */
  async select(target: SelectTarget): Promise<void> {
    if (!this.isReady) this.pendingSelect = target;
    else await this.post({ type: 'select', target });
  }

  private async post(message: HostToWebview): Promise<void> {
    this.sent[message.type]++;
    if (message.type === 'append' && message.target === 'compare') this.sent.compareAppend++;
    if (message.type === 'hydrate' && message.compare) this.sent.compareHydrate++;
    await this.transport(encodeForWebview(message));
  }
}
