import * as vscode from 'vscode';
import type { Finding, Severity } from '../../shared/analysis/finding';
import type { RunState } from '../../shared/model/run-state';
import type { Run } from './run-controller';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export const DIAGNOSTIC_SOURCE = 'Loss Lens';

/** A finding as a diagnostic: the rule id is the code, the range runs from the reported column to the line's end. */
export function toDiagnostic(f: Finding, document: vscode.TextDocument | undefined, fallbackLine = 0): vscode.Diagnostic {
  const line = Math.max(0, (f.source?.line ?? fallbackLine + 1) - 1);
  const text = document && line < document.lineCount ? document.lineAt(line).text : '';
  const start = f.source ? Math.max(0, f.source.column - 1) : text.length - text.trimStart().length;
  const end = Math.max(start + 1, text.trimEnd().length);
  const d = new vscode.Diagnostic(new vscode.Range(line, start, line, end), f.message, SEVERITY[f.severity]);
  d.code = f.ruleId;
  d.source = DIAGNOSTIC_SOURCE;
  return d;
}

/**
 * The other layers a finding folded from several lines covers (one cause, one finding), each at the line that
 * created it: Problems shows them under the one diagnostic, each a link.
 */
export function relatedLayers(f: Finding, state: RunState): vscode.DiagnosticRelatedInformation[] {
  const seen = new Set<string>(f.layer ? [f.layer] : []);
  const out: vscode.DiagnosticRelatedInformation[] = [];
  for (const item of f.related) {
    if (!item.layer || seen.has(item.layer)) continue;
    seen.add(item.layer);
    const at = state.layers.find((l) => l.name === item.layer)?.source;
    if (!at || (f.source && at.file === f.source.file && at.line === f.source.line)) continue;
    const position = new vscode.Position(at.line - 1, Math.max(0, at.column - 1));
    out.push(new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(at.file), position), `${item.layer}: the same`));
  }
  return out;
}

/** Findings of each run go to the Problems panel, replacing that script's previous ones. */
export class FindingDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('lossLens');
  /** Files each script's last run put diagnostics on, so a re-run clears exactly those. */
  private readonly owned = new Map<string, Set<string>>();

  update(run: Run): void {
    for (const file of this.owned.get(run.script) ?? []) this.collection.delete(vscode.Uri.file(file));
    const byFile = new Map<string, Finding[]>();
    for (const f of run.findings) {
      const file = f.source?.file ?? run.script;
      byFile.set(file, [...(byFile.get(file) ?? []), f]);
    }
    for (const [file, findings] of byFile) {
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      this.collection.set(
        vscode.Uri.file(file),
        findings.map((f) => {
          const d = toDiagnostic(f, doc);
          const related = relatedLayers(f, run.state);
          if (related.length) d.relatedInformation = related;
          return d;
        }),
      );
    }
    this.owned.set(run.script, new Set(byFile.keys()));
  }

  dispose(): void {
    this.collection.dispose();
  }
}
