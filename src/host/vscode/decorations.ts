import * as vscode from 'vscode';
import { SHOW_IN_GRAPH_COMMAND } from './contributions';
import { layerNotes, type LineNote, type NoteTone, type WeightNote } from '../../shared/analysis/layer-notes';
import { formatFactor, formatNumber, formatPercent, formatShape } from '../../shared/format';
import { LineTracker } from '../editor/line-tracker';
import type { Run } from './run-controller';

const COLOR: Record<NoteTone, string> = {
  reaches: 'lossLens.decoration.reachesForeground',
  missing: 'lossLens.decoration.missingForeground',
  neutral: 'lossLens.decoration.neutralForeground',
  pending: 'lossLens.decoration.neutralForeground',
};


function weightRow(w: WeightNote): string {
  const verdict = w.regularizer === null ? '' : w.reaches === null ? 'pending' : w.reaches ? '✓ reaches' : '⚠ **never reaches**';
  const share = w.share === null ? '—' : formatPercent(w.share, 1);
  const decay = w.decayPerStep === undefined ? '—' : `×${formatFactor(w.decayPerStep)}`;
  const measured = w.effectiveDecay?.median != null ? `${formatNumber(w.effectiveDecay.median, 2)}` : w.effectiveDecay?.unavailable ? 'n/a' : '—';
  const decayText = [w.regularizer, w.decoupled].filter(Boolean).join(', ') || 'none';
  return `| \`${w.shortName}\` | ${formatShape(w.shape)} | ${decayText} | ${verdict} | ${decay} | ${measured} | ${formatNumber(w.norm)} | ${share} |`;
}

/** The hover: every layer on the line, each weight with its regularizer, decay factor, current norm and loss share. */
/** A note as shown: with the script whose run made it, for the hover's command link. */
export type ShownNote = LineNote & { script: string };


const escapeMarkdown = (text: string) => text.replace(/[\\`*_[\]<>()#|!]/g, '\\$&');

export function hoverFor(note: ShownNote): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  // Only our own command may run from the hover; every name in it comes from the user's script.
  md.isTrusted = { enabledCommands: [SHOW_IN_GRAPH_COMMAND] };
  md.appendMarkdown(`**Loss Lens** · ${escapeMarkdown(note.text)}\n\n`);
  for (const l of note.layers) {
    const args = encodeURIComponent(JSON.stringify([note.script, { kind: 'layer', layer: l.name }]));
    md.appendMarkdown(`${escapeMarkdown(l.name)} (${escapeMarkdown(l.className)}) · [Show in Loss Graph](command:${SHOW_IN_GRAPH_COMMAND}?${args})\n\n`);
    md.appendMarkdown('| weight | shape | decay | minimized loss | decay/step (SGD) | shrinks per step (measured) | ‖w‖ | share of loss |\n|---|---|---|---|---|---|---|---|\n');
    md.appendMarkdown(l.weights.map(weightRow).join('\n') + '\n\n');
    // What each decay really does under the optimizer that trains it, in words.
    for (const w of l.weights) if (w.decaySentence) md.appendMarkdown(`**${escapeMarkdown(w.shortName)}**: ${escapeMarkdown(w.decaySentence)}\n\n`);
  }
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

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.paintAll();
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
    return (this.notes.get(file)?.current() ?? []).map((e) => ({ line: e.line, text: e.value.text }));
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    const tracker = this.notes.get(e.document.uri.fsPath);
    if (!tracker || e.contentChanges.length === 0) return;
    // VS Code lists a batch's changes bottom-up, so each applies to the text as the previous left it.
    tracker.apply(
      e.contentChanges.map((c) => ({
        startLine: c.range.start.line,
        startCharacter: c.range.start.character,
        endLine: c.range.end.line,
        endCharacter: c.range.end.character,
        newLineCount: c.text.split('\n').length,
      })),
    );
    this.paintAll();
  }

  private paintAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.paint(editor);
  }

  private paint(editor: vscode.TextEditor): void {
    const entries = this.enabled ? (this.notes.get(editor.document.uri.fsPath)?.current() ?? []) : [];
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
