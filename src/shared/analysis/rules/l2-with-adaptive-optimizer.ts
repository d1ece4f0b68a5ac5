import { ADAPTIVE_OPTIMIZERS, describePieces, describeRegularizer } from '../decay';
import type { RunState } from '../../model/run-state';
import { capitalize, isPython, pythonStep } from '../rule-text';
import type { TermView, WeightView } from '../terms';
import { defineRule, type Found } from './rule';

type Penalized = { w: WeightView; reaching: TermView[] };

/** The penalties of one weight, each as its own regularizer says: "L2 0.01 on kernel", "hand-written L1 0.5 on bias". */
function weightPenaltyText(w: WeightView, reaching: TermView[]): string {
  const short = w.layer ? w.info.name : w.info.id;
  return reaching
    .map((t) =>
      t.kind === 'hand-written'
        ? `hand-written ${describePieces(t.pieces.filter((p) => p.weight === w.info.id))} on ${short}`
        : `${describeRegularizer(t.regularizer!)} on ${short}`,
    )
    .join(', ');
}

/** "a", "a and b", "a, b and c", "a, b, c and 897 more". */
function listNames(names: string[]): string {
  if (names.length === 1) return names[0];
  if (names.length <= 4) return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

/** Per layer (per raw variable outside layers), exactly the weights an adaptive optimizer updates with a penalty that reaches the loss. */
function penalizedByLayer(weights: WeightView[]): Map<string, Penalized[]> {
  const groups = new Map<string, Penalized[]>();
  for (const w of weights) {
    if (w.updated === false || !w.optimizer || !ADAPTIVE_OPTIMIZERS.has(w.optimizer.className)) continue;
    const reaching = w.penalties.filter((t) => t.kind !== 'activity-penalty' && t.stepsInLoss > 0);
    if (reaching.length === 0) continue;
    const key = `${w.layer ?? w.info.id}|${w.optimizer.className}`;
    groups.set(key, [...(groups.get(key) ?? []), { w, reaching }]);
  }
  return groups;
}

/**
 * Layers of one cause (the same penalties under the same optimizer, created in the same file) make one finding
 * that lists them: three "L2 with Adam" warnings in a row say less than one naming the three layers.
 */
function byCause(groups: Map<string, Penalized[]>): Array<Array<{ what: string; list: Penalized[] }>> {
  const causes = new Map<string, Array<{ what: string; list: Penalized[] }>>();
  for (const list of groups.values()) {
    const { w, reaching } = list[0];
    const what = list.map((x) => weightPenaltyText(x.w, x.reaching)).join(', ');
    const file = w.source?.file ?? reaching[0].source?.file ?? '';
    const key = w.layer ? `${what}|${w.optimizer!.className}|${file}` : `variable:${w.info.id}|${w.optimizer!.className}`;
    causes.set(key, [...(causes.get(key) ?? []), { what, list }]);
  }
  return [...causes.values()];
}

/**
 * What a Python user does instead: Keras 3 gives every optimizer a decoupled `weight_decay` (AdamW is Adam with it),
 * and its exclusion list keeps biases and norms out; a TF1 graph shrinks the weights itself after each step.
 */
function pythonAdvice(state: RunState, w: WeightView): string {
  if (pythonStep(state, null) === 'tf1') return ' For decay, drop the L2 term and shrink the weights after each step instead (w ← w·(1 − lr·λ)).';
  return (
    ` For decay, drop the L2 regularizer and use keras.optimizers.AdamW(weight_decay=…) (or weight_decay= on ${w.optimizer!.className}), ` +
    "with optimizer.exclude_from_weight_decay(var_names=['bias', 'gamma', 'beta']) so biases and normalization weights are not decayed."
  );
}

function causeFinding(state: RunState, layers: Array<{ what: string; list: Penalized[] }>): Found {
  const { what, list } = layers[0];
  const { w, reaching } = list[0];
  const opt = w.optimizer!.className;
  const names = layers.map((l) => l.list[0].w.layer).filter((x): x is string => x !== null);
  const one = layers.length === 1 && list.length === 1 && reaching.length === 1;
  const all = layers.flatMap((l) => l.list);
  return {
    message:
      `${capitalize(what)}${names.length ? ` of ${listNames(names)}` : ''} with ${opt} is not weight decay: ${opt} rescales the penalty's gradient too.` +
      (isPython(state) ? pythonAdvice(state, w) : ''),
    layer: w.layer,
    weight: all.length === 1 ? w.info.id : null,
    // The first layer's line (they are in creation order), or the line that created the raw tf.variable.
    source: w.source ?? reaching[0].source,
    termId: one ? reaching[0].id : null,
    related: all.length > 1 || reaching.length > 1 ? all.flatMap((x) => x.reaching.map((t) => ({ layer: x.w.layer, weight: x.w.info.id, termId: t.id }))) : [],
  };
}

export const l2WithAdaptiveOptimizer = defineRule({
  id: 'l2-with-adaptive-optimizer',
  severity: 'warning',
  name: 'L2WithAdaptiveOptimizer',
  summary: 'An L1/L2 penalty with an adaptive optimizer is not weight decay.',
  help:
    'Adam, Adamax, RMSProp, Adagrad and Adadelta divide each gradient, the penalty\'s included, by its running ' +
    'magnitude, so weights with large gradients are barely decayed (Loshchilov & Hutter, "Decoupled Weight Decay ' +
    'Regularization"). For real decay, shrink the weights after each step (w ← w·(1 − lr·λ)) instead of adding L2, ' +
    'or use plain SGD, where L2 and decay are the same.',
  pythonHelp:
    'Adam, Adamax, RMSprop, Adagrad and Adadelta divide each gradient, the penalty\'s included, by its running ' +
    'magnitude, so weights with large gradients are barely decayed (Loshchilov & Hutter, "Decoupled Weight Decay ' +
    'Regularization"). In Keras, drop the L2 kernel_regularizer and use decoupled decay: keras.optimizers.AdamW, or ' +
    'weight_decay= on any Keras 3 optimizer, with optimizer.exclude_from_weight_decay(var_names=[...]) for biases and ' +
    'normalization weights. In a TF1 graph, shrink the weights after each step (w ← w·(1 − lr·λ)). Plain SGD is the ' +
    'exception: there L2 and decay are the same.',
  firesWhen:
    'an L1/L2 penalty reaches the loss and the optimizer is Adam, Adamax, RMSProp, Adagrad or Adadelta; layers with the same penalties under the same optimizer, created in one file, share one finding that lists them (`related`; Problems links the others, and its quick fix decouples all of them)',
  check: ({ state, weights }) => byCause(penalizedByLayer(weights)).map((layers) => causeFinding(state, layers)),
});
