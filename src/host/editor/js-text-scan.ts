/**
 * A small JavaScript/TypeScript text scanner for the editor's quick fixes: brackets matched past strings, template
 * literals and comments, where an expression ends, and the names a file gives tfjs and the model. Not a parser: it
 * reads the shapes training scripts have, and a fix that finds no recognizable shape offers nothing.
 */
import { TFJS_PACKAGE_PATTERN } from '../../engine/tfjs-packages';

/** Each opening bracket → the one that closes it. */
export const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Index just past a string, template or comment starting at i, or i when there is none. */
export function skipNonCode(text: string, i: number): number {
  const c = text[i];
  if (c === '/' && text[i + 1] === '/') {
    const nl = text.indexOf('\n', i);
    return nl < 0 ? text.length : nl;
  }
  if (c === '/' && text[i + 1] === '*') {
    const end = text.indexOf('*/', i + 2);
    return end < 0 ? text.length : end + 2;
  }
  if (c === '"' || c === "'") {
    let j = i + 1;
    while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  }
  if (c === '`') {
    let j = i + 1;
    while (j < text.length && text[j] !== '`') {
      if (text[j] === '\\') j += 2;
      else if (text[j] === '$' && text[j + 1] === '{') j = matchClose(text, j + 1) + 1;
      else j++;
    }
    return j + 1;
  }
  return i;
}

/** Index of the bracket closing the one at `open`. */
export function matchClose(text: string, open: number): number {
  const stack: string[] = [OPEN[text[open]]];
  let i = open + 1;
  while (i < text.length && stack.length) {
    const skipped = skipNonCode(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    const c = text[i];
    if (OPEN[c]) stack.push(OPEN[c]);
    else if (c === stack[stack.length - 1]) stack.pop();
    i++;
  }
  return i - 1;
}

/** End of an expression starting at i: the first `,` `;` or unmatched closer at depth 0. */
export function expressionEnd(text: string, i: number, stops: string): number {
  while (i < text.length) {
    const skipped = skipNonCode(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    const c = text[i];
    if (OPEN[c]) i = matchClose(text, i) + 1;
    else if (stops.includes(c) || c === ')' || c === ']' || c === '}') return i;
    else i++;
  }
  return i;
}

/** [start, end) without the whitespace at either end. */
export function trimRange(text: string, start: number, end: number): [number, number] {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return [start, end];
}

/** The top-level arguments of the call whose `(` is at `open`: [start, end) of each, trimmed. */
export function callArguments(text: string, open: number): Array<[number, number]> {
  const close = matchClose(text, open);
  const out: Array<[number, number]> = [];
  let i = open + 1;
  while (i < close) {
    const end = Math.min(expressionEnd(text, i, ','), close);
    const [s, e] = trimRange(text, i, end);
    if (e > s) out.push([s, e]);
    i = end + 1;
  }
  return out;
}

/** Offset of a 1-based line and column in a text. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  return offset + column - 1;
}

// `import * as tf from '@tensorflow/tfjs…'`, or `const tf = require('@tensorflow/tfjs…')`.
const NAMESPACE_IMPORT = new RegExp(String.raw`import\s+\*\s+as\s+([\w$]+)\s+from\s+['"]${TFJS_PACKAGE_PATTERN}['"]`);
const NAMESPACE_REQUIRE = new RegExp(String.raw`(?:const|let|var)\s+([\w$]+)\s*=\s*require\(\s*['"]${TFJS_PACKAGE_PATTERN}['"]\s*\)`);

/** The name the file binds tfjs to (`tf` when it binds none). */
export function namespaceOf(text: string): string {
  const m = NAMESPACE_IMPORT.exec(text) ?? NAMESPACE_REQUIRE.exec(text);
  return m?.[1] ?? 'tf';
}

// A receiver pattern `([\w$]+)\.name(` starts with `(?<![\w$])`: without it the engine would retry the word from
// each of its characters, quadratic in its length (a 200 KB hex table inlined as one word took seconds).
export function modelOf(callback: string, text: string): string {
  const used = /(?<![\w$])([\w$]+)\.(?:apply|predict|call|execute)\s*\(/.exec(callback);
  if (used && used[1] !== 'tf') return used[1];
  const declared = /(?:const|let|var)\s+([\w$]+)\s*=\s*[\w$]+\.(?:sequential|model)\s*\(/.exec(text);
  return declared?.[1] ?? 'model';
}
