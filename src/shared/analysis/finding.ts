import { z } from '../protocol/zod';
import { sourcePosition } from '../protocol/run-data';

export const severity = z.enum(['error', 'warning', 'info']);
export type Severity = z.output<typeof severity>;

/** Every rule Loss Lens knows, with its fixed severity. The ids are stable: CI configs and the Problems panel key on them. */
export const RULES = {
  'regularizer-not-in-loss': {
    severity: 'error',
    summary: 'A regularization penalty never reaches the loss the optimizer minimizes.',
    help:
      'The optimizer only sees the scalar its step returns. model.fit adds the penalties of the model\'s layers to ' +
      'that scalar (not an RNN cell\'s: tfjs keeps those on layer.cell and never adds them); a hand-written ' +
      'optimizer.minimize(() => …) loop returns whatever it computes, usually the data loss alone, so ' +
      'kernelRegularizer, or a penalty computed by hand and left out of the sum, does nothing. Add the penalties ' +
      'to the value the step returns: tf.add(dataLoss, tf.addN(model.calculateLosses())).',
  },
  'regularizer-intermittent': {
    severity: 'warning',
    summary: 'A penalty reaches the minimized loss in some steps and not others.',
    help: 'Some steps add the penalty to the loss and others do not, so the decay is weaker than configured. Check the code path that builds the loss.',
  },
  'activity-regularizer-unsupported': {
    severity: 'error',
    summary: 'tfjs cannot apply activity regularizers; the penalty can never reach the loss.',
    help:
      'tfjs 4.x throws NotImplementedError when a layer with an activityRegularizer is called. Remove it, or add a ' +
      'penalty on the activations to your loss yourself.',
  },
  'invalid-regularizer': {
    severity: 'error',
    summary: 'A regularization coefficient is NaN, infinite (error) or negative (warning).',
    help:
      'A NaN or infinite coefficient makes the loss NaN or infinite from the first step. A negative L2 or L1 ' +
      'coefficient rewards large weights: it grows them instead of decaying them.',
  },
  'no-decay': {
    severity: 'info',
    summary: 'Some kernels have decay, and this conv/dense kernel has none.',
    help: 'If leaving this kernel undecayed is deliberate (a final classifier, say), ignore this; otherwise give it the same kernelRegularizer.',
  },
  'decay-on-bias-or-norm': {
    severity: 'warning',
    summary: 'Decay (a penalty, or a decoupled decay by the optimizer or the script) on a bias or a normalization gamma/beta.',
    help:
      'Decay on biases and normalization scales rarely helps and can hurt: it pulls normalized activations towards ' +
      'zero. Usual practice decays kernels only; an AdamW that decays every weight needs a filter that leaves biases and ' +
      'normalization weights out (check that its names match yours, e.g. ln_1/gamma).',
  },
  'l2-with-adaptive-optimizer': {
    severity: 'warning',
    summary: 'An L1/L2 penalty with an adaptive optimizer is not weight decay.',
    help:
      'Adam, Adamax, RMSProp, Adagrad and Adadelta divide each gradient, the penalty\'s included, by its running ' +
      'magnitude, so weights with large gradients are barely decayed (Loshchilov & Hutter, "Decoupled Weight Decay ' +
      'Regularization"). For real decay, shrink the weights after each step (w ← w·(1 − lr·λ)) instead of adding L2, ' +
      'or use plain SGD, where L2 and decay are the same.',
  },
  'uneven-effective-decay': {
    severity: 'warning',
    summary: 'An adaptive optimizer gives weights with the same penalty coefficient effective decays more than 10× apart.',
    help:
      'Loss Lens measures how much each penalty really shrinks its weight per step under the optimizer that trains it. ' +
      'Adam, Adamax, RMSProp, Adagrad and Adadelta divide the penalty\'s gradient by each weight\'s own gradient scale, so ' +
      'one coefficient decays weights with large gradients barely and weights with tiny gradients far more than plain SGD ' +
      'would. Decoupled weight decay (w ← w·(1 − lr·λ) after each step, as AdamW does) decays every weight alike: try ' +
      'it with loss-lens analyze --weight-decay decoupled.',
  },
  'optimizer-decay-inactive': {
    severity: 'warning',
    summary: 'An optimizer whose class or settings say weight decay shrinks none of the weights it trains.',
    help:
      'tfjs has no AdamW, so scripts bring their own: a subclass that shrinks each weight by lr·λ after its update. ' +
      'Built with its arguments in the wrong order, or reading its rate from another key than the one passed ' +
      '(weight_decay against weightDecayRate), it decays by 0 and nothing says so. Loss Lens measured no shrink on any ' +
      'weight it trains.',
  },
  'decay-too-weak-for-run': {
    severity: 'info',
    summary: 'The decay’s timescale (τ = 1/shrink per step) is longer than the training the script plans.',
    help:
      'A decay that removes s of a weight per step forgets its past over about τ = 1/s steps; over T steps it removes ' +
      '1 − e^(−T/τ). For AdamW the weights are an exponential moving average with this timescale, and the best one lies ' +
      'between about one epoch and the whole run (Wang & Aitchison, ICML 2025). Longer than the run, the decay hardly acts: ' +
      'raise it (or lower it deliberately, knowing it does little).',
  },
  'decay-too-strong-for-epoch': {
    severity: 'warning',
    summary: 'The decay’s timescale (τ = 1/shrink per step) is shorter than one epoch.',
    help:
      'A decay that removes s of a weight per step forgets its past over about τ = 1/s steps. Shorter than an epoch, it ' +
      'erases what each epoch learned before the next one sees the same data again (Wang & Aitchison, ICML 2025: the ' +
      'best timescale lies between about one epoch and the whole run). Lower the decay or the learning rate it follows.',
  },
  'regularization-dominates-loss': {
    severity: 'warning',
    summary: 'At the first step the regularization loss exceeds the data loss.',
    help:
      'The optimizer mostly shrinks weights instead of fitting data. Lower the coefficients, or check that a large ' +
      'layer is not decayed with a coefficient meant for a small one (tfjs sums l2·Σw² over every element).',
  },
  'non-finite-loss': {
    severity: 'error',
    summary: 'The loss became NaN or infinite.',
    help: 'Everything after this step is meaningless. The finding names the term that went first; lower the learning rate or check the inputs.',
  },
  'no-training-step': {
    severity: 'error',
    summary: 'The script never took an optimizer step.',
    help:
      'Nothing computed a gradient of a loss with respect to trainable variables (model.fit, optimizer.minimize, ' +
      'tf.variableGrads). Loss Lens analyzes training scripts.',
  },
  'script-error': {
    severity: 'error',
    summary: 'The script failed.',
    help: 'The report still holds everything captured before the failure.',
  },
  'incomplete-report': {
    severity: 'warning',
    summary: 'Some of what the run reported was malformed and left out: the report is incomplete.',
    help:
      'Loss Lens checks every message from the instrumented script against its protocol and drops any that fails, ' +
      'rather than trust it. What such a message carried (layers, steps, penalties) is missing, so a clean report ' +
      'may not be clean. Unless the script itself wrote on Loss Lens\'s private channel, this is a Loss Lens bug: ' +
      'please report it with the error the finding quotes.',
  },
} as const satisfies Record<string, { severity: Severity; summary: string; help: string }>;

export type RuleId = keyof typeof RULES;
export const ruleId = z.enum(Object.keys(RULES) as [RuleId, ...RuleId[]]);

/** One thing a finding is about: a finding folded from several (a helper's 900 layers) lists them all. */
export const relatedItem = z.object({ layer: z.string().nullable(), weight: z.string().nullable(), termId: z.string().nullable() });

export const finding = z.object({
  ruleId,
  severity,
  message: z.string(),
  layer: z.string().nullable(),
  weight: z.string().nullable(),
  step: z.number().int().nullable(),
  source: sourcePosition.nullable(),
  /** The term the finding is about, when there is one (lets a view select its node). */
  termId: z.string().nullable(),
  /** Everything the finding covers, when it covers more than one layer, weight or term. */
  related: z.array(relatedItem).default([]),
  /**
   * For `regularizer-not-in-loss`: the penalties to add to the minimized loss, as a JavaScript expression for a
   * list of scalars (`model.calculateLosses()`, `lstm.cell.calculateLosses()`); `$model` stands for the model.
   */
  addToLoss: z.string().nullable().default(null),
});
export type Finding = z.output<typeof finding>;

export function makeFinding(
  id: RuleId,
  message: string,
  where: Partial<Pick<Finding, 'layer' | 'weight' | 'step' | 'source' | 'termId' | 'related' | 'severity' | 'addToLoss'>> = {},
): Finding {
  return {
    ruleId: id,
    severity: where.severity ?? RULES[id].severity,
    message,
    layer: where.layer ?? null,
    weight: where.weight ?? null,
    step: where.step ?? null,
    source: where.source ?? null,
    termId: where.termId ?? null,
    related: where.related ?? [],
    addToLoss: where.addToLoss ?? null,
  };
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      ORDER[a.severity] - ORDER[b.severity] ||
      (a.source?.file ?? '').localeCompare(b.source?.file ?? '') ||
      (a.source?.line ?? 0) - (b.source?.line ?? 0) ||
      a.ruleId.localeCompare(b.ruleId),
  );
}

/** The longest short text a CodeLens shows before it is cut: a lens is one line above the code, never wrapped. */
const SHORT_MAX = 100;

/**
 * A finding in a few words, for a CodeLens above its line: the message's first clause (up to the first ": " or
 * sentence end), cut to SHORT_MAX characters. The full message stays in Problems and the hover.
 */
export function shortText(f: Finding): string {
  const clause = f.message.split(/(?<=[^\s])(?::\s|\.\s|\.$)/)[0].trim();
  return clause.length <= SHORT_MAX ? clause : `${clause.slice(0, SHORT_MAX - 1).trimEnd()}…`;
}
