import { capitalize, where } from '../rule-text';
import { describeTerm } from '../terms';
import { penaltiesToReach } from './reach';
import { defineRule } from './rule';

export const regularizerIntermittent = defineRule({
  id: 'regularizer-intermittent',
  severity: 'warning',
  name: 'RegularizerIntermittent',
  summary: 'A penalty reaches the minimized loss in some steps and not others.',
  help: 'Some steps add the penalty to the loss and others do not, so the decay is weaker than configured. Check the code path that builds the loss.',
  firesWhen: 'a penalty reaches the minimized loss in some steps and not others',
  check: (ctx) =>
    penaltiesToReach(ctx)
      .filter((t) => t.stepsInLoss > 0 && t.stepsInLoss < t.stepsObserved)
      .map((t) => ({
        message: `${capitalize(describeTerm(t))} reaches the minimized loss in only ${t.stepsInLoss} of ${t.stepsObserved} steps.`,
        ...where(t),
      })),
});
