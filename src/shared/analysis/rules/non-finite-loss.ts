import { formatNumber } from '../../format';
import { DATA_TERM_ID } from '../../protocol/term-ids';
import { firstNonFinite } from '../non-finite';
import { describeTerm } from '../terms';
import { defineRule } from './rule';

export const nonFiniteLoss = defineRule({
  id: 'non-finite-loss',
  severity: 'error',
  name: 'NonFiniteLoss',
  summary: 'The loss became NaN or infinite.',
  help: 'Everything after this step is meaningless. The finding names the term that went first; lower the learning rate or check the inputs.',
  firesWhen: 'the first step where the loss or a term is NaN/±Infinity; says which term went first',
  // One finding per run, at the first non-finite step: nothing to fold.
  foldsBySource: false,
  check: ({ state, terms }) => {
    const nf = firstNonFinite(state);
    if (!nf) return [];
    const byId = new Map(terms.map((t) => [t.id, t]));
    const first = nf.terms[0] === DATA_TERM_ID ? null : byId.get(nf.terms[0]);
    const culprit =
      nf.terms[0] === DATA_TERM_ID
        ? 'The data loss went non-finite first; every penalty was still finite.'
        : `The penalty ${nf.terms.map((id) => (byId.get(id) ? describeTerm(byId.get(id)!) : id)).join(', ')} went non-finite first.`;
    const weights = nf.weights.length ? ` Weight norms no longer finite (exploded or NaN): ${nf.weights.slice(0, 5).join(', ')}${nf.weights.length > 5 ? ', …' : ''}.` : '';
    const before = nf.previousTotal !== null ? ` The step before, the loss was ${formatNumber(nf.previousTotal)}.` : '';
    return [
      {
        message: `The loss is non-finite from step ${nf.step}. ${culprit}${weights}${before}`,
        step: nf.step,
        layer: first?.layer ?? null,
        weight: first?.weight ?? null,
        source: first?.source ?? state.graphs[nf.objective]?.source ?? null,
        termId: nf.terms[0],
      },
    ];
  },
});
