import type * as vscode from 'vscode';
import type { LineEdit } from '../editor/line-tracker';

/**
 * A document change as the pure line tracker takes it. VS Code lists a batch's changes bottom-up, so each applies
 * to the text as the previous one left it.
 */
export function lineEdits(e: vscode.TextDocumentChangeEvent): LineEdit[] {
  return e.contentChanges.map((c) => ({
    startLine: c.range.start.line,
    startCharacter: c.range.start.character,
    endLine: c.range.end.line,
    endCharacter: c.range.end.character,
    newLineCount: c.text.split('\n').length,
  }));
}
