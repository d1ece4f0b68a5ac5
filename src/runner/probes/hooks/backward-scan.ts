// Hand-written right-to-left readers over the user's source text. Regexes anchored with `$` are no substitute:
// V8 tries them from every start position, and an unanchored `[\w$]*` run over a 200 KB hex or base64 line made
// one lookup quadratic (18 s for a 0.3 s script). Each reader here visits each character at most once.

/** Counts the characters the readers visit: the tests use it to show the work grows linearly with the text. */
export interface ScanMeter {
  visited: number;
}

/** The longest type annotation `const x: T =` we read back over; a longer one is not taken for an annotation. */
const MAX_ANNOTATION = 256;

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
/** `[\w$]`: an identifier's characters (ASCII, as the regexes it replaces). */
export const isWordChar = (c: string | undefined) =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c === '_' || c === '$');

export class Backward {
  constructor(
    readonly text: string,
    readonly meter?: ScanMeter,
  ) {}

  private visit(): void {
    if (this.meter) this.meter.visited++;
  }

  /** The index where the whitespace run ending at `end` starts. */
  skipSpace(end: number): number {
    while (end > 0 && isSpace(this.text[end - 1])) {
      this.visit();
      end--;
    }
    return end;
  }

  /** The start of the `[\w$]` run that ends at `end` (end itself when there is none). */
  wordStart(end: number): number {
    while (end > 0 && isWordChar(this.text[end - 1])) {
      this.visit();
      end--;
    }
    return end;
  }

  /** The word ending at `end` (maybe empty). */
  wordBefore(end: number): string {
    return this.text.slice(this.wordStart(end), end);
  }

  /** `([A-Za-z_$][\w$]*)` ending exactly at `end`: the identifier, or null. Leading digits are not part of it. */
  identifierBefore(end: number): { name: string; start: number } | null {
    let start = this.wordStart(end);
    while (start < end && isDigit(this.text[start])) start++;
    return start < end ? { name: this.text.slice(start, end), start } : null;
  }

  /** Is the keyword `word` written right before `end`, not as the tail of a longer identifier? */
  keywordBefore(end: number, word: string): boolean {
    const start = end - word.length;
    if (start < 0 || this.text.slice(start, end) !== word) return false;
    const before = this.text[start - 1];
    return before === undefined || !(isWordChar(before) && before !== '$');
  }

  /**
   * A type annotation `: T` that ends at `end` (T without `=`, `:`, `;`, braces or parentheses, at most
   * MAX_ANNOTATION characters): the index of its colon, or -1.
   */
  annotationColon(end: number): number {
    const stop = Math.max(0, end - MAX_ANNOTATION);
    for (let i = end - 1; i >= stop; i--) {
      this.visit();
      const c = this.text[i];
      if (c === ':') return this.text[i - 1] === ':' ? -1 : i;
      if (c === '=' || c === ';' || c === '{' || c === '}' || c === '(' || c === ')') return -1;
    }
    return -1;
  }

  /** Is there a `?` between `end` and the `:` before it (the `:` at `end` belongs to a ternary)? */
  questionSincePreviousColon(end: number): boolean {
    for (let i = end - 1; i >= 0; i--) {
      this.visit();
      const c = this.text[i];
      if (c === '?') return true;
      if (c === ':') return false;
    }
    return false;
  }
}
