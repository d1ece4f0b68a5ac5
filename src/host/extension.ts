/**
 * Composition only: wires the run controller to the editor, the Problems panel and the loss-graph panel.
 * Nothing heavy loads here; the engine is imported when the first run starts.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { selectTarget } from '../shared/protocol/webview-protocol';
import { LayerDecorations, SHOW_IN_GRAPH_COMMAND } from './vscode/decorations';
import { FindingDiagnostics } from './vscode/diagnostics';
import { LossGraphPanels, PANEL_VIEW_TYPE } from './vscode/loss-graph-panel';
import { AddPenaltiesQuickFix, DecoupledDecayQuickFix } from './vscode/quick-fix';
import { RunArchive } from './vscode/run-archive';
import { RunController } from './vscode/run-controller';
import { RunStatus } from './vscode/run-status';
import { readSettings } from './vscode/settings';

const SCRIPT_LANGUAGES = new Set(['typescript', 'javascript', 'typescriptreact', 'javascriptreact']);

/** What activate() returns: the extension's own tests drive and inspect it through this. */
export interface LossLensApi {
  runs: RunController;
  decorations: LayerDecorations;
  panels: LossGraphPanels;
}

let controller: RunController | undefined;

export function activate(context: vscode.ExtensionContext): LossLensApi {
  const log = vscode.window.createOutputChannel('Loss Lens', { log: true });
  const runs = new RunController(path.join(context.extensionPath, 'dist', 'runner.js'), log, context.extension.packageJSON.version);
  controller = runs;
  const decorations = new LayerDecorations();
  decorations.setEnabled(readSettings().decorations);
  const diagnostics = new FindingDiagnostics();
  const panels = new LossGraphPanels(context.extensionUri, runs, new RunArchive(context.storageUri?.fsPath), log);

  context.subscriptions.push(
    log,
    runs,
    decorations,
    diagnostics,
    panels,
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, panels),
    new RunStatus(runs),
    runs.onDidChange((change) => {
      // The notes and Problems are the script's as written; a comparison's decoupled run is only overlaid in the panel.
      if (change.kind === 'started' || change.run.isComparison) return;
      decorations.update(change.run);
      diagnostics.update(change.run);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lossLens.decorations.enabled')) decorations.setEnabled(readSettings().decorations);
    }),
    vscode.languages.registerCodeActionsProvider(
      [...SCRIPT_LANGUAGES].map((language) => ({ language, scheme: 'file' })),
      new AddPenaltiesQuickFix(runs),
      { providedCodeActionKinds: AddPenaltiesQuickFix.kinds },
    ),
    vscode.languages.registerCodeActionsProvider(
      [...SCRIPT_LANGUAGES].map((language) => ({ language, scheme: 'file' })),
      new DecoupledDecayQuickFix(runs),
      { providedCodeActionKinds: DecoupledDecayQuickFix.kinds },
    ),
    vscode.commands.registerCommand('lossLens.visualize', (uri?: vscode.Uri) => visualize(runs, panels, uri)),
    vscode.commands.registerCommand(COMPARE_COMMAND, (uri?: vscode.Uri) => visualize(runs, panels, uri, 'compare')),
    vscode.commands.registerCommand(SHOW_IN_GRAPH_COMMAND, async (script: unknown, target: unknown) => {
      // Reached from a hover link: check what it carries like any other message.
      const parsed = selectTarget.safeParse(target);
      if (typeof script === 'string' && parsed.success && runs.get(script)) await panels.showInGraph(script, parsed.data);
    }),
    vscode.commands.registerCommand('lossLens.openExample', async () => {
      // The walkthrough's first step: an example that ships with the extension, opened in an editor.
      const example = vscode.Uri.joinPath(context.extensionUri, 'examples', 'custom-loop-drops-penalty.ts');
      await vscode.window.showTextDocument(example, { preview: false });
    }),
    vscode.commands.registerCommand('lossLens.showPanel', () => {
      const script = runs.latestScript();
      if (script) panels.show(script);
    }),
    vscode.commands.registerCommand('lossLens.stop', async () => {
      const script = runs.latestScript();
      if (script) await runs.stop(script);
    }),
    vscode.commands.registerCommand('lossLens.rerun', async () => {
      const script = runs.latestScript();
      if (!script) return;
      panels.show(script);
      await runs.start(script);
    }),
  );
  return { runs, decorations, panels };
}

/** Compare with Decoupled Weight Decay: the script as written and its decoupled what-if, overlaid in one panel. */
export const COMPARE_COMMAND = 'lossLens.compareDecoupled';

/** Runs the script in the active editor (or the one given by a menu), after saving it; or compares it with its decoupled what-if. */
async function visualize(runs: RunController, panels: LossGraphPanels, uri?: vscode.Uri, how: 'run' | 'compare' = 'run'): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('Loss Lens runs your training script, so it only works in a trusted workspace.');
    return;
  }
  const editor = vscode.window.activeTextEditor;
  const document = uri
    ? await vscode.workspace.openTextDocument(uri)
    : editor?.document;
  if (!document || document.uri.scheme !== 'file' || !SCRIPT_LANGUAGES.has(document.languageId)) {
    void vscode.window.showErrorMessage('Loss Lens: open a TensorFlow.js training script (JavaScript or TypeScript file) first.');
    return;
  }
  if (document.isDirty) await document.save();
  // The panel opens at once and fills as the run streams in.
  panels.show(document.uri.fsPath);
  if (how === 'compare') await runs.compare(document.uri.fsPath);
  else await runs.start(document.uri.fsPath);
}

export async function deactivate(): Promise<void> {
  await controller?.disposeAndWait();
}
