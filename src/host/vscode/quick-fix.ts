import * as vscode from 'vscode';
import type { Finding } from '../../shared/analysis/finding';
import { decoupledDecayFix, decoupledPlan } from '../editor/decoupled-fix';
import type { RunState } from '../../shared/model/run-state';
import { compileLossFix, minimizeFix, MODEL_PENALTIES } from '../editor/minimize-fix';
import { pythonPenaltyFix } from '../editor/python-fix';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import type { RunController } from './run-controller';

/**
 * For `regularizer-not-in-loss`: add the penalties the finding names to the loss where it is built (in a Python run,
 * python-fix.ts: a Keras tape loop's loss line, or the never-minimized sum put in the minimize / tape.gradient call), in a
 * recognizable `optimizer.minimize(() => …)` loop (the model's penalties, or an RNN cell's), or for model.fit in
 * `compile({ loss })` (an RNN cell's, which fit never adds). The call's position comes from the run (where the step
 * was taken), not from guessing, so the fix also works when the layers live in a helper file and the loop in the script.
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
      const finding = run.findings.find(
        (f: Finding) =>
          f.ruleId === 'regularizer-not-in-loss' &&
          f.source?.file === document.uri.fsPath &&
          diagnostics.some((d) => d.range.start.line === (f.source?.line ?? 0) - 1 && d.message === f.message),
      );
      if (run.state.framework === 'tensorflow') {
        const action = finding ? await pythonAction(run.state, finding) : null;
        if (!action) continue;
        action.diagnostics = diagnostics;
        return [action];
      }
      const penalties = finding?.addToLoss ?? MODEL_PENALTIES;
      for (const graph of Object.values(run.state.graphs)) {
        const at = graph.source;
        if (!at) continue;
        const target = await vscode.workspace.openTextDocument(vscode.Uri.file(at.file));
        const offset = target.offsetAt(new vscode.Position(at.line - 1, at.column - 1));
        const typescript = /\.(ts|tsx|mts|cts)$/.test(target.fileName);
        // model.fit builds its loss from compile(): only an RNN cell's penalties are missing there.
        const fix = minimizeFix(target.getText(), offset, typescript, penalties) ?? (penalties !== MODEL_PENALTIES ? compileLossFix(target.getText(), offset, typescript, penalties) : null);
        if (!fix) continue;
        const action = new vscode.CodeAction(`Add ${fix.penalties} to the minimized loss`, vscode.CodeActionKind.QuickFix);
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

/** A Python run's fix (python-fix.ts decides; this only reads the files as the editor has them and wraps the edit). */
async function pythonAction(state: RunState, finding: Finding): Promise<vscode.CodeAction | null> {
  const textOf = async (file: string) => (await vscode.workspace.openTextDocument(vscode.Uri.file(file))).getText();
  const plan = await pythonPenaltyFix(Object.values(state.graphs), finding, textOf);
  if (!plan) return null;
  const target = await vscode.workspace.openTextDocument(vscode.Uri.file(plan.file));
  const action = new vscode.CodeAction(plan.title, vscode.CodeActionKind.QuickFix);
  action.edit = new vscode.WorkspaceEdit();
  action.edit.replace(target.uri, new vscode.Range(target.positionAt(plan.fix.start), target.positionAt(plan.fix.end)), plan.fix.newText);
  action.isPreferred = true;
  return action;
}

/**
 * For `l2-with-adaptive-optimizer`: "Use decoupled weight decay". Takes the layer's L2 regularizer out of its config
 * and writes a small helper (plain tfjs) that shrinks the same weights by lr·2·l2 after each step, called after
 * optimizer.minimize / applyGradients or from model.fit's onBatchEnd (decoupled-fix.ts does the text work).
 */
export class DecoupledDecayQuickFix implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly runs: RunController) {}

  async provideCodeActions(document: vscode.TextDocument, range: vscode.Range, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const ours = (d: vscode.Diagnostic) => d.source === DIAGNOSTIC_SOURCE && d.code === 'l2-with-adaptive-optimizer';
    const diagnostics = context.diagnostics.some(ours)
      ? context.diagnostics.filter(ours)
      : vscode.languages.getDiagnostics(document.uri).filter((d) => ours(d) && d.range.intersection(range) !== undefined);
    if (diagnostics.length === 0) return [];
    const actions: vscode.CodeAction[] = [];
    for (const run of this.runs.all()) {
      if (!run.files.has(document.uri.fsPath)) continue;
      for (const f of run.findings) {
        const d = diagnostics.find((x) => f.ruleId === 'l2-with-adaptive-optimizer' && f.source?.file === document.uri.fsPath && x.range.start.line === (f.source?.line ?? 0) - 1 && x.message === f.message);
        if (!d) continue;
        const plan = decoupledPlan(run.state, f);
        if (!plan) continue;
        const training = plan.trainingFile === document.uri.fsPath ? document : await vscode.workspace.openTextDocument(vscode.Uri.file(plan.trainingFile));
        const typescript = /\.(ts|tsx|mts|cts)$/.test(training.fileName);
        const fix = decoupledDecayFix(plan, { file: document.uri.fsPath, text: document.getText() }, { file: training.uri.fsPath, text: training.getText() }, typescript);
        if (!fix) continue;
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        for (const e of fix.edits) {
          const doc = e.file === document.uri.fsPath ? document : training;
          action.edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.newText);
        }
        action.diagnostics = [d];
        actions.push(action);
      }
    }
    return actions;
  }
}
