import { describeRegularizer } from '../decay';
import { isPython, where } from '../rule-text';
import { defineRule } from './rule';

export const activityRegularizerUnsupported = defineRule({
  id: 'activity-regularizer-unsupported',
  severity: 'error',
  name: 'ActivityRegularizerUnsupported',
  summary: 'tfjs cannot apply activity regularizers; the penalty can never reach the loss.',
  help:
    'tfjs 4.x throws NotImplementedError when a layer with an activityRegularizer is called. Remove it, or add a ' +
    'penalty on the activations to your loss yourself.',
  firesWhen:
    'a layer of a tfjs run has an `activityRegularizer`, which tfjs 4.x cannot apply (it throws `NotImplementedError` when the layer is called); never on Python runs, where Keras applies it',
  // Keras applies activity regularizers (a dropped one is a regularizer-not-in-loss): only tfjs cannot.
  check: ({ state, terms }) =>
    isPython(state)
      ? []
      : terms
          .filter((t) => t.kind === 'activity-penalty')
          .map((t) => ({
            message:
              `${t.layer} has an activity regularizer (${describeRegularizer(t.regularizer!)}), which tfjs cannot apply: ` +
              'it can never reach the loss.',
            ...where(t),
          })),
});
