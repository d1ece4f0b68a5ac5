/**
 * The quick fixes for `regularizer-not-in-loss` in Python scripts (Keras / TensorFlow). Pure text work (no vscode),
 * so it is tested in Node on the real examples. Each fix is offered only where the pattern is recognized for
 * certain: a one-line assignment, a `with tf.GradientTape() as tape:` block, a `tape.gradient` / `minimize` call
 * whose first argument is exactly the name the run says was minimized. Anything else gets no fix.
 */
import type { Finding } from '../../shared/analysis/finding';
import { PYTHON_MODEL_PENALTIES } from '../../shared/analysis/rules/regularizer-not-in-loss';
import type { LossGraph } from '../../shared/protocol/run-data';
import type { TextFix } from './minimize-fix';

/** A line of the script: its text and where it starts in the whole text. */
interface Line {
  text: string;
  start: number;
}

function linesOf(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  for (const raw of text.split('\n')) {
    out.push({ text: raw.replace(/\r$/, ''), start });
    start += raw.length + 1;
  }
  return out;
}

const indentOf = (s: string) => /^[ \t]*/.exec(s)![0].length;
const isBlank = (s: string) => /^\s*(#.*)?$/.test(s);

/**
 * Where the code of a line ends (a `#` comment outside strings starts), or -1 when the line cannot be read for
 * certain: a string left open (a triple-quoted one runs on), brackets left open, or a `\` continuation.
 */
function codeEnd(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '#') return depth === 0 ? trimEnd(s, i) : -1;
    if (c === '"' || c === "'") {
      if (s.startsWith(c.repeat(3), i)) return -1;
      const close = stringEnd(s, i);
      if (close < 0) return -1;
      i = close;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c) && --depth < 0) return -1;
  }
  const end = trimEnd(s, s.length);
  return depth === 0 && !s.slice(0, end).endsWith('\\') ? end : -1;
}

function trimEnd(s: string, end: number): number {
  while (end > 0 && /\s/.test(s[end - 1])) end--;
  return end;
}

/** The index of the quote that closes the string opened at `open`, or -1. */
function stringEnd(s: string, open: number): number {
  for (let i = open + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === s[open]) return i;
  }
  return -1;
}

/** The code of `s` with every string literal blanked, for keyword and comma checks that must not look inside strings. */
function withoutStrings(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"' || s[i] === "'") {
      const close = stringEnd(s, i);
      out += '""';
      i = close < 0 ? s.length : close;
    } else out += s[i];
  }
  return out;
}

/** True when `expr + x` would not add x to all of expr: a top-level comma (a tuple), a conditional, a lambda, a boolean. */
function lowPrecedence(expr: string): boolean {
  const code = withoutStrings(expr);
  if (/\b(lambda|if|else|or|and|not|await|yield)\b/.test(code)) return true;
  let depth = 0;
  for (const c of code) {
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) return true;
  }
  return false;
}

/** `name = expr` on one line, with the expression's offsets in the whole text. */
function assignment(line: Line, name: string | null): { name: string; start: number; end: number; expr: string } | null {
  const end = codeEnd(line.text);
  if (end < 0) return null;
  const m = /^([ \t]*)([A-Za-z_]\w*)[ \t]*=(?!=)[ \t]*/.exec(line.text);
  if (!m || (name !== null && m[2] !== name) || m[0].length >= end) return null;
  return { name: m[2], start: line.start + m[0].length, end: line.start + end, expr: line.text.slice(m[0].length, end) };
}

/** The name the script binds TensorFlow to (`import tensorflow as tf`), or null when it imports it otherwise. */
function tensorflowName(text: string): string | null {
  const m = /^import[ \t]+tensorflow(?:[ \t]+as[ \t]+([A-Za-z_]\w*))?[ \t]*(?:#.*)?$/m.exec(text);
  return m ? (m[1] ?? 'tensorflow') : null;
}

/** The `with <tf>.GradientTape(…) as <tape>:` line that opens the block holding line `at` (0-based), and the tape's name. */
function enclosingTape(lines: Line[], at: number, tf: string): { line: number; tape: string } | null {
  const indent = indentOf(lines[at].text);
  for (let i = at - 1; i >= 0; i--) {
    const s = lines[i].text;
    if (isBlank(s)) continue;
    if (indentOf(s) >= indent) continue;
    const tapeCall = new RegExp(`^[ \\t]*with[ \\t]+${tf.replace('.', '\\.')}\\.GradientTape\\([^()]*\\)[ \\t]+as[ \\t]+([A-Za-z_]\\w*)[ \\t]*:[ \\t]*(#.*)?$`);
    const m = tapeCall.exec(s);
    return m ? { line: i, tape: m[1] } : null;
  }
  return null;
}

/**
 * The `<tape>.gradient(<name>, <model>.trainable_variables)` call after a tape block (0-based `from`), in the code
 * the block belongs to: every line until it is indented at least as far as the `with`. Its first argument's offsets
 * and the model (`self` in a train_step).
 */
function gradientCall(lines: Line[], withLine: number, tape: string, name: string): { start: number; end: number; model: string | null } | null {
  const base = indentOf(lines[withLine].text);
  const call = new RegExp(`\\b${tape}\\.gradient\\([ \\t]*([A-Za-z_]\\w*)[ \\t]*,[ \\t]*([A-Za-z_][\\w.]*?)(?:\\.trainable_(?:variables|weights))?[ \\t]*[,)]`);
  for (let i = withLine + 1; i < lines.length; i++) {
    const s = lines[i].text;
    if (isBlank(s)) continue;
    if (indentOf(s) < base) return null;
    if (indentOf(s) > base) continue;
    const m = call.exec(s);
    if (!m) continue;
    if (m[1] !== name) return null;
    const trainable = /\.trainable_(variables|weights)/.test(m[0]);
    const start = lines[i].start + m.index + m[0].indexOf(m[1], m[0].indexOf('('));
    return { start, end: start + m[1].length, model: trainable ? m[2] : null };
  }
  return null;
}

/**
 * A Keras GradientTape loop (or train_step) whose penalties were never read: `loss = loss_fn(y, pred)` at
 * `minimizedLine` (1-based, the line the run says built the differentiated loss) becomes
 * `loss = loss_fn(y, pred) + tf.add_n(model.losses)`, with the model whose trainable variables the tape
 * differentiates with respect to. Null unless the line is a one-line assignment of `name` inside a
 * `with tf.GradientTape() as tape:` block and that tape's gradient is taken of it with respect to `<model>.trainable_variables`.
 */
export function tapeLossFix(text: string, minimizedLine: number, name: string | null): TextFix | null {
  const tf = tensorflowName(text);
  const lines = linesOf(text);
  const at = minimizedLine - 1;
  if (tf === null || at < 0 || at >= lines.length) return null;
  const assigned = assignment(lines[at], name);
  if (!assigned || lowPrecedence(assigned.expr) || /\.losses\b/.test(withoutStrings(assigned.expr))) return null;
  const tape = enclosingTape(lines, at, tf);
  if (!tape) return null;
  const grad = gradientCall(lines, tape.line, tape.tape, assigned.name);
  if (!grad || grad.model === null) return null;
  const penalties = `${tf}.add_n(${grad.model}.losses)`;
  return { start: assigned.start, end: assigned.end, newText: `${assigned.expr} + ${penalties}`, model: grad.model, penalties };
}

/**
 * A sum of the penalties built and never minimized (seed 000's `total_loss = get_total_loss()`, a tape loop's
 * `total = loss + tf.add_n(model.losses)`): the call that takes the minimized `name` (a TF1 `minimize` /
 * `compute_gradients` at `callLine`, or the `tape.gradient` after the tape block holding the sum) takes `sum` instead.
 * Null unless `sum` is assigned at `sumLine` before the call, in the same block, and the call's first argument is
 * exactly `name` (or `loss=name`).
 */
export function minimizedSumFix(text: string, at: { sumLine: number; sum: string; name: string; callLine: number | null }): TextFix | null {
  const lines = linesOf(text);
  const s = at.sumLine - 1;
  if (s < 0 || s >= lines.length || !/^[A-Za-z_]\w*$/.test(at.sum) || !/^[A-Za-z_]\w*$/.test(at.name)) return null;
  if (!assignment(lines[s], at.sum)) return null;
  const tf = tensorflowName(text);
  const tape = tf === null ? null : enclosingTape(lines, s, tf);
  if (tape) {
    const grad = gradientCall(lines, tape.line, tape.tape, at.name);
    return grad ? { start: grad.start, end: grad.end, newText: at.sum, model: grad.model ?? '', penalties: at.sum } : null;
  }
  // TF1: the minimize call the run saw, later in the same block as the sum.
  const c = (at.callLine ?? 0) - 1;
  if (c <= s || c >= lines.length || indentOf(lines[c].text) !== indentOf(lines[s].text)) return null;
  for (let i = s + 1; i < c; i++) if (!isBlank(lines[i].text) && indentOf(lines[i].text) < indentOf(lines[s].text)) return null;
  if (codeEnd(lines[c].text) < 0) return null;
  const m = new RegExp(`\\.(?:minimize|compute_gradients)\\([ \\t]*(?:loss[ \\t]*=[ \\t]*)?(${at.name})[ \\t]*[,)]`).exec(lines[c].text);
  if (!m) return null;
  const start = lines[c].start + m.index + m[0].lastIndexOf(at.name);
  return { start, end: start + at.name.length, newText: at.sum, model: '', penalties: at.sum };
}

/** A fix for one finding: the file it edits, the edit, and what the editor calls it. */
export interface PythonPenaltyFix {
  file: string;
  fix: TextFix;
  title: string;
}

/**
 * The fix for a Python run's `regularizer-not-in-loss` finding, from what the run saw: a sum of the penalties that
 * was never minimized (the finding points at it) is minimized instead; a Keras tape loop that never read
 * model.losses gets them added to the loss line the run says was differentiated. `textOf` reads a file as the
 * editor has it. Null when the code is not recognized for certain.
 */
export async function pythonPenaltyFix(
  graphs: LossGraph[],
  finding: Pick<Finding, 'source' | 'addToLoss'>,
  textOf: (file: string) => Promise<string>,
): Promise<PythonPenaltyFix | null> {
  const at = finding.source;
  for (const graph of graphs) {
    const minimized = graph.minimizedSource;
    if (!minimized?.name) continue;
    const sum = at ? graph.terms.find((t) => t.summedAt?.file === at.file && t.summedAt.line === at.line)?.summedAt : undefined;
    if (sum?.name) {
      const callLine = graph.source?.file === sum.file ? graph.source.line : null;
      const fix = minimizedSumFix(await textOf(sum.file), { sumLine: sum.line, sum: sum.name, name: minimized.name, callLine });
      if (fix) return { file: sum.file, fix, title: `Minimize ${sum.name}, the sum with the penalties, instead of ${minimized.name}` };
    } else if (finding.addToLoss === PYTHON_MODEL_PENALTIES) {
      const fix = tapeLossFix(await textOf(minimized.file), minimized.line, minimized.name);
      if (fix) return { file: minimized.file, fix, title: `Add the model's penalties (${fix.penalties}) to the minimized loss` };
    }
  }
  return null;
}

/** Apply a fix to the text (what the editor does with the WorkspaceEdit). */
export function applyFix(text: string, fix: TextFix): string {
  return text.slice(0, fix.start) + fix.newText + text.slice(fix.end);
}
