import { atPlan, callText, horizonRange, percentRange, subject, timescalesByPlan } from './decay-timescale';
import { defineRule, type Found } from './rule';

/**
 * The decay's timescale τ = 1/s exceeds the training the script plans (one fit call's epochs × steps per epoch), so
 * it removes only 1 − e^(−T/τ) of a weight over the whole run.
 */
export const decayTooWeakForRun = defineRule({
  id: 'decay-too-weak-for-run',
  severity: 'info',
  name: 'DecayTooWeakForRun',
  summary: 'The decay’s timescale (τ = 1/shrink per step) is longer than the training the script plans.',
  help:
    'A decay that removes s of a weight per step forgets its past over about τ = 1/s steps; over T steps it removes ' +
    '1 − e^(−T/τ). For AdamW the weights are an exponential moving average with this timescale, and the best one lies ' +
    'between about one epoch and the whole run (Wang & Aitchison, ICML 2025). Longer than the run, the decay hardly acts: ' +
    'raise it (or lower it deliberately, knowing it does little).',
  firesWhen:
    "a decayed weight's timescale τ = 1/s is longer than the training one `model.fit` / `fitDataset` call plans (epochs × steps per epoch); says the planned steps and the fraction the decay removes over them, 1 − e^(−T/τ) (one finding per call)",
  check: (ctx) => {
    const out: Found[] = [];
    for (const [plan, { weak }] of timescalesByPlan(ctx)) {
      if (!weak.length) continue;
      const perEpoch = plan.stepsPerEpoch!;
      const planned = plan.epochs * perEpoch;
      const taus = weak.map((x) => x.tau);
      out.push({
        message:
          `${subject(weak)} ${horizonRange(taus, perEpoch)}, longer than the ${planned} steps ${callText(plan)} plans ` +
          `(${plan.epochs} epoch${plan.epochs === 1 ? '' : 's'} × ${perEpoch}): over them it removes ${percentRange(taus.map((t) => 1 - Math.exp(-planned / t)))} of ${weak.length === 1 ? 'the weight' : 'each'} (1 − e^(−T/τ)).`,
        ...atPlan(plan, weak),
      });
    }
    return out;
  },
});
