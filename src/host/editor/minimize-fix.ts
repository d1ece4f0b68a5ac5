/**
 * The quick fix for `regularizer-not-in-loss` in an `optimizer.minimize(() => …)` loop: add the model's
 * penalties to the value the callback returns. Pure text work (no vscode), so it is tested in Node.
 */
import { expressionEnd, matchClose, modelOf, namespaceOf, OPEN, skipNonCode, trimRange } from './js-text-scan';

export interface TextFix {
  /** Offsets into the document text. */
  start: number;
  end: number;
  newText: string;
  model: string;
  /** The list of penalties the fix adds, as inserted (`model.calculateLosses()`, `lstm.cell.calculateLosses()`). */
  penalties: string;
}

/** The penalties a fix adds unless a finding names others; `$model` is replaced by the model's name. */
export const MODEL_PENALTIES = '$model.calculateLosses()';

/** The last `return EXPR` at the top level of a block (not inside a nested function). */
function lastTopLevelReturn(text: string, open: number, close: number): [number, number] | null {
  let found: [number, number] | null = null;
  let i = open + 1;
  while (i < close) {
    const skipped = skipNonCode(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    const c = text[i];
    if (OPEN[c]) {
      i = matchClose(text, i) + 1;
      continue;
    }
    if (/\breturn\b/y.test(sliceFrom(text, i)) && !/[\w$]/.test(text[i - 1] ?? '')) {
      const exprStart = i + 'return'.length;
      const exprEnd = expressionEnd(text, exprStart, ';\n');
      const [s, e] = trimRange(text, exprStart, exprEnd);
      if (e > s) found = [s, e];
      i = exprEnd;
      continue;
    }
    i++;
  }
  return found;
}

function sliceFrom(text: string, i: number): string {
  return text.slice(i, i + 8);
}

/**
 * Finds the `minimize(…)` (or `computeGradients(…)`) call at or after `offset` on its line and returns the edit
 * that adds `tf.addN(model.calculateLosses())` (or the `penalties` a finding names, such as an RNN's
 * `lstm.cell.calculateLosses()`) to what its callback returns. Null when the callback is not recognizable, or
 * already adds those penalties.
 */
export function minimizeFix(text: string, offset: number, typescript: boolean, penalties: string = MODEL_PENALTIES): TextFix | null {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const call = /\b(?:minimize|computeGradients|variableGrads)\s*\(/g;
  call.lastIndex = lineStart;
  const m = call.exec(text);
  if (!m || m.index > offset + 400) return null;
  const open = m.index + m[0].length - 1;
  const argEnd = expressionEnd(text, open + 1, ',');
  const [argStart] = trimRange(text, open + 1, argEnd);
  const arg = text.slice(argStart, argEnd);
  if (penalties === MODEL_PENALTIES && arg.includes('calculateLosses')) return null;

  const arrow = /^(?:async\s*)?(?:\([^)]*\)|[\w$]+)\s*=>\s*/.exec(arg);
  const fn = /^(?:async\s+)?function\b[^(]*\([^)]*\)\s*/.exec(arg);
  const head = arrow ?? fn;
  if (!head) return null;
  const bodyStart = argStart + head[0].length;
  let range: [number, number] | null;
  if (text[bodyStart] === '{') {
    range = lastTopLevelReturn(text, bodyStart, matchClose(text, bodyStart));
  } else if (arrow) {
    range = trimRange(text, bodyStart, argEnd);
  } else {
    return null;
  }
  if (!range) return null;

  const tf = namespaceOf(text);
  const model = modelOf(arg, text);
  const list = penalties.replace(/\$model/g, model);
  if (arg.includes(list)) return null;
  let expr = text.slice(range[0], range[1]);
  // An expression body that is an object literal or a cast needs no extra parentheses inside tf.add(…).
  if (expr.startsWith('(') && matchClose(expr, 0) === expr.length - 1) expr = expr.slice(1, -1).trim();
  const sum = `${tf}.add(${expr}, ${tf}.addN(${list}))`;
  return { start: range[0], end: range[1], newText: typescript ? `${sum} as ${tf}.Scalar` : sum, model, penalties: list };
}

/** Loss names model.compile accepts, and the per-example function of tf.metrics that computes each. */
const COMPILE_LOSSES: Record<string, string> = {
  meanSquaredError: 'meanSquaredError',
  mse: 'meanSquaredError',
  MSE: 'meanSquaredError',
  meanAbsoluteError: 'meanAbsoluteError',
  mae: 'meanAbsoluteError',
  meanAbsolutePercentageError: 'meanAbsolutePercentageError',
  mape: 'meanAbsolutePercentageError',
  categoricalCrossentropy: 'categoricalCrossentropy',
  binaryCrossentropy: 'binaryCrossentropy',
};

/**
 * For a model trained with model.fit, where tfjs builds the loss from `compile({ loss })`: replaces that loss with
 * a function that adds the penalties tfjs leaves out (an RNN cell's). Picks the last `.compile(` before `offset`
 * (the fit call), else the first in the file. Null when the loss is not a known name or a function reference.
 */
export function compileLossFix(text: string, offset: number, typescript: boolean, penalties: string): TextFix | null {
  const call = /(?<![\w$])([\w$]+)\s*\.\s*compile\s*\(/g;
  let chosen: RegExpExecArray | null = null;
  for (let m = call.exec(text); m; m = call.exec(text)) {
    if (chosen === null || m.index < offset) chosen = m;
    if (m.index >= offset) break;
  }
  if (!chosen) return null;
  const open = chosen.index + chosen[0].length - 1;
  const close = matchClose(text, open);
  const args = text.slice(open + 1, close);
  const key = /\bloss\s*:\s*/.exec(args);
  if (!key) return null;
  const valueStart = open + 1 + key.index + key[0].length;
  const valueEnd = expressionEnd(text, valueStart, ',');
  const [start, end] = trimRange(text, valueStart, valueEnd);
  const value = text.slice(start, end);
  const tf = namespaceOf(text);
  const model = chosen[1];
  const list = penalties.replace(/\$model/g, model);
  if (value.includes(list)) return null;
  const name = /^(['"`])(\w+)\1$/.exec(value)?.[2];
  let data: string;
  if (name !== undefined) {
    const fn = COMPILE_LOSSES[name];
    if (!fn) return null;
    data = `${tf}.metrics.${fn}(yTrue, yPred)`;
  } else if (/^[\w$.]+$/.test(value)) {
    data = `${value}(yTrue, yPred)`;
  } else {
    return null;
  }
  const params = typescript ? `(yTrue: ${tf}.Tensor, yPred: ${tf}.Tensor)` : '(yTrue, yPred)';
  return { start, end, newText: `${params} => ${tf}.add(${data}, ${tf}.addN(${list}))`, model, penalties: list };
}
