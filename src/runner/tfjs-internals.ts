/**
 * The parts of tfjs (checked against 4.22) that the probes read or wrap, typed narrowly.
 * The user's own tfjs may be another 4.x build, so nothing here leans on private types beyond these.
 */
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;
export type Tensor = TF.Tensor;
export type Variable = TF.Variable;

export interface TapeTensor {
  readonly id: number;
  readonly shape: number[];
}

/** A node of the gradient tape: `Engine.addTapeNode` pushes these onto `state.activeTape`. */
export interface TapeNode {
  readonly id: number;
  readonly kernelName: string;
  readonly inputs: Record<string, TapeTensor>;
  readonly outputs: TapeTensor[];
}

export type GradientsFn = (
  f: () => Tensor,
  xs: Tensor[],
  dy?: Tensor,
  allowNoGradients?: boolean,
) => { value: Tensor; grads: Tensor[] };

export interface EngineInternals {
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  gradients: GradientsFn;
}

export interface RegularizerLike {
  apply(x: Tensor): Tensor;
  getClassName?(): string;
  getConfig?(): Record<string, unknown>;
  l1?: number;
  l2?: number;
}

export interface LayerVariableLike {
  name: string;
  originalName: string;
  shape: number[];
  trainable: boolean;
  val: Variable;
  read(): Variable;
}

export interface LayerLike {
  name: string;
  getClassName(): string;
  weights: LayerVariableLike[];
  activityRegularizer: RegularizerLike | null;
  _losses: Array<() => Tensor>;
  /** Present on containers (Sequential, LayersModel). */
  layers?: unknown;
}

export type AddWeightFn = (
  this: LayerLike,
  name: string,
  shape: number[],
  dtype?: string,
  initializer?: unknown,
  regularizer?: RegularizerLike | null,
  trainable?: boolean,
  ...rest: unknown[]
) => LayerVariableLike;

export interface OptimizerLike {
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  learningRate?: number;
}

export function engineOf(tf: Tf): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}
