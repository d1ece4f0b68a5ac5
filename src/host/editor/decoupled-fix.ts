/**
 * The quick fix for `l2-with-adaptive-optimizer`: "Use decoupled weight decay". It removes the layer's L2
 * regularizer and writes a small helper into the training file (plain tfjs, no new dependency) that shrinks the
 * same weights by lr·λ after each optimizer step, AdamW-style, called after `optimizer.minimize(…)` /
 * `applyGradients(…)`, or as an `onBatchEnd` callback of `model.fit`. Pure text work (no vscode), tested in Node.
 * Over 300 lines, on purpose: the plan (which weights, λ, lr) and the text edits it drives (drop the regularizer,
 * insert the helper, call it after the step) are one quick fix, tested as one. The scanning it shares with the
 * minimize fix (brackets, expressions, the tfjs and model names) is in js-text-scan.ts; what is left here serves only it.
 */
import { formatCoefficient } from '../../shared/format';
import type { Finding } from '../../shared/analysis/finding';
import { collectTerms, weightViews } from '../../shared/analysis/terms';
import { learningRateOf } from '../../shared/analysis/decay';
import type { RunState } from '../../shared/model/run-state';
import type { SourcePosition } from '../../shared/protocol/run-data';
import { callArguments, expressionEnd, matchClose, modelOf, namespaceOf, offsetOf, skipNonCode, trimRange } from './js-text-scan';

export const DECOUPLED_HELPER = 'applyDecoupledWeightDecay';

/** A layer's config property that holds a weight's regularizer, by the weight's name in the layer. */
const REGULARIZER_PROPERTY: Record<string, string> = {
  kernel: 'kernelRegularizer',
  bias: 'biasRegularizer',
  gamma: 'gammaRegularizer',
  beta: 'betaRegularizer',
  embeddings: 'embeddingsRegularizer',
  recurrent_kernel: 'recurrentRegularizer',
  depthwise_kernel: 'depthwiseRegularizer',
  pointwise_kernel: 'pointwiseRegularizer',
};

/** What the fix needs from the run: which layers and weights, their L2, the optimizer's learning rate, where it trains. */
export interface DecoupledPlan {
  /** Layer names (tfjs's, as model.getLayer takes them), with the identifier the code binds the layer to, if any. */
  layers: Array<{ name: string; binding: string | null }>;
  /** Weight names inside the layer (`kernel`), each with the config property that holds its regularizer. */
  weights: Array<{ short: string; property: string }>;
  l2: number;
  learningRate: number;
  optimizer: string;
  /** Where the layers are created (the regularizer to remove) and where the step is taken (the helper's call). */
  layerSource: SourcePosition;
  /**
   * Where each layer of the plan is created, when a finding covers layers created at several lines (one cause,
   * folded): every one of them loses its regularizer. Absent: only layerSource.
   */
  layerSources?: SourcePosition[];
  /** Null when the step's call was not on the stack (model.fit's steps run after an await): the script's fit call. */
  training: SourcePosition | null;
  /** The file the step is taken in: the call's, else the script. */
  trainingFile: string;
  /** Every layer regularizer of the run is in this fix: afterwards `model.calculateLosses()` is an empty list. */
  coversAll: boolean;
}

/**
 * The plan for one finding, from the run: every layer and weight it covers, when they all carry the same tfjs L2
 * regularizer (L1L2 with l1 = 0) and one optimizer with a known learning rate trains them. Null otherwise (hand-written
 * penalties, L1, an RNN cell's weights, mixed coefficients): the fix would have to rewrite more than a config.
 */
export function decoupledPlan(state: RunState, finding: Finding): DecoupledPlan | null {
  if (finding.ruleId !== 'l2-with-adaptive-optimizer' || !finding.source) return null;
  const items = finding.related.length ? finding.related : [{ layer: finding.layer, weight: finding.weight, termId: finding.termId }];
  const views = weightViews(state, collectTerms(state));
  const byId = new Map(views.map((v) => [v.info.id, v]));
  const layers = new Map<string, { name: string; binding: string | null }>();
  const weights = new Map<string, { short: string; property: string }>();
  const l2s = new Set<number>();
  const lrs = new Set<number>();
  const optimizers = new Set<string>();
  const ids = items.flatMap((i) => (i.weight ? [i.weight] : views.filter((v) => v.layer === i.layer && v.penalties.length > 0).map((v) => v.info.id)));
  for (const id of ids) {
    const v = byId.get(id);
    const r = v?.info.regularizer;
    if (!v || !v.layer || v.info.heldBy || !r || r.className !== 'L1L2' || r.l1 !== 0 || !(r.l2 > 0)) return null;
    const property = REGULARIZER_PROPERTY[v.info.name];
    const lr = learningRateOf(v.optimizer);
    if (!property || lr === null) return null;
    const info = state.layers.find((l) => l.name === v.layer);
    layers.set(v.layer, { name: v.layer, binding: info?.binding ?? null });
    weights.set(v.info.name, { short: v.info.name, property });
    l2s.add(r.l2);
    lrs.add(lr);
    optimizers.add(v.optimizer!.className);
  }
  const training = Object.values(state.graphs).find((g) => g.variables.some((w) => ids.includes(w)))?.source ?? null;
  if (layers.size === 0 || l2s.size !== 1 || lrs.size !== 1) return null;
  const regularized = state.layers.flatMap((l) => l.weights.filter((w) => w.regularizer).map((w) => w.id));
  return {
    layers: [...layers.values()],
    weights: [...weights.values()],
    l2: [...l2s][0],
    learningRate: [...lrs][0],
    optimizer: [...optimizers].join('/'),
    layerSource: finding.source,
    layerSources: layerSourcesOf(state, [...layers.keys()], finding.source),
    training,
    trainingFile: training?.file ?? state.script,
    coversAll: regularized.every((id) => ids.includes(id)),
  };
}

export interface FileEdit {
  file: string;
  start: number;
  end: number;
  newText: string;
}

/** The distinct creation sites of the plan's layers, the finding's own first; layers created elsewhere count as there. */
function layerSourcesOf(state: RunState, names: string[], first: SourcePosition): SourcePosition[] {
  const out = new Map<string, SourcePosition>([[`${first.file}:${first.line}:${first.column}`, first]]);
  for (const name of names) {
    const s = state.layers.find((l) => l.name === name)?.source;
    if (s) out.set(`${s.file}:${s.line}:${s.column}`, s);
  }
  return [...out.values()];
}

/** Edits that take `property: …` out of the layer's config (the call's object literal at `at`). Null if it is not there. */
function removeProperties(text: string, at: number, properties: string[], file: string): FileEdit[] | null {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const open = text.indexOf('(', Math.max(lineStart, at));
  if (open < 0 || open > at + 200) return null;
  const close = matchClose(text, open);
  const edits: FileEdit[] = [];
  for (const property of properties) {
    const re = new RegExp(`\\b${property}\\s*:`, 'g');
    re.lastIndex = open;
    const m = re.exec(text);
    if (!m || m.index > close) return null;
    let end = expressionEnd(text, m.index + m[0].length, ',');
    // Its comma and the space after it go too; the last property takes the comma before it instead.
    let start = m.index;
    if (text[end] === ',') {
      end++;
      while (end < close && /[ \t]/.test(text[end])) end++;
      if (text[end] === '\n') {
        const next = text.slice(end + 1).match(/^[ \t]*/)![0].length;
        const lineOfStart = text.lastIndexOf('\n', start - 1) + 1;
        // A property alone on its line: the whole line goes.
        if (/^[ \t]*$/.test(text.slice(lineOfStart, start))) {
          start = lineOfStart;
          end = end + 1;
        } else end = end + 1 + next;
      }
    } else {
      end = trimRange(text, m.index, end)[1];
      let before = start;
      while (before > open && /\s/.test(text[before - 1])) before--;
      if (text[before - 1] === ',') start = before - 1;
    }
    edits.push({ file, start, end, newText: '' });
  }
  return edits;
}

/** The helper, with a comment that says why; typed for TypeScript files. */
function helperText(tf: string, typescript: boolean): string {
  const sig = typescript
    ? `function ${DECOUPLED_HELPER}(layers: ${tf}.layers.Layer[], weights: string[], learningRate: number, lambda: number): void`
    : `function ${DECOUPLED_HELPER}(layers, weights, learningRate, lambda)`;
  return [
    '',
    '// Decoupled weight decay (AdamW-style, Loshchilov & Hutter), written by Loss Lens. With an adaptive optimizer an L2',
    '// penalty in the loss is rescaled by each weight\'s gradient history, so it is not weight decay. Instead, after each',
    '// optimizer step, shrink the weights by lr·λ: w ← w − lr·λ·w. λ = 2·l2 decays as much as that L2 would under plain',
    '// SGD. (w − lr·λ·w rather than w·(1 − lr·λ): float32 cannot hold 1 − 1e-6 closely enough.)',
    `${sig} {`,
    `  ${tf}.tidy(() => {`,
    '    for (const layer of layers) {',
    `      for (const w of layer.trainableWeights) if (weights.some((n) => w.name.endsWith(\`/\${n}\`))) w.write(${tf}.sub(w.read(), ${tf}.mul(w.read(), learningRate * lambda)));`,
    '    }',
    '  });',
    '}',
    '',
  ].join('\n');
}

/** Just past the last top-level import or require of the file's head (where the helper goes). */
function afterImports(text: string): number {
  const re = /^(?:import\b[^\n]*|(?:const|let|var)\s+[^\n=]+=\s*require\([^\n]*\)[^\n]*)$/gm;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    // A multi-line import ends at its `from '…'`.
    const from = /from\s+['"][^'"]+['"];?/g;
    from.lastIndex = m.index;
    const f = m[0].includes('from') || !m[0].startsWith('import') ? null : from.exec(text);
    end = (f ? f.index + f[0].length : m.index + m[0].length) + 1;
  }
  return Math.min(end, text.length);
}

/** The end of the statement the call at `at` belongs to (its `;`, or its line's end), when it stands alone on its line. */
function statementEnd(text: string, at: number): number | null {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const head = text.slice(lineStart, at);
  if (/^\s*(for|while|if|do|else|switch|return)\b/.test(head)) return null;
  let depth = 0;
  let i = lineStart;
  while (i < text.length) {
    const skipped = skipNonCode(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth < 0) return null;
    } else if (depth === 0 && (c === ';' || c === '\n')) return c === ';' ? i + 1 : i;
    i++;
  }
  return text.length;
}

const num = (x: number) => String(Number(x.toPrecision(6)));

/**
 * The edits of the fix: the regularizers out of the layer's config, the helper (once per file) and its call where the
 * step is taken. `layer` and `training` are the texts of the files there (the same text when it is one file). Null
 * when some part is not recognizable; then nothing is changed.
 */
export function decoupledDecayFix(
  plan: DecoupledPlan,
  layer: { file: string; text: string },
  training: { file: string; text: string },
  typescript: boolean,
): { edits: FileEdit[]; title: string } | null {
  // Every layer's regularizer goes, or none: a fix that decays some layers twice would be worse than none.
  const sites = (plan.layerSources ?? [plan.layerSource]).filter((s) => s.file === plan.layerSource.file);
  if (sites.length !== (plan.layerSources ?? [plan.layerSource]).length) return null;
  const removals: FileEdit[] = [];
  for (const site of sites) {
    const r = removeProperties(layer.text, offsetOf(layer.text, site.line, site.column), plan.weights.map((w) => w.property), layer.file);
    if (!r) return null;
    removals.push(...r);
  }
  const text = training.text;
  const tf = namespaceOf(text);
  // `(?<![\w$])`: each word is tried once (see modelOf), so a long one costs its length, not its square.
  const callRe = /(?<![\w$])([\w$]+)\s*\.\s*(fit|fitDataset|minimize|computeGradients|applyGradients)\s*\(|\b(variableGrads)\s*\(/g;
  let call: RegExpExecArray | null;
  if (plan.training) {
    const at = offsetOf(text, plan.training.line, plan.training.column);
    callRe.lastIndex = text.lastIndexOf('\n', at - 1) + 1;
    call = callRe.exec(text);
    if (!call || call.index > at + 400) return null;
  } else {
    // model.fit's steps run after an await, so its call is not on their stack: the script's one fit call.
    const fits = [...text.matchAll(/(?<![\w$])([\w$]+)\s*\.\s*(fit|fitDataset)\s*\(/g)];
    if (fits.length !== 1) return null;
    call = fits[0] as RegExpExecArray;
  }
  const receiver = call[1] ?? null;
  const kind = call[2] ?? call[3];
  const model = kind === 'fit' || kind === 'fitDataset' ? receiver! : modelOf(text.slice(call.index, matchClose(text, call.index + call[0].length - 1)), text);
  const declared = new RegExp(`(?:const|let|var)\\s+${model.replace(/\$/g, '\\$')}\\b`).test(text);
  const quote = (name: string) => `'${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const refs = plan.layers.map((l) => (declared || !l.binding ? `${model}.getLayer(${quote(l.name)})` : l.binding));
  const args = `[${refs.join(', ')}], [${plan.weights.map((w) => `'${w.short}'`).join(', ')}], ${num(plan.learningRate)}, ${num(2 * plan.l2)}`;
  const invocation = `${DECOUPLED_HELPER}(${args})`;
  if (text.includes(invocation)) return null;
  const comment = `lr of the ${plan.optimizer} optimizer; λ = 2·l2 (was L2 ${formatCoefficient(plan.l2)} in the loss)`;

  const edits: FileEdit[] = [...removals];
  if (kind === 'fit' || kind === 'fitDataset') {
    const open = call.index + call[0].length - 1;
    const list = callArguments(text, open);
    const index = kind === 'fit' ? 2 : 1;
    const callback = `onBatchEnd: () => ${invocation} /* ${comment} */`;
    if (list.length === index) {
      edits.push({ file: training.file, start: list[index - 1][1], end: list[index - 1][1], newText: `, { callbacks: { ${callback} } }` });
    } else if (list.length === index + 1 && text[list[index][0]] === '{') {
      const [s, e] = list[index];
      const props = callArguments(text, s);
      const cb = props.find(([ps]) => /^callbacks\s*:/.test(text.slice(ps)));
      if (!cb) edits.push({ file: training.file, start: s + 1, end: s + 1, newText: ` callbacks: { ${callback} },` });
      else {
        const valueStart = text.indexOf(':', cb[0]) + 1;
        const [vs] = trimRange(text, valueStart, cb[1]);
        if (text[vs] === '{') {
          if (/\bonBatchEnd\s*:/.test(text.slice(vs, cb[1]))) return null;
          edits.push({ file: training.file, start: vs + 1, end: vs + 1, newText: ` ${callback},` });
        } else if (text[vs] === '[') {
          edits.push({ file: training.file, start: vs + 1, end: vs + 1, newText: `{ ${callback} }, ` });
        } else return null;
      }
      void e;
    } else return null;
  } else {
    // After the step's update: the minimize call itself, or the applyGradients that follows computeGradients/variableGrads.
    let applyAt = call.index;
    if (kind !== 'minimize' && kind !== 'applyGradients') {
      const next = /\.\s*applyGradients\s*\(/g;
      next.lastIndex = call.index;
      const m = next.exec(text);
      if (!m || text.slice(call.index, m.index).split('\n').length > 30) return null;
      applyAt = m.index;
    }
    const end = statementEnd(text, applyAt);
    if (end === null) return null;
    const indent = text.slice(text.lastIndexOf('\n', applyAt - 1) + 1).match(/^[ \t]*/)![0];
    edits.push({ file: training.file, start: end, end, newText: `\n${indent}${invocation}; // ${comment}` });
  }
  // With no layer regularizer left, tf.addN(model.calculateLosses()) would throw on its empty list.
  if (plan.coversAll) {
    const sum = new RegExp(`${tf}\\.addN\\(\\s*(${model.replace(/\$/g, '\\$')}\\.calculateLosses\\(\\))\\s*\\)`, 'g');
    for (const m of text.matchAll(sum)) {
      edits.push({ file: training.file, start: m.index!, end: m.index! + m[0].length, newText: `${tf}.addN([${tf}.scalar(0), ...${m[1]}])` });
    }
  }
  if (!text.includes(`function ${DECOUPLED_HELPER}(`)) {
    const pos = afterImports(text);
    edits.push({ file: training.file, start: pos, end: pos, newText: helperText(tf, typescript) });
  }
  return { edits, title: 'Use decoupled weight decay' };
}

/** Apply edits to the texts (for the tests, and for callers without an editor): later offsets first. */
export function applyEdits(text: string, edits: readonly FileEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}
