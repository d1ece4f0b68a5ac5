// regularizer-not-in-loss: three ways a penalty misses the minimized loss, one finding each: summed into a value the
// step does not return, kept on an RNN cell that tfjs never adds, or simply left out.
import type { RunState } from '../../model/run-state';
import type { NamedSite, SourcePosition } from '../../protocol/run-data';
import { describeRegularizer } from '../decay';
import { capitalize, isPython, pythonStep, where } from '../rule-text';
import { describeTerm, type TermView } from '../terms';
import { penaltiesToReach } from './reach';
import { defineRule, type Found } from './rule';

/** "`totalLoss` (line 21)", "the value at line 21", with the file when it is not the one the finding is in. */
function siteText(site: NamedSite | SourcePosition | null | undefined, inFile: string | null, fallback: string): string {
  if (!site) return fallback;
  const file = site.file !== inFile ? ` of ${site.file.split(/[\\/]/).pop()}` : '';
  const name = 'name' in site ? site.name : null;
  return name ? `\`${name}\` (line ${site.line}${file})` : `the value at line ${site.line}${file}`;
}

/** tfjs keeps an RNN's regularizers on its cell (and a Bidirectional's on its two RNNs' cells) and never adds them. */
function rnnCellOf(t: TermView): { path: string } | null {
  const held = t.weightInfo?.heldBy;
  if (!held || t.kind !== 'weight-penalty') return null;
  return /(^|\.)cells?(\[\d+\])?$/.test(held.path) || /Cell$/.test(held.className) ? { path: held.path } : null;
}

/**
 * How code can reach the layer that holds a weight: the name its creation line assigned it to, else by name through
 * the model. Looked up by the weight, not the layer's name: a model loaded back from a save has layers of the same
 * names, and its line binds the model, not the layer.
 */
function layerRef(state: RunState, weightId: string | null, layerName: string | null): string {
  const holder = state.layers.find((l) => l.weights.some((w) => w.id === weightId)) ?? state.layers.find((l) => l.name === layerName);
  return holder?.binding ?? `$model.getLayer('${layerName}')`;
}

/**
 * How a finding names the minimized loss and the way to minimize another: tfjs's step returns it; a Keras tape loop
 * (or train_step) differentiates it; a TF1 train op minimizes it.
 */
function minimizedWords(state: RunState, objective: number | null): { verb: string; loss: string; fix: (name: string | null) => string } {
  const named = (name: string | null) => (name ? `\`${name}\`` : 'that sum');
  if (!isPython(state)) return { verb: 'the step returns', loss: 'the loss it returns', fix: (name) => `Return ${named(name)} instead.` };
  if (pythonStep(state, objective) === 'tf1') {
    return {
      verb: 'the train op minimizes',
      loss: 'the loss the train op minimizes',
      fix: (name) => `Minimize ${named(name)} instead${name ? `: optimizer.minimize(${name})` : ''}.`,
    };
  }
  return {
    verb: 'the tape differentiates',
    loss: 'the loss the tape differentiates',
    fix: (name) => `Differentiate ${named(name)} instead${name ? `: tape.gradient(${name}, …)` : ''}.`,
  };
}

const steps = (n: number) => `${n} step${n === 1 ? '' : 's'}`;
const modelWord = (expr: string) => expr.replace(/\$model/g, 'model');

/**
 * How to get an RNN cell's penalties into the loss. In a loop the user returns the loss, so adding them there works.
 * model.fit builds its loss itself: the only place a fit user writes into it is compile()'s loss, and a loss function
 * there runs inside fit's step, so the cell's penalties it adds are differentiated with the data loss. Moving the
 * regularizer onto the layer is no way out: an RNN layer hands its regularizers to its cell.
 */
function cellAdvice(state: RunState, t: TermView, expr: string): string {
  const graph = state.graphs[t.objective ?? 0];
  const inFit = state.trainingPlans.length > 0 && !graph?.minimizedSource;
  if (!inFit) return `Add tf.addN(${expr}) to the loss, or write the penalty by hand.`;
  return (
    `model.fit builds its loss from compile(), so give compile() a loss function that adds them: ` +
    `loss: (yTrue, yPred) => tf.add(tf.metrics.meanSquaredError(yTrue, yPred), tf.addN(${expr})), with your loss in place of ` +
    `meanSquaredError (the quick fix writes it). Setting the regularizer on the RNN layer instead does not help: the layer passes it to its cell.`
  );
}

/** Penalties summed with the data loss into a value the step does not return: one finding per such sum. */
function droppedSums(state: RunState, dropped: TermView[]): Found[] {
  const bySum = new Map<string, TermView[]>();
  for (const t of dropped) {
    if (!t.summedAt) continue;
    const key = `${t.summedAt.file}:${t.summedAt.line}:${t.summedAt.column}`;
    bySum.set(key, [...(bySum.get(key) ?? []), t]);
  }
  return [...bySum.values()].map((group) => {
    const at = group[0].summedAt!;
    const minimized = state.graphs[group[0].objective!]?.minimizedSource ?? null;
    const words = minimizedWords(state, group[0].objective);
    const these = group.length === 1 ? 'this penalty' : `these ${group.length} penalties`;
    const what = group.map(describeTerm).slice(0, 3).join('; ') + (group.length > 3 ? '; …' : '');
    return {
      message:
        `${siteText(at, at.file, 'A sum')} adds ${these} (${what}), but ${words.verb} ` +
        `${siteText(minimized, at.file, 'another value')}: ${group.length === 1 ? 'it never reaches' : 'none of them reaches'} ` +
        `the minimized loss, so ${group.length === 1 ? 'it decays' : 'they decay'} nothing (${steps(group[0].stepsObserved)}). ` +
        words.fix(at.name ?? null),
      ...(group.length === 1 ? where(group[0]) : { layer: null, weight: null, termId: null }),
      source: { file: at.file, line: at.line, column: at.column },
      related: group.map((t) => ({ layer: t.layer, weight: t.weight, termId: t.id })),
    };
  });
}

type CellPenalty = { t: TermView; path: string };

/**
 * RNN penalties left on their cells, grouped by the layer that holds them (two layers may share a name: a model
 * and its copy loaded from a save).
 */
function cellPenaltiesByLayer(state: RunState, dropped: TermView[]): CellPenalty[][] {
  let holders: Map<string, number> | null = null;
  const rnn = new Map<string, CellPenalty[]>();
  for (const t of dropped) {
    const cell = t.summedAt ? null : rnnCellOf(t);
    if (!cell) continue;
    holders ??= new Map(state.layers.flatMap((l, i) => l.weights.map((w) => [w.id, i] as const)));
    const key = `${holders.get(t.weight ?? '') ?? -1}:${t.layer ?? ''}`;
    rnn.set(key, [...(rnn.get(key) ?? []), { t, path: cell.path }]);
  }
  return [...rnn.values()];
}

/** One finding per RNN layer whose cell penalties no loss includes, with every cell to add. */
function cellFinding(state: RunState, list: CellPenalty[]): Found {
  const layer = list[0].t.layer;
  const paths = [...new Set(list.map((x) => x.path))];
  const ref = layerRef(state, list[0].t.weight, layer);
  const exprs = paths.map((p) => `${ref}.${p}.calculateLosses()`);
  const expr = exprs.length === 1 ? exprs[0] : `[${exprs.map((e) => `...${e}`).join(', ')}]`;
  const t = list[0].t;
  const what = list.map((x) => `${describeRegularizer(x.t.regularizer!)} on ${x.t.weightInfo?.name ?? x.t.weight}`).join(', ');
  return {
    message:
      `${what} of ${layer} never ${list.length === 1 ? 'reaches' : 'reach'} the minimized loss: ${list.length === 1 ? 'it decays' : 'they decay'} ` +
      `nothing (${steps(t.stepsObserved)}). tfjs keeps ${layer}'s regularizers on its ${paths.join(' and ')} and does not add an ` +
      `RNN cell's regularizers to the loss, even in model.fit. ${cellAdvice(state, t, modelWord(expr))}`,
    ...where(t),
    ...(list.length > 1 ? { weight: null, termId: null } : {}),
    related: list.length > 1 ? list.map((x) => ({ layer: x.t.layer, weight: x.t.weight, termId: x.t.id })) : [],
    addToLoss: expr,
  };
}

/** A penalty neither summed nor on a cell: hand-written and left out, computed and dropped, or never computed. */
function droppedTermFinding(state: RunState, t: TermView): Found {
  const minimized = state.graphs[t.objective!]?.minimizedSource ?? null;
  const returned = siteText(minimized, t.source?.file ?? null, 'the minimized value');
  const words = minimizedWords(state, t.objective);
  if (t.kind === 'hand-written') {
    const named = t.sourceName ? ` (\`${t.sourceName}\`, line ${t.source?.line})` : '';
    return {
      message:
        `${capitalize(describeTerm(t))}${named} is computed in the step but never added to ${words.loss} ` +
        `(${returned}): it decays nothing (${steps(t.stepsObserved)}).`,
      ...where(t),
    };
  }
  if (isPython(state)) return pythonDroppedTerm(state, t, words.loss, returned);
  const head = `${capitalize(describeTerm(t))} never reaches the minimized loss: it decays nothing (${steps(t.stepsObserved)}).`;
  // model.fit evaluates and adds every layer's penalty (an RNN cell's aside), so an unevaluated one means a hand-written loop.
  const tail = t.evaluated
    ? `The step computes it but never adds it to the loss it returns (${returned}).`
    : 'Add model.calculateLosses() to the loss your optimizer.minimize() callback returns.';
  return { message: `${head} ${tail}`, ...where(t), addToLoss: '$model.calculateLosses()' };
}

/**
 * A Python penalty of no sum. A Keras layer's penalties (kernel, bias, activity) live in model.losses, which Keras
 * computes only when something reads it and adds only in model.fit: in a tape loop, adding them is the fix.
 */
function pythonDroppedTerm(state: RunState, t: TermView, loss: string, returned: string): Found {
  const what =
    t.kind === 'activity-penalty' ? `The activity regularizer of ${t.layer} (${describeRegularizer(t.regularizer!)})` : capitalize(describeTerm(t));
  const head = `${what} never reaches the minimized loss: it decays nothing (${steps(t.stepsObserved)}).`;
  if (pythonStep(state, t.objective) === 'tf1') {
    if (t.evaluated) return { message: `${head} The step computes it but never adds it to ${loss} (${returned}).`, ...where(t) };
    const sum = 'tf.compat.v1.losses.get_regularization_loss()';
    return { message: `${head} Add ${sum} to ${loss}.`, ...where(t), addToLoss: sum };
  }
  const why = t.evaluated
    ? `Keras puts it in model.losses, but ${returned}, ${loss}, never adds them`
    : `Nothing reads model.losses, so Keras never computes it for ${returned}, ${loss}`;
  return {
    message:
      `${head} ${why}: add tf.add_n(model.losses) to it ` +
      `(loss = loss_fn(y, pred) + tf.add_n(model.losses) inside the GradientTape block; self.losses in a train_step).`,
    ...where(t),
    addToLoss: PYTHON_MODEL_PENALTIES,
  };
}

/** What a Python fix adds unless a finding names otherwise; `$model` is the model the step trains (`self` in a train_step). */
export const PYTHON_MODEL_PENALTIES = 'tf.add_n($model.losses)';

export const regularizerNotInLoss = defineRule({
  id: 'regularizer-not-in-loss',
  severity: 'error',
  name: 'RegularizerNotInLoss',
  summary: 'A regularization penalty never reaches the loss the optimizer minimizes.',
  help:
    'The optimizer only sees the scalar its step returns. model.fit adds the penalties of the model\'s layers to ' +
    'that scalar (not an RNN cell\'s: tfjs keeps those on layer.cell and never adds them); a hand-written ' +
    'optimizer.minimize(() => …) loop returns whatever it computes, usually the data loss alone, so ' +
    'kernelRegularizer, or a penalty computed by hand and left out of the sum, does nothing. Add the penalties ' +
    'to the value the step returns: tf.add(dataLoss, tf.addN(model.calculateLosses())).',
  pythonHelp:
    'The optimizer only sees the loss its gradients are taken of. model.fit adds model.losses (every layer\'s ' +
    'kernel/bias/activity penalties and add_loss terms) itself; a custom GradientTape loop or train_step ' +
    'differentiates what it computes, and Keras adds no penalty there: add tf.add_n(model.losses) to the loss inside ' +
    'the tape (self.losses in a train_step). In a TF1 graph the penalties sit in the REGULARIZATION_LOSSES or a ' +
    '\'losses\' collection: minimize the total that sums them (tf.compat.v1.losses.get_total_loss(), or your ' +
    'tf.add_n of the collection), not the data loss alone.',
  firesWhen:
    'a penalty (a layer\'s regularizer, an RNN cell\'s, or one written by hand) is not an ancestor of the minimized scalar in any observed step: never computed, or computed and dropped (the finding names the sum it was added to, if any). For an RNN cell under `model.fit`, the advice is a `compile()` loss that adds `layer.cell.calculateLosses()` (what the quick fix writes): an RNN layer hands its regularizers to its cell, so moving them to the layer does not help. In a Python run an activity regularizer counts too (Keras applies it), and the advice is Python: `tf.add_n(model.losses)` in a Keras tape loop, the named sum in a TF1 `minimize`',
  check: (ctx) => {
    const dropped = penaltiesToReach(ctx).filter((t) => t.stepsInLoss === 0);
    // Keras adds an RNN cell's penalties to model.losses like any layer's: only tfjs keeps them apart.
    const cells = isPython(ctx.state) ? [] : cellPenaltiesByLayer(ctx.state, dropped);
    const plain = dropped.filter((t) => !t.summedAt && (isPython(ctx.state) || !rnnCellOf(t)));
    return [
      ...droppedSums(ctx.state, dropped),
      ...cells.map((list) => cellFinding(ctx.state, list)),
      ...plain.map((t) => droppedTermFinding(ctx.state, t)),
    ];
  },
});
