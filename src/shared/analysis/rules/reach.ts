// What regularizer-not-in-loss and regularizer-intermittent both judge: the penalties that should reach the loss.
import { isPython } from '../rule-text';
import type { TermView } from '../terms';
import type { RuleContext } from './rule';

/**
 * Penalties whose reach is in question: regularization terms of an objective some step trained, on at least one
 * weight an optimizer updates. tfjs cannot apply an activity penalty at all (its own rule says so); Keras adds one to
 * model.losses like any other, so in a Python run a dropped one is dropped like the rest.
 */
export const penaltiesToReach = ({ state, terms, onUntrainedOnly }: RuleContext): TermView[] =>
  terms.filter(
    (t) => t.collection === 'regularization' && (t.kind !== 'activity-penalty' || isPython(state)) && t.objective !== null && !onUntrainedOnly(t),
  );
