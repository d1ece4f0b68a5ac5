import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PANEL_VIEW_TYPE } from './contributions';
import { WebviewFeed } from '../panel/webview-feed';
import { parseWebviewToHost, type SelectTarget, type WebviewToHost } from '../../shared/panel/webview-protocol';
import { renderWebviewHtml } from '../panel/webview-html';
import type { RunArchive } from './run-archive';
import type { RunChange, RunController } from './run-controller';
import { readSettings } from './settings';


/** One panel per script. It owns no run data: everything it shows is rebuilt from the controller's state. */
class ScriptPanel implements vscode.Disposable {
  private readonly feed: WebviewFeed;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly script: string,
    readonly panel: vscode.WebviewPanel,
    private readonly owner: LossGraphPanels,
  ) {
    panel.title = `Loss Lens: ${path.basename(script)}`;
    panel.iconPath = new vscode.ThemeIcon('graph-line');
    panel.webview.options = { enableScripts: true, localResourceRoots: [owner.webviewRoot] };
    panel.webview.html = this.html();
    this.feed = new WebviewFeed(
      script,
      { run: () => owner.runs.get(script), compare: () => owner.runs.compareOf(script)?.state },
      (m) => panel.webview.postMessage(m),
    );
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m) => void this.receive(m)),
      panel.onDidDispose(() => owner.closed(this)),
    );
  }

  private html(): string {
    const asUri = (file: string) => this.panel.webview.asWebviewUri(vscode.Uri.joinPath(this.owner.webviewRoot, file)).toString();
    return renderWebviewHtml({
      scriptUri: asUri('main.js'),
      styleUri: asUri('main.css'),
      cspSource: this.panel.webview.cspSource,
      nonce: randomBytes(18).toString('base64url'),
      title: `Loss Lens: ${path.basename(this.script)}`,
      script: this.script,
    });
  }

  /** What was sent, for the extension's tests. */
  get sent(): WebviewFeed['sent'] {
    return this.feed.sent;
  }

  /** Whether a file of the shown run changed since it ran (what the panel says above its findings). */
  get stale(): boolean {
    return this.feed.stale;
  }

  markStale(stale: boolean): Promise<void> {
    return this.feed.markStale(stale);
  }

  async onRunChange(change: RunChange): Promise<void> {
    // A new run of the script as written describes the file as it is now.
    if (change.kind === 'started' && !change.run.isComparison) await this.feed.markStale(false);
    // A new run replaces what was shown; a finished run adds what only the host knows (final status, exit).
    // The decoupled side of a comparison streams into the same panel, overlaid.
    if (change.kind === 'events') await this.feed.events(change.events, change.run.isComparison ? 'compare' : 'run');
    else await this.feed.hydrate();
  }

  select(target: SelectTarget): Promise<void> {
    return this.feed.select(target);
  }

  /** Every message from the webview enters here, and is checked before anything acts on it. */
  async receive(raw: unknown): Promise<void> {
    const parsed = parseWebviewToHost(raw);
    if (!parsed.ok) {
      this.owner.log.warn(`Ignored a malformed message from the Loss Lens panel: ${parsed.error}`);
      return;
    }
    const message: WebviewToHost = parsed.value;
    switch (message.type) {
      case 'ready':
        await this.feed.onReady();
        return;
      case 'revealSource':
        await this.reveal(message.source);
        return;
      case 'export':
        await this.save(message);
        return;
      case 'stop':
        await this.owner.runs.stop(this.script);
        return;
      case 'rerun':
        // The command's own path: it saves the file and shows this panel before it starts.
        await vscode.commands.executeCommand('lossLens.visualize', vscode.Uri.file(this.script));
        return;
      case 'log':
        this.owner.log[message.level === 'warning' ? 'warn' : message.level](`panel: ${message.message}`);
        return;
    }
  }

  /** Opens a file only if this script's run reported a position in it: the webview cannot open arbitrary files. */
  private async reveal(source: { file: string; line: number; column: number }): Promise<void> {
    if (!this.owner.runs.get(this.script)?.files.has(source.file)) {
      this.owner.log.warn(`The panel asked to open ${source.file}, which this run never reported; ignored.`);
      return;
    }
    const position = new vscode.Position(Math.max(0, source.line - 1), Math.max(0, source.column - 1));
    await vscode.window.showTextDocument(vscode.Uri.file(source.file), {
      viewColumn: vscode.ViewColumn.One,
      selection: new vscode.Range(position, position),
    });
  }

  private async save(message: Extract<WebviewToHost, { type: 'export' }>): Promise<void> {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(this.script))?.uri ?? vscode.Uri.file(path.dirname(this.script));
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(folder, path.basename(message.suggestedName)),
      title: 'Export from Loss Lens',
    });
    if (!target) return;
    const data = message.encoding === 'base64' ? Buffer.from(message.data, 'base64') : Buffer.from(message.data, 'utf8');
    await fs.writeFile(target.fsPath, data);
    this.owner.log.info(`Exported ${message.format} to ${target.fsPath}`);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The loss-graph panels: one per script, opened by the command, restored after a window reload by the
 * serializer, fed from the run controller (hydrate on `ready`, then batched appends).
 */
export class LossGraphPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, ScriptPanel>();
  private readonly subscriptions: vscode.Disposable[];
  readonly webviewRoot: vscode.Uri;

  constructor(
    extensionUri: vscode.Uri,
    readonly runs: RunController,
    readonly archive: RunArchive,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.webviewRoot = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.subscriptions = [
      runs.onDidChange((change) => {
        if (change.kind === 'finished') this.saveFinished(change.run);
        void this.panels.get(change.run.script)?.onRunChange(change);
      }),
      // An edit to any file the run reported (the script, a helper that built layers) leaves its findings stale.
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        for (const p of this.panels.values()) {
          const run = this.runs.get(p.script);
          if (run && (p.script === e.document.uri.fsPath || run.files.has(e.document.uri.fsPath))) void p.markStale(true);
        }
      }),
    ];
  }

  /**
   * A finished run goes to the archive for a reload to restore: at once, and again with its comparison's decoupled
   * run when that one has ended too (a reload between the two still restores the run as written).
   */
  private saveFinished(run: RunChange['run']): void {
    const written = run.isComparison ? run.compareOf! : run;
    if (!written.outcome) return;
    void this.archive.save(written.state, written.findings, written.partner?.outcome ? written.partner.state : null);
  }

  /** Open (or reveal) the panel of a script, beside the editor, without taking the focus from it. */
  show(script: string): vscode.WebviewPanel {
    const existing = this.panels.get(script);
    if (existing) {
      existing.panel.reveal(undefined, true);
      return existing.panel;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, `Loss Lens: ${path.basename(script)}`, {
      viewColumn: vscode.ViewColumn.Beside,
      preserveFocus: true,
    });
    this.panels.set(script, new ScriptPanel(script, panel, this));
    return panel;
  }

  /** Show a layer or term of a script's run in its panel (opened if needed): the hover's "Show in Loss Graph". */
  async showInGraph(script: string, target: SelectTarget): Promise<void> {
    this.show(script);
    await this.panels.get(script)?.select(target);
  }

  /** The panel of a script, with what it was sent and its message entry (the extension's tests use these). */
  panelFor(script: string): Pick<ScriptPanel, 'panel' | 'sent' | 'receive' | 'stale'> | undefined {
    return this.panels.get(script);
  }

  /** After a window reload: the run is gone with the old extension host, so bring back its saved picture. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const script = (state as { script?: unknown } | undefined)?.script;
    if (typeof script !== 'string' || this.panels.has(script)) {
      panel.dispose();
      return;
    }
    const saved = await this.archive.load(script);
    if (saved) this.runs.adopt(saved.state, saved.findings, saved.compare);
    this.panels.set(script, new ScriptPanel(script, panel, this));
  }

  closed(p: ScriptPanel): void {
    if (this.panels.get(p.script) === p) this.panels.delete(p.script);
    p.dispose();
    if (readSettings(vscode.Uri.file(p.script)).stopRunWhenPanelCloses && this.runs.isRunning(p.script)) {
      void this.runs.stop(p.script);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    for (const p of this.panels.values()) p.panel.dispose();
  }
}

