import { decoupledDecayOf } from '../decoupled-decay';
import type { WeightView } from '../terms';
import { defineRule } from './rule';

/** Layer classes whose kernel is usually decayed: a kernel of any other class (an RNN's, say) is not reported. */
const DECAYABLE_CLASSES = /^(Conv\d?D|Conv2DTranspose|Conv3DTranspose|SeparableConv\dD|DepthwiseConv2D|Dense|Embedding)$/;

export const noDecay = defineRule({
  id: 'no-decay',
  severity: 'info',
  name: 'NoDecay',
  summary: 'Some kernels have decay, and this conv/dense kernel has none.',
  help: 'If leaving this kernel undecayed is deliberate (a final classifier, say), ignore this; otherwise give it the same kernelRegularizer.',
  pythonHelp:
    'If leaving this kernel undecayed is deliberate (a final classifier, say), ignore this; otherwise give it the same ' +
    'kernel_regularizer (in a TF1 graph, the same penalty in your losses collection).',
  firesWhen:
    'some kernels have decay (a penalty, or a decoupled decay by the optimizer or the script) and this conv/dense/embedding kernel has none',
  check: ({ state, weights }) => {
    const classOf = new Map(state.layers.map((l) => [l.name, l.className]));
    const kernels = weights.filter(
      (w) => w.info.trainable && w.updated !== false && (w.info.role === 'kernel' || w.info.role === 'embedding') && (w.layer !== null || w.info.shape.length >= 2),
    );
    // A decay by the optimizer or the script (a user's AdamW) is decay as much as a penalty is.
    const decayed = (w: WeightView) => w.penalties.length > 0 || decoupledDecayOf(state, w) !== null;
    const has = new Map(kernels.map((w) => [w.info.id, decayed(w)]));
    if (![...has.values()].some(Boolean)) return [];
    return kernels
      .filter((w) => !has.get(w.info.id) && (w.layer === null || DECAYABLE_CLASSES.test(classOf.get(w.layer) ?? '')))
      .map((w) => ({ message: `${w.info.id} has no decay, while the model's other kernels do.`, layer: w.layer, weight: w.info.id, source: w.source }));
  },
});
