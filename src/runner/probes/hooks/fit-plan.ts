// The training a model.fit / fitDataset call plans (epochs × steps per epoch), read from its arguments as it starts.
import type { TrainingPlan } from '../../../shared/protocol/run-data';
import { layersModelPrototype, type Tf } from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';

interface ShapedLike {
  shape?: unknown;
}

interface ModelLike {
  trainableWeights?: Array<{ name?: unknown }>;
}

/** The number of samples in fit's x: a tensor, a list of tensors, or a map of named inputs (all the same length). */
function samplesOf(x: unknown): number | null {
  const first = Array.isArray(x) ? x[0] : x && typeof x === 'object' && !('shape' in x) ? Object.values(x)[0] : x;
  const shape = (first as ShapedLike | undefined)?.shape;
  return Array.isArray(shape) && typeof shape[0] === 'number' ? shape[0] : null;
}

const positiveInt = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);

/**
 * fit's steps per epoch, as tfjs's fitLoop counts them: ceil(training samples / batchSize), with batchSize 32 by
 * default and the samples a `validationSplit` keeps (tfjs splits at floor(n·(1 − split)) when no validationData is given).
 */
export function fitStepsPerEpoch(x: unknown, args: Record<string, unknown>): number | null {
  const n = samplesOf(x);
  if (n === null) return null;
  const batch = positiveInt(args.batchSize) ?? 32;
  const split = typeof args.validationSplit === 'number' && args.validationData == null && args.validationSplit > 0 && args.validationSplit < 1 ? args.validationSplit : 0;
  const train = split ? Math.floor(n * (1 - split)) : n;
  return train > 0 ? Math.ceil(train / batch) : null;
}

/** Epochs a call will run: `epochs` (1 when absent) minus `initialEpoch`. */
export function plannedEpochs(args: Record<string, unknown>): number {
  const epochs = typeof args.epochs === 'number' && Number.isFinite(args.epochs) ? Math.floor(args.epochs) : 1;
  const initial = typeof args.initialEpoch === 'number' && Number.isFinite(args.initialEpoch) ? Math.floor(args.initialEpoch) : 0;
  return Math.max(0, epochs - initial);
}

/** fitDataset's batches per epoch: `batchesPerEpoch`, else the dataset's own size when it knows it. */
export function datasetStepsPerEpoch(dataset: unknown, args: Record<string, unknown>): number | null {
  return positiveInt(args.batchesPerEpoch) ?? positiveInt((dataset as { size?: unknown } | null)?.size);
}

/**
 * Hooks `LayersModel.prototype.fit` and `fitDataset` (a Sequential's own fit delegates to its inner LayersModel, so
 * each call is seen once). Nothing about the call changes; a failure to read it never stops the script's training.
 */
export function installFitPlanProbe(tf: Tf, frames: UserFrames | null | undefined, emit: (plan: TrainingPlan) => void): void {
  const proto = layersModelPrototype(tf);
  if (!proto) return;
  const weightsOf = (model: ModelLike) => (model.trainableWeights ?? []).map((w) => w.name).filter((n): n is string => typeof n === 'string');
  const hook = (method: 'fit' | 'fitDataset', plan: (args: unknown[]) => Pick<TrainingPlan, 'epochs' | 'stepsPerEpoch'>) => {
    const original = proto[method];
    if (typeof original !== 'function') return;
    proto[method] = function (this: ModelLike, ...args: unknown[]) {
      try {
        emit({ method, ...plan(args), weights: weightsOf(this), source: frames?.captureSite() ?? null });
      } catch {
        // Arguments tfjs itself will reject: it says why.
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
    Object.defineProperty(proto[method], 'name', { value: method });
  };
  const argsAt = (a: unknown[], i: number) => (a[i] && typeof a[i] === 'object' ? (a[i] as Record<string, unknown>) : {});
  hook('fit', (a) => ({ epochs: plannedEpochs(argsAt(a, 2)), stepsPerEpoch: fitStepsPerEpoch(a[0], argsAt(a, 2)) }));
  hook('fitDataset', (a) => ({ epochs: plannedEpochs(argsAt(a, 1)), stepsPerEpoch: datasetStepsPerEpoch(a[0], argsAt(a, 1)) }));
}
