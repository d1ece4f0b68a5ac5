import * as vscode from 'vscode';
import { minimizeFix } from '../editor/minimize-fix';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import type { RunController } from './run-controller';

/**
 * For `regularizer-not-in-loss` in a recognizable `optimizer.minimize(() => …)` loop: add the model's penalties
 * to the returned loss. The call's position comes from the run (where the step was taken), not from guessing,
 * so the fix also works when the layers live in a helper file and the loop in the script.
 */
export class AddPenaltiesQuickFix implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly runs: RunController) {}

  async provideCodeActions(
    document: vscode.TextDocument,
    range: vscode.Range,
    context: vscode.CodeActionContext,
  ): Promise<vscode.CodeAction[]> {
    // The lightbulb passes the diagnostics under the cursor; other callers may not, so ask the collection too.
    const ours = (d: vscode.Diagnostic) => d.source === DIAGNOSTIC_SOURCE && d.code === 'regularizer-not-in-loss';
    const diagnostics = context.diagnostics.some(ours)
      ? context.diagnostics.filter(ours)
      : vscode.languages.getDiagnostics(document.uri).filter((d) => ours(d) && d.range.intersection(range) !== undefined);
    if (diagnostics.length === 0) return [];
    for (const run of this.runs.all()) {
      if (!run.files.has(document.uri.fsPath)) continue;
      for (const graph of Object.values(run.state.graphs)) {
        const at = graph.source;
        if (!at) continue;
        const target = await vscode.workspace.openTextDocument(vscode.Uri.file(at.file));
        const offset = target.offsetAt(new vscode.Position(at.line - 1, at.column - 1));
        const fix = minimizeFix(target.getText(), offset, /\.(ts|tsx|mts|cts)$/.test(target.fileName));
        if (!fix) continue;
        const action = new vscode.CodeAction(`Add ${fix.model}.calculateLosses() to the minimized loss`, vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(target.uri, new vscode.Range(target.positionAt(fix.start), target.positionAt(fix.end)), fix.newText);
        action.diagnostics = diagnostics;
        action.isPreferred = true;
        return [action];
      }
    }
    return [];
  }
}
