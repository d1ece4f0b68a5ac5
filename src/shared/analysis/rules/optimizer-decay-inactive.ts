import { formatCoefficient } from '../../format';
import type { OptimizerInfo } from '../../protocol/run-data';
import { decoupledDecayOf } from '../decoupled-decay';
import { isPython } from '../rule-text';
import { defineRule, type Found } from './rule';

/** Class names that say weight decay: AdamW, SGDW, AdamaxW, a class with WeightDecay or Decoupled in its name. */
const DECAY_CLASS = /adamw|adamaxw|sgdw|weight_?decay|decoupled/i;

/** What in an optimizer says it applies weight decay: its class name, and settings that name a non-zero decay. */
function decayClaims(o: OptimizerInfo): { byName: string | null; settings: string[]; claims: boolean } {
  const name = o.jsClass ?? o.className;
  const byName = DECAY_CLASS.test(name) ? name : null;
  const entries = Object.entries(o.decaySettings ?? {});
  const settings = entries.map(([k, v]) => `${k}=${typeof v === 'number' ? formatCoefficient(v) : String(v)}`);
  const nonZero = entries.some(([, v]) => (typeof v === 'number' && v !== 0) || v === true);
  return { byName, settings, claims: byName !== null || nonZero };
}

/**
 * An optimizer whose class or settings say weight decay, when none of the weights it trains is measured to shrink
 * outside its update over at least two steps. Not said of an optimizer seen writing weights with an update of its
 * own (a decay folded into it cannot be told apart), nor before two steps (a step's decay is known once the next
 * one starts).
 */
export const optimizerDecayInactive = defineRule({
  id: 'optimizer-decay-inactive',
  severity: 'warning',
  name: 'OptimizerDecayInactive',
  summary: 'An optimizer whose class or settings say weight decay shrinks none of the weights it trains.',
  help:
    'tfjs has no AdamW, so scripts bring their own: a subclass that shrinks each weight by lr·λ after its update. ' +
    'Built with its arguments in the wrong order, or reading its rate from another key than the one passed ' +
    '(weight_decay against weightDecayRate), it decays by 0 and nothing says so. Loss Lens measured no shrink on any ' +
    'weight it trains.',
  pythonHelp:
    'Keras 3 optimizers take weight_decay= (AdamW among them) and shrink each variable after its update, except those ' +
    'exclude_from_weight_decay names. A subclass that keeps its own weight_decay without passing it to the base ' +
    'class, or an exclude_from_weight_decay list that matches every variable (each name is searched for in a ' +
    'variable\'s name: kernel, bias, gamma, beta), decays by 0 and nothing says so. Loss Lens measured no shrink on ' +
    'any weight it trains.',
  firesWhen:
    'an optimizer whose class name (`AdamW`, `SGDW`, `…WeightDecay…`) or settings (`weightDecay`, `weight_decay`, `wd`, `weightDecayRate`, `decay`: non-zero, in `getConfig()` or its own fields) say weight decay, when none of the weights it trains shrinks beyond its update over at least two steps; names the class and the settings it holds (not said of an optimizer seen writing weights with an update formula of its own)',
  check: ({ state, weights }) => {
    // A step's decay is sent when the next step starts: from the second step on, the first one's is known.
    const steps = Math.max(0, ...Object.values(state.series).map((s) => s.step.length));
    if (steps < 2) return [];
    const out: Found[] = [];
    for (const o of Object.values(state.optimizerWeights ?? {})) {
      const info = o.optimizer;
      const claim = decayClaims(info);
      if (!claim.claims || info.ownUpdate) continue;
      const trained = weights.filter((w) => o.weights.includes(w.info.id));
      if (trained.length === 0 || trained.some((w) => decoupledDecayOf(state, w) !== null)) continue;
      const name = info.jsClass ?? info.className;
      const python = isPython(state);
      const what = info.jsClass ? `${info.jsClass} (a subclass of ${python ? 'Keras' : 'tfjs'}'s ${info.className})` : info.className;
      // A Keras subclass may keep its own weight_decay and never hand it to the base class that applies it.
      const subclass = info.jsClass ? `${name} passes weight_decay to the base optimizer (super().__init__(weight_decay=…)) and ` : '';
      const check = python
        ? `Check that ${subclass}its exclude_from_weight_decay(var_names=…) does not match every variable it trains (kernel, bias, gamma, beta).`
        : `Check the order of ${name}'s constructor arguments and the key it reads its rate from.`;
      const says = [claim.byName ? 'its class name' : null, claim.settings.length ? `its settings ${claim.settings.join(', ')}` : null].filter(Boolean).join(' and ');
      const first = trained[0];
      out.push({
        message:
          `${what} says weight decay (${says}), but none of the ${trained.length} weight${trained.length === 1 ? '' : 's'} it trains ` +
          `shrinks beyond what its update explains: its decay is 0. ${check}`,
        layer: first.layer,
        weight: trained.length === 1 ? first.info.id : null,
        source: state.graphs[Object.keys(state.graphs)[0]]?.source ?? first.source,
        related: trained.length > 1 ? trained.map((w) => ({ layer: w.layer, weight: w.info.id, termId: null })) : [],
      });
    }
    return out;
  },
});
