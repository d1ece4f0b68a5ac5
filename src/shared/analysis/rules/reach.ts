// What regularizer-not-in-loss and regularizer-intermittent both judge: the penalties that should reach the loss.
import type { TermView } from '../terms';
import type { RuleContext } from './rule';

/**
 * Penalties whose reach is in question: regularization terms (activity penalties have their own rule) of an
 * objective some step trained, on at least one weight an optimizer updates.
 */
export const penaltiesToReach = ({ terms, onUntrainedOnly }: RuleContext): TermView[] =>
  terms.filter((t) => t.collection === 'regularization' && t.kind !== 'activity-penalty' && t.objective !== null && !onUntrainedOnly(t));
