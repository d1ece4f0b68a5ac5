import { describePieces, describeRegularizer } from '../decay';
import { decoupledDecayOf, describeDecoupled } from '../decoupled-decay';
import { capitalize, isPython, where } from '../rule-text';
import { defineRule, type Found } from './rule';

/** For a Keras optimizer's decoupled decay: the exclusion that keeps it off this kind of weight. */
const excludeAdvice = (role: string) => {
  const names = role === 'bias' ? "'bias'" : "'gamma', 'beta'";
  return ` Exclude it: optimizer.exclude_from_weight_decay(var_names=[${names}]) before training.`;
};

export const decayOnBiasOrNorm = defineRule({
  id: 'decay-on-bias-or-norm',
  severity: 'warning',
  name: 'DecayOnBiasOrNorm',
  summary: 'Decay (a penalty, or a decoupled decay by the optimizer or the script) on a bias or a normalization gamma/beta.',
  help:
    'Decay on biases and normalization scales rarely helps and can hurt: it pulls normalized activations towards ' +
    'zero. Usual practice decays kernels only; an AdamW that decays every weight needs a filter that leaves biases and ' +
    'normalization weights out (check that its names match yours, e.g. ln_1/gamma).',
  pythonHelp:
    'Decay on biases and normalization scales rarely helps and can hurt: it pulls normalized activations towards ' +
    'zero. Usual practice decays kernels only. A Keras optimizer with weight_decay (AdamW included) decays every ' +
    "variable it trains unless told otherwise: call optimizer.exclude_from_weight_decay(var_names=['bias', 'gamma', " +
    "'beta']) before its first step (each is searched for in a variable's name: kernel, bias, gamma, beta), and give biases and " +
    'normalization layers no kernel-style regularizer.',
  firesWhen:
    "decay on a bias or a normalization gamma/beta: a penalty, or a decoupled decay (a user's AdamW without a filter, a decay step in the script)",
  check: ({ state, weights }) => {
    const out: Found[] = [];
    for (const w of weights) {
      if (w.updated === false || !['bias', 'gamma', 'beta'].includes(w.info.role)) continue;
      const what = w.info.role === 'bias' ? 'a bias' : `a normalization ${w.info.role}`;
      const decoupled = decoupledDecayOf(state, w);
      if (decoupled) {
        const text = describeDecoupled(decoupled);
        // A Keras optimizer's own decay has an exclusion list; a decay step the script writes is the script's to filter.
        const advice = isPython(state) && decoupled.applier?.by === 'optimizer' ? excludeAdvice(w.info.role) : '';
        out.push({ message: `${capitalize(text)} on ${w.info.id} decays ${what}.${advice}`, layer: w.layer, weight: w.info.id, source: w.source });
      }
      for (const t of w.penalties) {
        if (t.kind === 'activity-penalty') continue;
        const reg = t.kind === 'hand-written' ? `Hand-written ${describePieces(t.pieces.filter((p) => p.weight === w.info.id))}` : describeRegularizer(t.regularizer!);
        out.push({ message: `${reg} on ${w.info.id} decays ${what}.`, ...where(t), weight: w.info.id });
      }
    }
    return out;
  },
});
