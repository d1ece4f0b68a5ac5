import * as vscode from 'vscode';
import { lineEdits } from './line-edits';
import { SHOW_IN_GRAPH_COMMAND } from './contributions';
import { shortText } from '../../shared/analysis/finding';
import { layerNotes, type LineNote, type NoteTone } from '../../shared/analysis/layer-notes';
import { hoverMarkdown } from '../editor/layer-hover';
import { LineTracker } from '../editor/line-tracker';
import type { FindingLenses } from './finding-lenses';
import type { Run } from './run-controller';

const COLOR: Record<NoteTone, string> = {
  reaches: 'lossLens.decoration.reachesForeground',
  missing: 'lossLens.decoration.missingForeground',
  neutral: 'lossLens.decoration.neutralForeground',
  pending: 'lossLens.decoration.neutralForeground',
};


/** A note as shown: with the script whose run made it, for the hover's command link. */
export type ShownNote = LineNote & { script: string };

/** The hover: the weights' table first, then the note, each layer's graph link and what its decay does. */
export function hoverFor(note: ShownNote): vscode.MarkdownString {
  // Only our own command may run from the hover; every name in it comes from the user's script.
  const md = new vscode.MarkdownString(undefined, true);
  md.isTrusted = { enabledCommands: [SHOW_IN_GRAPH_COMMAND] };
  md.appendMarkdown(
    hoverMarkdown(note, (layer) => `command:${SHOW_IN_GRAPH_COMMAND}?${encodeURIComponent(JSON.stringify([note.script, { kind: 'layer', layer }]))}`),
  );
  return md;
}

/**
 * After-text notes on each line that created a layer. Rebuilt from the run's state (never patched), and moved
 * or cleared as the user edits, until the next run replaces them.
 */
export class LayerDecorations implements vscode.Disposable {
  private readonly types = new Map<NoteTone, vscode.TextEditorDecorationType>();
  private readonly notes = new Map<string, LineTracker<ShownNote>>();
  private readonly owned = new Map<string, Set<string>>();
  private readonly disposables: vscode.Disposable[] = [];
  private enabled = true;
  private showQuiet = false;

  constructor() {
    for (const tone of Object.keys(COLOR) as NoteTone[]) {
      this.types.set(
        tone,
        vscode.window.createTextEditorDecorationType({
          after: { margin: '0 0 0 2em', color: new vscode.ThemeColor(COLOR[tone]), fontStyle: tone === 'pending' ? 'italic' : 'normal' },
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        }),
      );
    }
    this.disposables.push(
      vscode.window.onDidChangeVisibleTextEditors(() => this.paintAll()),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
    );
  }

  setEnabled(enabled: boolean, showQuiet: boolean): void {
    this.enabled = enabled;
    this.showQuiet = showQuiet;
    this.paintAll();
  }

  private shown(file: string): ReadonlyArray<{ line: number; value: ShownNote }> {
    if (!this.enabled) return [];
    return (this.notes.get(file)?.current() ?? []).filter((e) => this.showQuiet || !e.value.quiet);
  }

  update(run: Run): void {
    const byFile = new Map<string, Array<{ line: number; value: ShownNote }>>();
    for (const note of layerNotes(run.state)) {
      byFile.set(note.file, [...(byFile.get(note.file) ?? []), { line: note.line - 1, value: { ...note, script: run.script } }]);
    }
    // A new run of a script replaces every note its previous run left, in whatever file.
    for (const file of this.owned.get(run.script) ?? []) this.notes.delete(file);
    for (const [file, entries] of byFile) this.notes.set(file, new LineTracker(entries));
    this.owned.set(run.script, new Set(byFile.keys()));
    this.paintAll();
  }

  /** The note texts currently shown for a file, by 0-based line (what tests read). */
  notesFor(file: string): Array<{ line: number; text: string }> {
    return this.shown(file).map((e) => ({ line: e.line, text: e.value.text }));
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    const tracker = this.notes.get(e.document.uri.fsPath);
    if (!tracker || e.contentChanges.length === 0) return;
    tracker.apply(lineEdits(e));
    this.paintAll();
  }

  private paintAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.paint(editor);
  }

  private paint(editor: vscode.TextEditor): void {
    const entries = this.shown(editor.document.uri.fsPath);
    const byTone = new Map<NoteTone, vscode.DecorationOptions[]>();
    for (const { line, value } of entries) {
      if (line >= editor.document.lineCount) continue;
      const end = editor.document.lineAt(line).range.end;
      const list = byTone.get(value.tone) ?? [];
      list.push({ range: new vscode.Range(end, end), hoverMessage: hoverFor(value), renderOptions: { after: { contentText: value.text } } });
      byTone.set(value.tone, list);
    }
    for (const [tone, type] of this.types) editor.setDecorations(type, byTone.get(tone) ?? []);
  }

  dispose(): void {
    for (const t of this.types.values()) t.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

type GutterSeverity = 'error' | 'warning';

/** What a line's gutter shows: the worst severity among its findings, and their short texts as the hover. */
export interface GutterIcon {
  line: number;
  severity: GutterSeverity;
  hover: string;
}

/**
 * Each error and warning as an icon in the gutter of its line, beside the CodeLens above it (issue 21): at the
 * left edge, seen without scrolling whatever the split, with the finding's short text on hover. One icon per line,
 * of the worst severity there; light and dark variants, so it reads in either theme. It follows the lenses, which
 * already track the findings' lines through edits.
 */
export class FindingGutter implements vscode.Disposable {
  private readonly types: Record<GutterSeverity, vscode.TextEditorDecorationType>;
  private readonly painted = new Map<string, GutterIcon[]>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    extensionUri: vscode.Uri,
    private readonly lenses: FindingLenses,
  ) {
    const icon = (severity: GutterSeverity, theme: 'light' | 'dark') => vscode.Uri.joinPath(extensionUri, 'media', `finding-${severity}-${theme}.svg`);
    const type = (severity: GutterSeverity) =>
      vscode.window.createTextEditorDecorationType({
        light: { gutterIconPath: icon(severity, 'light') },
        dark: { gutterIconPath: icon(severity, 'dark') },
        gutterIconSize: 'contain',
      });
    this.types = { error: type('error'), warning: type('warning') };
    this.disposables.push(
      lenses.onDidChangeCodeLenses(() => this.paintAll()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.paintAll()),
    );
  }

  /** The icons last painted in a visible editor of this file (what tests read). */
  iconsFor(file: string): GutterIcon[] {
    return this.painted.get(file) ?? [];
  }

  private paintAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.paint(editor);
  }

  private paint(editor: vscode.TextEditor): void {
    const file = editor.document.uri.fsPath;
    const icons: GutterIcon[] = [];
    for (const { line, findings } of this.lenses.findingsAt(file)) {
      if (line >= editor.document.lineCount || findings.length === 0) continue;
      const severity: GutterSeverity = findings.some((f) => f.severity === 'error') ? 'error' : 'warning';
      icons.push({ line, severity, hover: findings.map((f) => `Loss Lens: ${shortText(f)}`).join('\n\n') });
    }
    for (const severity of ['error', 'warning'] as const) {
      editor.setDecorations(
        this.types[severity],
        icons.filter((i) => i.severity === severity).map((i) => ({ range: new vscode.Range(i.line, 0, i.line, 0), hoverMessage: i.hover })),
      );
    }
    this.painted.set(file, icons);
  }

  dispose(): void {
    for (const t of Object.values(this.types)) t.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
