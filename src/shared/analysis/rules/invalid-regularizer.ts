import { formatCoefficient } from '../../format';
import { where } from '../rule-text';
import { defineRule, type Found } from './rule';

type At = Pick<Found, 'layer' | 'weight' | 'source' | 'termId'>;

/** A NaN or infinite coefficient is an error, a negative one a warning; a usable one says nothing. */
function checkCoefficient(coefficient: number, form: string, on: string, at: At): Found | null {
  if (!Number.isFinite(coefficient)) {
    return {
      message: `${form} ${coefficient} on ${on} is not a usable coefficient: the penalty, and the loss with it, is ${Number.isNaN(coefficient) ? 'NaN' : 'infinite'}.`,
      ...at,
    };
  }
  if (coefficient < 0) {
    return {
      message: `${form} ${formatCoefficient(coefficient)} on ${on} is negative: a negative ${form} grows the weights instead of decaying them.`,
      ...at,
      severity: 'warning',
    };
  }
  return null;
}

/** NaN, infinite or negative coefficients, as the user wrote them, on layer regularizers and hand-written penalties. */
export const invalidRegularizer = defineRule({
  id: 'invalid-regularizer',
  severity: 'error',
  otherSeverities: ['warning'],
  name: 'InvalidRegularizer',
  summary: 'A regularization coefficient is NaN, infinite (error) or negative (warning).',
  help:
    'A NaN or infinite coefficient makes the loss NaN or infinite from the first step. A negative L2 or L1 ' +
    'coefficient rewards large weights: it grows them instead of decaying them.',
  firesWhen: 'a coefficient is NaN or infinite (error) or negative (warning: it grows weights)',
  check: ({ terms }) => {
    const out: Array<Found | null> = [];
    for (const t of terms) {
      if (t.collection !== 'regularization') continue;
      if (t.kind === 'hand-written') {
        for (const p of t.pieces) {
          if (p.coefficient === null || p.form === 'unknown') continue;
          const form = p.form === 'l2' ? 'L2' : p.form === 'l1' ? 'L1' : 'the norm coefficient';
          out.push(checkCoefficient(p.coefficient, form, `${p.weight} (hand-written)`, { ...where(t), weight: p.weight }));
        }
        continue;
      }
      const r = t.regularizer;
      if (!r || r.className !== 'L1L2') continue;
      const on = t.weight ?? `${t.layer}'s activations`;
      out.push(checkCoefficient(r.l1, 'L1', on, where(t)), checkCoefficient(r.l2, 'L2', on, where(t)));
    }
    return out.filter((f): f is Found => f !== null);
  },
});
