/**
 * Activation only registers the entry points: commands, the panel serializer and the code-action providers. The
 * host itself (host-core.ts, built as dist/host.js) is required when one of them is first used, and the engine
 * (dist/engine.js) with the first run, so activating costs a few kilobytes instead of every schema and view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FindingGutter, LayerDecorations } from './vscode/decorations';
import type * as HostModule from './vscode/host-core';
import type { HostCore } from './vscode/host-core';
import type { LossGraphPanels } from './vscode/loss-graph-panel';
import type { RunController } from './vscode/run-controller';
import { COMPARE_COMMAND, PANEL_VIEW_TYPE, PENALTY_FIX_LANGUAGES, SCRIPT_LANGUAGES, SHOW_IN_GRAPH_COMMAND, VISUALIZE_COMMAND } from './vscode/contributions';

/** What activate() returns: the extension's own tests drive and inspect it through this (reading it loads the host). */
export interface LossLensApi {
  readonly runs: RunController;
  readonly decorations: LayerDecorations;
  readonly gutter: FindingGutter;
  readonly panels: LossGraphPanels;
}

let core: HostCore | undefined;

export function activate(context: vscode.ExtensionContext): LossLensApi {
  const log = vscode.window.createOutputChannel('Loss Lens', { log: true });
  context.subscriptions.push(log);
  const host = (): HostCore => {
    // A plain require of a computed path: esbuild leaves it alone, so the host stays out of extension.js.
    core ??= (require(path.join(context.extensionPath, 'dist', 'host.js')) as typeof HostModule).createHost(context, log);
    return core;
  };
  const scripts = [...SCRIPT_LANGUAGES].map((language) => ({ language, scheme: 'file' }));
  const penaltyFixScripts = [...PENALTY_FIX_LANGUAGES].map((language) => ({ language, scheme: 'file' }));
  const quickFix = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state) => host().panels.deserializeWebviewPanel(panel, state),
    }),
    // Until the host is loaded there has been no run, so there are no findings to fix.
    vscode.languages.registerCodeActionsProvider(
      penaltyFixScripts,
      { provideCodeActions: (document, range, actions) => (core ? core.addPenalties.provideCodeActions(document, range, actions) : []) },
      quickFix,
    ),
    vscode.languages.registerCodeActionsProvider(
      scripts,
      { provideCodeActions: (document, range, actions) => (core ? core.decoupledDecay.provideCodeActions(document, range, actions) : []) },
      quickFix,
    ),
    vscode.commands.registerCommand(VISUALIZE_COMMAND, (uri?: vscode.Uri) => host().visualize(uri, 'run')),
    vscode.commands.registerCommand(COMPARE_COMMAND, (uri?: vscode.Uri) => host().visualize(uri, 'compare')),
    vscode.commands.registerCommand(SHOW_IN_GRAPH_COMMAND, (script: unknown, target: unknown) => host().showInGraph(script, target)),
    vscode.commands.registerCommand('lossLens.openExample', async () => {
      // The walkthrough's first step: an example that ships with the extension, opened in an editor.
      const example = vscode.Uri.joinPath(context.extensionUri, 'examples', 'custom-loop-drops-penalty.ts');
      await vscode.window.showTextDocument(example, { preview: false });
    }),
    vscode.commands.registerCommand('lossLens.showPanel', () => core?.showPanel()),
    vscode.commands.registerCommand('lossLens.stop', () => core?.stop()),
    vscode.commands.registerCommand('lossLens.rerun', () => core?.rerun()),
  );
  return {
    get runs() {
      return host().runs;
    },
    get decorations() {
      return host().decorations;
    },
    get gutter() {
      return host().gutter;
    },
    get panels() {
      return host().panels;
    },
  };
}

export async function deactivate(): Promise<void> {
  await core?.runs.disposeAndWait();
}
