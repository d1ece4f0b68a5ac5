// Small helpers the rule modules share: where a term's finding points, sentence casing, and which language a run's
// advice must be written in (a tfjs script's, or a Python one's: Keras / TensorFlow 2, or a TF1 graph).
import type { RunState } from '../model/run-state';
import type { TermView } from './terms';

/** A finding's location fields for a term: its layer, weight, source line and term id. */
export const where = (t: TermView) => ({ layer: t.layer, weight: t.weight, source: t.source, termId: t.id });

export const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** True for a run of the Python runner (TensorFlow / Keras): its advice is Python, not tfjs. */
export const isPython = (state: RunState) => state.framework === 'tensorflow';

/**
 * How a Python objective was trained: a `tf.compat.v1` optimizer's `minimize` on a graph tensor ('tf1'), or Keras
 * (a GradientTape loop, a train_step, or model.fit: 'keras'). The runner names a TF1 optimizer by its own class
 * (`GradientDescentOptimizer`, `AdamOptimizer`: TF1's names end in Optimizer) and gives it no Keras config, which
 * always holds `name`; a Keras optimizer, even a user's subclass, always has one.
 */
export function pythonStep(state: RunState, objective: number | null): 'tf1' | 'keras' {
  const o = state.optimizers[objective ?? 0] ?? Object.values(state.optimizers)[0];
  if (!o) return 'keras';
  const name = o.jsClass ?? o.className;
  return /Optimizer$/.test(name) && !('name' in (o.config ?? {})) ? 'tf1' : 'keras';
}
