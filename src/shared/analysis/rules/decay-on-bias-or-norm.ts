import { describePieces, describeRegularizer } from '../decay';
import { decoupledDecayOf, describeDecoupled } from '../decoupled-decay';
import { capitalize, where } from '../rule-text';
import { defineRule, type Found } from './rule';

export const decayOnBiasOrNorm = defineRule({
  id: 'decay-on-bias-or-norm',
  severity: 'warning',
  name: 'DecayOnBiasOrNorm',
  summary: 'Decay (a penalty, or a decoupled decay by the optimizer or the script) on a bias or a normalization gamma/beta.',
  help:
    'Decay on biases and normalization scales rarely helps and can hurt: it pulls normalized activations towards ' +
    'zero. Usual practice decays kernels only; an AdamW that decays every weight needs a filter that leaves biases and ' +
    'normalization weights out (check that its names match yours, e.g. ln_1/gamma).',
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
        out.push({ message: `${capitalize(text)} on ${w.info.id} decays ${what}.`, layer: w.layer, weight: w.info.id, source: w.source });
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
