import { defineRule } from './rule';

export const noTrainingStep = defineRule({
  id: 'no-training-step',
  severity: 'error',
  name: 'NoTrainingStep',
  summary: 'The script never took an optimizer step.',
  help:
    'Nothing computed a gradient of a loss with respect to trainable variables (model.fit, optimizer.minimize, ' +
    'tf.variableGrads). Loss Lens analyzes training scripts.',
  pythonHelp:
    'Nothing computed a gradient of a loss with respect to trainable variables (model.fit, GradientTape.gradient with ' +
    'optimizer.apply_gradients, a tf.compat.v1 optimizer\'s minimize run in a Session). Loss Lens analyzes training scripts.',
  firesWhen: 'the script ran (or timed out) without a single optimizer step',
  check: ({ state }) => {
    const steps = Object.values(state.series).reduce((n, s) => n + s.step.length, 0);
    if (steps > 0 || state.error || state.buildErrors.length > 0) return [];
    const why = state.end?.reason === 'timeout' ? 'before the timeout' : 'before it ended';
    return [{ message: `The script took no optimizer step ${why}: there is no minimized loss to analyze.`, source: null }];
  },
});
