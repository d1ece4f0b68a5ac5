import * as fs from 'node:fs';
import type { NamedSite, SourcePosition } from '../../../shared/protocol/run-data';
import { Backward, isWordChar, type ScanMeter } from './backward-scan';

/**
 * How far back before the call the name is looked for (characters). A binding further away than this in the same
 * statement is not found; the bound keeps a line of any length (an inlined data table) cheap for every call on it.
 */
const MAX_PREFIX = 16_384;

/**
 * The identifier the code at (line, column) assigns its value to: `totalLoss` in
 * `const totalLoss = tf.addN([...])`, `penalties` in `penalties.push(tf.mul(...))`, `l2` in `{ l2: tf.mul(...) }`.
 * `lines` is the file's text split into lines; line and column are 1-based. Reads back over the lines of the
 * same statement. Null when the value is not named there (a `return`, an argument). Linear in the text read
 * (`meter` counts it).
 */
export function bindingAt(lines: readonly string[], line: number, column: number, strict = false, meter?: ScanMeter): string | null {
  const at = lines[line - 1];
  if (at === undefined) return null;
  let prefix = at.slice(Math.max(0, column - 1 - MAX_PREFIX), Math.max(0, column - 1));
  // A call on a continuation line (`.mean()` under `const ce = tf.losses`): join the statement's earlier lines.
  for (let l = line - 2; l >= 0 && l >= line - 6 && prefix.length < MAX_PREFIX; l--) {
    const prev = lines[l].trimEnd();
    if (prev === '' || ';{}'.includes(prev[prev.length - 1]) || prev.trimStart().startsWith('//')) break;
    prefix = `${prev.slice(-MAX_PREFIX)}\n${prefix}`;
  }
  if (prefix.length > MAX_PREFIX) prefix = prefix.slice(-MAX_PREFIX);
  const scan = new Backward(prefix, meter);
  return strict ? referenceOfPrefix(scan) : bindingOfPrefix(scan);
}

/**
 * The strict form, for code we write (a quick fix's `lstm.cell.calculateLosses()`): only a value assigned
 * directly, `const lstm = …` or `this.encoder = …`, gives its reference; an array element, an argument or a
 * property of a literal gives none. Reads, right to left,
 * `(^|[;{}\n]) (export)? (const|let|var)? a.b.c (: T)? = (await)? (new)? [\w$.]*` at the end of the prefix.
 */
function referenceOfPrefix(scan: Backward): string | null {
  const s = scan.text;
  // The callee's chain (`tf.layers.`, `lstm`): V8 places the call at its property.
  let p = s.length;
  while (p > 0 && (isWordChar(s[p - 1]) || s[p - 1] === '.')) p--;
  for (const keyword of ['new', 'await']) {
    const q = scan.skipSpace(p);
    if (q < p && scan.keywordBefore(q, keyword)) p = q - keyword.length;
  }
  p = scan.skipSpace(p);
  if (s[p - 1] !== '=' || (p >= 2 && '=!<>+-*/%&|^?'.includes(s[p - 2]))) return null;
  p--;
  const colon = scan.annotationColon(p);
  if (colon >= 0) p = colon;
  p = scan.skipSpace(p);
  // The assigned member chain, `this.encoder` or `lstm`.
  const chainEnd = p;
  for (;;) {
    const id = scan.identifierBefore(p);
    if (!id || isWordChar(s[id.start - 1])) return null;
    p = id.start;
    if (s[p - 1] !== '.') break;
    p--;
  }
  const chain = s.slice(p, chainEnd);
  let q = scan.skipSpace(p);
  for (const keyword of ['const', 'let', 'var']) {
    if (q < p && scan.keywordBefore(q, keyword)) {
      p = q - keyword.length;
      q = scan.skipSpace(p);
      if (q < p && scan.keywordBefore(q, 'export')) {
        p = q - 'export'.length;
        q = scan.skipSpace(p);
      }
      break;
    }
  }
  const spaced = s.slice(q, p);
  return q === 0 || ';{}'.includes(s[q - 1]) || spaced.includes('\n') ? chain : null;
}

/** Calls whose callback's value is what the call returns (or collects): the name outside still names it. */
const PASS_THROUGH_METHODS = ['map', 'flatMap', 'reduce'];
const COLLECTING_METHODS = ['push', 'unshift'];

/** Scans the text before the call from the right, at bracket depth 0, for what receives its value. */
function bindingOfPrefix(scan: Backward): string | null {
  const prefix = scan.text;
  let depth = 0;
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (scan.meter) scan.meter.visited++;
    const c = prefix[i];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (depth > 0) {
        depth--;
        continue;
      }
      if (c !== '(') continue;
      // An open call: `penalties.push(` names the list, `vars.map(` passes on to what receives the map; in any
      // other call the value is an argument, with no name of its own.
      const end = scan.skipSpace(i);
      const start = scan.wordStart(end);
      const method = prefix.slice(start, end);
      const dot = scan.skipSpace(start);
      const called = prefix[dot - 1] === '.';
      if (called && COLLECTING_METHODS.includes(method)) {
        const list = scan.identifierBefore(scan.skipSpace(dot - 1));
        if (list) return list.name;
      }
      if (called && PASS_THROUGH_METHODS.includes(method)) continue;
      if (method.endsWith('tidy') && scan.keywordBefore(end, 'tidy')) continue;
      return null;
    } else if (depth > 0) continue;
    else if (c === ';') return null;
    else if (c === ':' && prefix[i - 1] !== ':' && prefix[i + 1] !== ':') {
      const key = scan.identifierBefore(scan.skipSpace(i));
      // Not `cond ? a : b`, and not a type annotation (`const x: T = …` is the `=` case).
      if (key && !scan.questionSincePreviousColon(i) && !declaredAt(scan, key.start)) return key.name;
    } else if (c === '=') {
      const prev = prefix[i - 1];
      const next = prefix[i + 1];
      if (next === '=' || next === '>' || prev === '=' || prev === '!' || prev === '<' || prev === '>') continue;
      const leftEnd = '+-*/'.includes(prev) ? i - 1 : i;
      // `const x: tf.Scalar = …`, `this.loss = …`, `x = …`: the last identifier before any type annotation.
      const colon = scan.annotationColon(scan.skipSpace(leftEnd));
      const id = (colon >= 0 ? scan.identifierBefore(scan.skipSpace(colon)) : null) ?? scan.identifierBefore(scan.skipSpace(leftEnd));
      return id && !['return', 'await', 'yield'].includes(id.name) ? id.name : null;
    }
  }
  return null;
}

/** `const x` / `let x` / `var x` ending where the identifier at `start` starts (so `x:` is a type annotation). */
function declaredAt(scan: Backward, start: number): boolean {
  const q = scan.skipSpace(start);
  return q < start && ['const', 'let', 'var'].some((k) => scan.keywordBefore(q, k));
}

/** Reads the user's files once and names the values built at their positions. */
export class SourceNames {
  private readonly files = new Map<string, string[] | null>();

  private linesOf(file: string): string[] | null {
    if (!this.files.has(file)) {
      try {
        this.files.set(file, fs.readFileSync(file, 'utf8').split(/\r?\n/));
      } catch {
        this.files.set(file, null);
      }
    }
    return this.files.get(file) ?? null;
  }

  named(pos: SourcePosition | null | undefined): NamedSite | null {
    if (!pos) return null;
    const lines = this.linesOf(pos.file);
    return { ...pos, name: lines ? bindingAt(lines, pos.line, pos.column) : null };
  }

  /** The reference code can use for the value at `pos` (`lstm`, `this.encoder`), only when it is assigned directly. */
  referenceAt(pos: SourcePosition | null | undefined): string | null {
    if (!pos) return null;
    const lines = this.linesOf(pos.file);
    return lines ? bindingAt(lines, pos.line, pos.column, true) : null;
  }
}
