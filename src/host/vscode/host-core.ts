/**
 * Everything the extension does, as dist/host.js: loaded by extension.ts with the first command, restored panel or
 * code-action request after a run, so activation itself loads no schemas, analysis or webview code.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { selectTarget } from '../../shared/panel/webview-protocol';
import { RUNNABLE_LANGUAGES } from './contributions';
import { FindingGutter, LayerDecorations } from './decorations';
import { FindingDiagnostics } from './diagnostics';
import { FindingLenses } from './finding-lenses';
import { LossGraphPanels } from './loss-graph-panel';
import { AddPenaltiesQuickFix, DecoupledDecayQuickFix } from './quick-fix';
import { RunArchive } from './run-archive';
import { RunController } from './run-controller';
import { RunStatus } from './run-status';
import { readSettings } from './settings';

export interface HostCore {
  runs: RunController;
  decorations: LayerDecorations;
  gutter: FindingGutter;
  panels: LossGraphPanels;
  addPenalties: AddPenaltiesQuickFix;
  decoupledDecay: DecoupledDecayQuickFix;
  /** Runs the script in the active editor (or the one given by a menu), or compares it with its decoupled what-if. */
  visualize(uri: vscode.Uri | undefined, how: 'run' | 'compare'): Promise<void>;
  showInGraph(script: unknown, target: unknown): Promise<void>;
  showPanel(): void;
  stop(): Promise<void>;
  rerun(): Promise<void>;
}

/** Builds the host's parts and wires them; every disposable goes into the extension's subscriptions. */
export function createHost(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): HostCore {
  const runs = new RunController(path.join(context.extensionPath, 'dist', 'runner.js'), log, context.extension.packageJSON.version);
  const decorations = new LayerDecorations();
  const applyNoteSettings = () => {
    const s = readSettings();
    decorations.setEnabled(s.decorations, s.showUndecayed);
  };
  applyNoteSettings();
  const lenses = new FindingLenses([...RUNNABLE_LANGUAGES].map((language) => ({ language, scheme: 'file' })));
  const gutter = new FindingGutter(context.extensionUri, lenses);
  const diagnostics = new FindingDiagnostics();
  const panels = new LossGraphPanels(context.extensionUri, runs, new RunArchive(context.storageUri?.fsPath), log);
  const addPenalties = new AddPenaltiesQuickFix(runs);
  const decoupledDecay = new DecoupledDecayQuickFix(runs);

  context.subscriptions.push(
    runs,
    decorations,
    diagnostics,
    lenses,
    gutter,
    panels,
    new RunStatus(runs),
    runs.onDidChange((change) => {
      // The notes and Problems are the script's as written; a comparison's decoupled run is only overlaid in the panel.
      if (change.kind === 'started' || change.run.isComparison) return;
      decorations.update(change.run);
      diagnostics.update(change.run);
      lenses.update(change.run);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lossLens.decorations')) applyNoteSettings();
    }),
  );

  return {
    runs,
    decorations,
    gutter,
    panels,
    addPenalties,
    decoupledDecay,
    visualize: (uri, how) => visualize(runs, panels, uri, how),
    async showInGraph(script, target) {
      // Reached from a hover link: check what it carries like any other message.
      const parsed = selectTarget.safeParse(target);
      if (typeof script === 'string' && parsed.success && runs.get(script)) await panels.showInGraph(script, parsed.data);
    },
    showPanel() {
      const script = runs.latestScript();
      if (script) panels.show(script);
    },
    async stop() {
      const script = runs.latestScript();
      if (script) await runs.stop(script);
    },
    async rerun() {
      const script = runs.latestScript();
      if (!script) return;
      panels.show(script);
      await runs.start(script);
    },
  };
}

async function visualize(runs: RunController, panels: LossGraphPanels, uri: vscode.Uri | undefined, how: 'run' | 'compare'): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('Loss Lens runs your training script, so it only works in a trusted workspace.');
    return;
  }
  const editor = vscode.window.activeTextEditor;
  const document = uri ? await vscode.workspace.openTextDocument(uri) : editor?.document;
  if (!document || document.uri.scheme !== 'file' || !RUNNABLE_LANGUAGES.has(document.languageId)) {
    void vscode.window.showErrorMessage('Loss Lens: open a training script first (TensorFlow.js in JavaScript or TypeScript, or TensorFlow / Keras in Python).');
    return;
  }
  if (document.isDirty) await document.save();
  // The panel opens at once and fills as the run streams in.
  panels.show(document.uri.fsPath);
  if (how === 'compare') await runs.compare(document.uri.fsPath);
  else await runs.start(document.uri.fsPath);
}
