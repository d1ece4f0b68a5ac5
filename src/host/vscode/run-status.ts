import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatNumber } from '../../shared/format';
import { primaryObjective, type RunState } from '../../shared/model/run-state';
import type { Run, RunChange, RunController } from './run-controller';

function lastStep(state: RunState): { step: number; loss: number } | null {
  const objective = primaryObjective(state);
  const s = objective === null ? undefined : state.series[objective];
  if (!s || s.step.length === 0) return null;
  return { step: s.step[s.step.length - 1], loss: s.totalLoss[s.totalLoss.length - 1] };
}


/** What a run is doing, in a few words: shared by the status bar and the progress notification. */
export function describeProgress(run: Run): string {
  const at = lastStep(run.state);
  if (run.status === 'running') return at ? `step ${at.step} · loss ${formatNumber(at.loss)}` : 'starting…';
  const errors = run.findings.filter((f) => f.severity === 'error').length;
  const warnings = run.findings.filter((f) => f.severity === 'warning').length;
  const verdict = errors ? `${errors} error${errors === 1 ? '' : 's'}` : warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : 'no problems';
  return `${run.status === 'failed' ? 'failed' : `${at?.step ?? 0} steps`} · ${verdict}`;
}

/**
 * The status-bar item (step and loss; a click reveals the panel) and the cancellable progress notification
 * of each run.
 */
export class RunStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lossLens.status', vscode.StatusBarAlignment.Left, 50);
  private readonly progress = new Map<number, { report: (message: string) => void; finish: () => void }>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly runs: RunController) {
    this.item.name = 'Loss Lens';
    this.item.command = 'lossLens.showPanel';
    this.subscription = runs.onDidChange((c) => this.onChange(c));
  }

  private onChange(change: RunChange): void {
    const { run } = change;
    if (change.kind === 'started') this.startProgress(run);
    const message = describeProgress(run);
    this.progress.get(run.id)?.report(message);
    if (change.kind === 'finished') {
      this.progress.get(run.id)?.finish();
      this.progress.delete(run.id);
    }
    // The status bar speaks of the script's own run; its decoupled partner has its own notification.
    if (run.script !== this.runs.latestScript() || run.isComparison) return;
    const icon = run.status === 'running' ? '$(loading~spin)' : run.findings.some((f) => f.severity === 'error') || run.status === 'failed' ? '$(error)' : '$(check)';
    this.item.text = `${icon} Loss Lens: ${message}`;
    this.item.tooltip = `${path.basename(run.script)}: ${message}. Click to show the loss graph.`;
    this.item.show();
  }

  private startProgress(run: Run): void {
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Loss Lens: ${path.basename(run.script)}${run.isComparison ? ' · decoupled weight decay (what-if)' : ''}`,
        cancellable: true,
      },
      (progress, token) =>
        new Promise<void>((resolve) => {
          token.onCancellationRequested(() => void this.runs.stop(run.script));
          this.progress.set(run.id, { report: (message) => progress.report({ message }), finish: resolve });
        }),
    );
  }

  dispose(): void {
    for (const p of this.progress.values()) p.finish();
    this.item.dispose();
    this.subscription.dispose();
  }
}
