import * as fs from 'node:fs';
import type { NamedSite, SourcePosition } from '../../shared/protocol/run-data';

/**
 * The identifier the code at (line, column) assigns its value to: `totalLoss` in
 * `const totalLoss = tf.addN([...])`, `penalties` in `penalties.push(tf.mul(...))`, `l2` in `{ l2: tf.mul(...) }`.
 * `lines` is the file's text split into lines; line and column are 1-based. Reads back over the lines of the
 * same statement. Null when the value is not named there (a `return`, an argument).
 */
export function bindingAt(lines: readonly string[], line: number, column: number, strict = false): string | null {
  const at = lines[line - 1];
  if (at === undefined) return null;
  let prefix = at.slice(0, Math.max(0, column - 1));
  // A call on a continuation line (`.mean()` under `const ce = tf.losses`): join the statement's earlier lines.
  for (let l = line - 2; l >= 0 && l >= line - 6; l--) {
    const prev = lines[l].trimEnd();
    if (prev === '' || /[;{}]$/.test(prev) || /^\s*\/\//.test(prev)) break;
    prefix = `${prev}\n${prefix}`;
  }
  return strict ? referenceOfPrefix(prefix) : bindingOfPrefix(prefix);
}

/**
 * The strict form, for code we write (a quick fix's `lstm.cell.calculateLosses()`): only a value assigned
 * directly, `const lstm = …` or `this.encoder = …`, gives its reference; an array element, an argument or a
 * property of a literal gives none.
 */
function referenceOfPrefix(prefix: string): string | null {
  const m = /(?:^|[;{}\n])\s*(?:(?:export\s+)?(?:const|let|var)\s+)?((?:this\.)?[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*(?::[^=;]+)?=\s*(?:await\s+)?(?:new\s+)?[\w$.]*$/.exec(prefix);
  return m ? m[1] : null;
}

/** Calls whose callback's value is what the call returns (or collects): the name outside still names it. */
const PASS_THROUGH_CALLS = /(?:\.\s*(?:map|flatMap|reduce)|\btidy)\s*$/;
const COLLECTING_CALLS = /([A-Za-z_$][\w$]*)\s*\.\s*(?:push|unshift)\s*$/;

/** Scans the text before the call from the right, at bracket depth 0, for what receives its value. */
function bindingOfPrefix(prefix: string): string | null {
  let depth = 0;
  for (let i = prefix.length - 1; i >= 0; i--) {
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
      const before = prefix.slice(0, i);
      const push = COLLECTING_CALLS.exec(before);
      if (push) return push[1];
      if (PASS_THROUGH_CALLS.test(before)) continue;
      return null;
    } else if (depth > 0) continue;
    else if (c === ';') return null;
    else if (c === ':' && prefix[i - 1] !== ':' && prefix[i + 1] !== ':') {
      const left = prefix.slice(0, i);
      const key = /([A-Za-z_$][\w$]*)\s*$/.exec(left);
      // Not `cond ? a : b`, and not a type annotation (`const x: T = …` is the `=` case).
      if (key && !/\?[^:]*$/.test(left) && !/\b(?:const|let|var)\s+[\w$]+\s*$/.test(left)) return key[1];
    } else if (c === '=') {
      const prev = prefix[i - 1];
      const next = prefix[i + 1];
      if (next === '=' || next === '>' || prev === '=' || prev === '!' || prev === '<' || prev === '>') continue;
      const left = prefix.slice(0, '+-*/'.includes(prev) ? i - 1 : i);
      // `const x: tf.Scalar = …`, `this.loss = …`, `x = …`: the last identifier before any type annotation.
      const m = /([A-Za-z_$][\w$]*)\s*(?::\s*[^=:]+)?\s*$/.exec(left);
      return m && !['return', 'await', 'yield'].includes(m[1]) ? m[1] : null;
    }
  }
  return null;
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
