import * as vscode from 'vscode';
import { lineEdits } from './line-edits';
import { shortText, type Finding } from '../../shared/analysis/finding';
import { LineTracker } from '../editor/line-tracker';
import { SHOW_IN_GRAPH_COMMAND } from './contributions';
import type { Run } from './run-controller';

const ICON = { error: '$(error)', warning: '$(warning)' } as const;

interface LensEntry {
  script: string;
  findings: Finding[];
}

/**
 * Each error and warning as a CodeLens above its line. The inline notes sit after the code, past the longest lines
 * and the minimap at the default split, where no one sees them; a lens is at the left, above the line, always in
 * view. Its lines follow edits like the notes do, until the next run replaces them.
 */
export class FindingLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly lines = new Map<string, LineTracker<LensEntry>>();
  private readonly owned = new Map<string, Set<string>>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(selector: vscode.DocumentSelector) {
    this.disposables.push(
      vscode.languages.registerCodeLensProvider(selector, this),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
    );
  }

  update(run: Run): void {
    const byFile = new Map<string, Map<number, Finding[]>>();
    for (const f of run.findings) {
      if (f.severity === 'info' || !f.source) continue;
      const lines = byFile.get(f.source.file) ?? new Map<number, Finding[]>();
      lines.set(f.source.line - 1, [...(lines.get(f.source.line - 1) ?? []), f]);
      byFile.set(f.source.file, lines);
    }
    for (const file of this.owned.get(run.script) ?? []) this.lines.delete(file);
    for (const [file, lines] of byFile) {
      this.lines.set(file, new LineTracker([...lines].map(([line, findings]) => ({ line, value: { script: run.script, findings } }))));
    }
    this.owned.set(run.script, new Set(byFile.keys()));
    this.changed.fire();
  }

  /** The errors and warnings of a file by 0-based line, where its edits have moved them (the gutter icons read them). */
  findingsAt(file: string): ReadonlyArray<{ line: number; findings: Finding[] }> {
    return (this.lines.get(file)?.current() ?? []).map(({ line, value }) => ({ line, findings: value.findings }));
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const entries = this.lines.get(document.uri.fsPath)?.current() ?? [];
    return entries
      .filter((e) => e.line < document.lineCount)
      .flatMap(({ line, value }) =>
        value.findings.map((f) => {
          const range = new vscode.Range(line, 0, line, 0);
          const title = `${ICON[f.severity as 'error' | 'warning']} Loss Lens: ${shortText(f)}`;
          // A lens opens the finding's layer in the graph; one about no layer opens the panel.
          const command: vscode.Command = f.layer
            ? { title, command: SHOW_IN_GRAPH_COMMAND, arguments: [value.script, { kind: 'layer', layer: f.layer }], tooltip: f.message }
            : { title, command: 'lossLens.showPanel', tooltip: f.message };
          return new vscode.CodeLens(range, command);
        }),
      );
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    const tracker = this.lines.get(e.document.uri.fsPath);
    if (!tracker || e.contentChanges.length === 0) return;
    tracker.apply(lineEdits(e));
    this.changed.fire();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
