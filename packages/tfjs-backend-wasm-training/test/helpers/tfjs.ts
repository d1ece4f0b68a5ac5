/** The tests drive the whole @tensorflow/tfjs (layers, optimizers), which the package's functions accept too. */
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;
export type Tensor = TF.Tensor;
