import { atPlan, callText, horizonRange, percentRange, subject, timescalesByPlan } from './decay-timescale';
import { defineRule, type Found } from './rule';

/** τ is shorter than one epoch: the decay erases what each epoch learns. */
export const decayTooStrongForEpoch = defineRule({
  id: 'decay-too-strong-for-epoch',
  severity: 'warning',
  name: 'DecayTooStrongForEpoch',
  summary: 'The decay’s timescale (τ = 1/shrink per step) is shorter than one epoch.',
  help:
    'A decay that removes s of a weight per step forgets its past over about τ = 1/s steps. Shorter than an epoch, it ' +
    'erases what each epoch learned before the next one sees the same data again (Wang & Aitchison, ICML 2025: the ' +
    'best timescale lies between about one epoch and the whole run). Lower the decay or the learning rate it follows.',
  firesWhen:
    "a decayed weight's timescale τ = 1/s is shorter than one epoch of the `fit` / `fitDataset` that trains it: the decay erases what each epoch learned (one finding per call)",
  check: (ctx) => {
    const out: Found[] = [];
    for (const [plan, { strong }] of timescalesByPlan(ctx)) {
      if (!strong.length) continue;
      const perEpoch = plan.stepsPerEpoch!;
      const taus = strong.map((x) => x.tau);
      out.push({
        message:
          `${subject(strong)} ${horizonRange(taus, perEpoch)}, shorter than one epoch of ${callText(plan)} (${perEpoch} steps): each epoch it removes ` +
          `${percentRange(taus.map((t) => 1 - Math.exp(-perEpoch / t)))} of ${strong.length === 1 ? 'the weight' : 'each'}, so it forgets what earlier epochs learned.`,
        ...atPlan(plan, strong),
      });
    }
    return out;
  },
});
