/** One edit, 0-based: the range (startLine, startCharacter)–(endLine, endCharacter) became text of `newLineCount` lines. */
export interface LineEdit {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  newLineCount: number;
}

/**
 * Where an annotated line is after an edit (0-based). A line lives on while its beginning (where the layer call
 * starts) is not inside the replaced range: edits above or ending at its first column shift it, an edit that
 * starts within it keeps it, and an edit that swallows its beginning removes it (null).
 */
export function moveLine(line: number, edit: LineEdit): number | null {
  const shift = edit.newLineCount - 1 - (edit.endLine - edit.startLine);
  if (line < edit.startLine) return line;
  if (line === edit.startLine) return edit.startCharacter > 0 || edit.endLine === line ? line : null;
  if (line < edit.endLine || (line === edit.endLine && edit.endCharacter > 0)) return null;
  return line + shift;
}

/** Keeps a set of annotated lines in step with a document's edits, applied in order. */
export class LineTracker<T> {
  private entries: Array<{ line: number; value: T }>;

  constructor(entries: Array<{ line: number; value: T }>) {
    this.entries = entries.map((e) => ({ ...e }));
  }

  apply(edits: readonly LineEdit[]): void {
    for (const edit of edits) {
      this.entries = this.entries.flatMap((e) => {
        const line = moveLine(e.line, edit);
        return line === null ? [] : [{ line, value: e.value }];
      });
    }
  }

  current(): ReadonlyArray<{ line: number; value: T }> {
    return this.entries;
  }
}
