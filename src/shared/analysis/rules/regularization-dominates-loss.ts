import { formatNumber } from '../../format';
import { where } from '../rule-text';
import { describeTerm } from '../terms';
import { defineRule, type Found } from './rule';

export const regularizationDominatesLoss = defineRule({
  id: 'regularization-dominates-loss',
  severity: 'warning',
  name: 'RegularizationDominatesLoss',
  summary: 'At the first step the regularization loss exceeds the data loss.',
  help:
    'The optimizer mostly shrinks weights instead of fitting data. Lower the coefficients, or check that a large ' +
    'layer is not decayed with a coefficient meant for a small one (tfjs sums l2·Σw² over every element).',
  pythonHelp:
    'The optimizer mostly shrinks weights instead of fitting data. Lower the coefficients, or check that a large ' +
    'layer is not decayed with a coefficient meant for a small one (Keras\'s L2(l2) is l2·Σw² over every element; ' +
    'tf.nn.l2_loss is Σw²/2).',
  firesWhen: 'at the first step the regularization loss exceeds the data loss',
  check: ({ state, terms }) => {
    const out: Found[] = [];
    for (const [key, s] of Object.entries(state.series)) {
      if (s.step.length === 0) continue;
      const reg = s.regularizationLoss[0];
      const data = s.dataLoss[0];
      if (!(Number.isFinite(reg) && Number.isFinite(data) && reg > data)) continue;
      const objective = Number(key);
      const largest = terms
        .filter((t) => t.objective === objective && (t.kind === 'weight-penalty' || t.kind === 'hand-written') && t.reachesMinimizedLoss && t.firstValue !== null)
        .sort((a, b) => (b.firstValue ?? 0) - (a.firstValue ?? 0))[0];
      out.push({
        message:
          `At the first step the regularization loss (${formatNumber(reg)}) exceeds the data loss (${formatNumber(data)}).` +
          (largest ? ` The largest penalty is ${describeTerm(largest)} (${formatNumber(largest.firstValue!)}).` : ''),
        ...(largest ? { ...where(largest), step: s.step[0] } : { step: s.step[0] }),
      });
    }
    return out;
  },
});
