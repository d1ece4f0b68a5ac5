// The rules on which weights are decayed, and how: invalid coefficients, missing decay, decay on biases and norms, adaptive optimizers.
import { formatCoefficient } from '../format';
import type { RunState } from '../model/run-state';
import { ADAPTIVE_OPTIMIZERS, describePieces, describeRegularizer } from './decay';
import { decoupledDecayOf, describeDecoupled } from './decoupled-decay';
import { makeFinding, type Finding } from './finding';
import { capitalize, where } from './rule-text';
import type { TermView, WeightView } from './terms';

/** NaN, infinite or negative coefficients, as the user wrote them, on layer regularizers and hand-written penalties. */
export function ruleInvalidRegularizer(terms: TermView[]): Finding[] {
  const out: Finding[] = [];
  const check = (coefficient: number, form: string, on: string, at: Pick<Finding, 'layer' | 'weight' | 'source' | 'termId'>) => {
    if (!Number.isFinite(coefficient)) {
      out.push(
        makeFinding(
          'invalid-regularizer',
          `${form} ${coefficient} on ${on} is not a usable coefficient: the penalty, and the loss with it, is ${Number.isNaN(coefficient) ? 'NaN' : 'infinite'}.`,
          at,
        ),
      );
    } else if (coefficient < 0) {
      out.push(
        makeFinding('invalid-regularizer', `${form} ${formatCoefficient(coefficient)} on ${on} is negative: a negative ${form} grows the weights instead of decaying them.`, {
          ...at,
          severity: 'warning',
        }),
      );
    }
  };
  for (const t of terms) {
    if (t.collection !== 'regularization') continue;
    if (t.kind === 'hand-written') {
      for (const p of t.pieces) {
        if (p.coefficient === null || p.form === 'unknown') continue;
        check(p.coefficient, p.form === 'l2' ? 'L2' : p.form === 'l1' ? 'L1' : 'the norm coefficient', `${p.weight} (hand-written)`, { ...where(t), weight: p.weight });
      }
      continue;
    }
    const r = t.regularizer;
    if (!r || r.className !== 'L1L2') continue;
    const on = t.weight ?? `${t.layer}'s activations`;
    check(r.l1, 'L1', on, where(t));
    check(r.l2, 'L2', on, where(t));
  }
  return out;
}

const DECAYABLE_CLASSES = /^(Conv\d?D|Conv2DTranspose|Conv3DTranspose|SeparableConv\dD|DepthwiseConv2D|Dense|Embedding)$/;

export function ruleNoDecay(state: RunState, weights: WeightView[]): Finding[] {
  const classOf = new Map(state.layers.map((l) => [l.name, l.className]));
  const kernels = weights.filter(
    (w) => w.info.trainable && w.updated !== false && (w.info.role === 'kernel' || w.info.role === 'embedding') && (w.layer !== null || w.info.shape.length >= 2),
  );
  // A decay by the optimizer or the script (a user's AdamW) is decay as much as a penalty is.
  const decayed = (w: WeightView) => w.penalties.length > 0 || decoupledDecayOf(state, w) !== null;
  const has = new Map(kernels.map((w) => [w.info.id, decayed(w)]));
  if (![...has.values()].some(Boolean)) return [];
  return kernels
    .filter((w) => !has.get(w.info.id) && (w.layer === null || DECAYABLE_CLASSES.test(classOf.get(w.layer) ?? '')))
    .map((w) =>
      makeFinding('no-decay', `${w.info.id} has no decay, while the model's other kernels do.`, { layer: w.layer, weight: w.info.id, source: w.source }),
    );
}

export function ruleDecayOnBiasOrNorm(state: RunState, weights: WeightView[]): Finding[] {
  const out: Finding[] = [];
  for (const w of weights) {
    if (w.updated === false || !['bias', 'gamma', 'beta'].includes(w.info.role)) continue;
    const what = w.info.role === 'bias' ? 'a bias' : `a normalization ${w.info.role}`;
    const decoupled = decoupledDecayOf(state, w);
    if (decoupled) {
      const text = describeDecoupled(decoupled);
      out.push(makeFinding('decay-on-bias-or-norm', `${capitalize(text)} on ${w.info.id} decays ${what}.`, { layer: w.layer, weight: w.info.id, source: w.source }));
    }
    for (const t of w.penalties) {
      if (t.kind === 'activity-penalty') continue;
      const reg = t.kind === 'hand-written' ? `Hand-written ${describePieces(t.pieces.filter((p) => p.weight === w.info.id))}` : describeRegularizer(t.regularizer!);
      out.push(makeFinding('decay-on-bias-or-norm', `${reg} on ${w.info.id} decays ${what}.`, { ...where(t), weight: w.info.id }));
    }
  }
  return out;
}

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

export function ruleAdaptiveOptimizer(weights: WeightView[]): Finding[] {
  // Per layer (per raw variable outside layers), exactly the weights an adaptive optimizer updates.
  const groups = new Map<string, Array<{ w: WeightView; reaching: TermView[] }>>();
  for (const w of weights) {
    if (w.updated === false || !w.optimizer || !ADAPTIVE_OPTIMIZERS.has(w.optimizer.className)) continue;
    const reaching = w.penalties.filter((t) => t.kind !== 'activity-penalty' && t.stepsInLoss > 0);
    if (reaching.length === 0) continue;
    const key = `${w.layer ?? w.info.id}|${w.optimizer.className}`;
    groups.set(key, [...(groups.get(key) ?? []), { w, reaching }]);
  }
  // Layers of one cause (the same penalties under the same optimizer, created in the same file) make one finding
  // that lists them: three "L2 with Adam" warnings in a row say less than one naming the three layers.
  const causes = new Map<string, Array<{ what: string; list: Array<{ w: WeightView; reaching: TermView[] }> }>>();
  for (const list of groups.values()) {
    const { w, reaching } = list[0];
    const what = list.map((x) => weightPenaltyText(x.w, x.reaching)).join(', ');
    const file = w.source?.file ?? reaching[0].source?.file ?? '';
    const key = w.layer ? `${what}|${w.optimizer!.className}|${file}` : `variable:${w.info.id}|${w.optimizer!.className}`;
    causes.set(key, [...(causes.get(key) ?? []), { what, list }]);
  }
  return [...causes.values()].map((layers) => {
    const { what, list } = layers[0];
    const { w, reaching } = list[0];
    const opt = w.optimizer!.className;
    const names = layers.map((l) => l.list[0].w.layer).filter((x): x is string => x !== null);
    const one = layers.length === 1 && list.length === 1 && reaching.length === 1;
    const all = layers.flatMap((l) => l.list);
    return makeFinding(
      'l2-with-adaptive-optimizer',
      `${capitalize(what)}${names.length ? ` of ${listNames(names)}` : ''} with ${opt} is not weight decay: ${opt} rescales the penalty's gradient too.`,
      {
        layer: w.layer,
        weight: all.length === 1 ? w.info.id : null,
        // The first layer's line (they are in creation order), or the line that created the raw tf.variable.
        source: w.source ?? reaching[0].source,
        termId: one ? reaching[0].id : null,
        related: all.length > 1 || reaching.length > 1 ? all.flatMap((x) => x.reaching.map((t) => ({ layer: x.w.layer, weight: x.w.info.id, termId: t.id }))) : [],
      },
    );
  });
}

/** "a", "a and b", "a, b and c", "a, b, c and 897 more". */
function listNames(names: string[]): string {
  if (names.length === 1) return names[0];
  if (names.length <= 4) return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}
