import { z } from './zod';
import { wireNumber } from './wire-number';

/** A position in the user's own source file. Line and column are 1-based. */
export const sourcePosition = z.object({
  file: z.string(),
  line: z.number().int(),
  column: z.number().int(),
});
export type SourcePosition = z.output<typeof sourcePosition>;

export const weightRole = z.enum(['kernel', 'bias', 'gamma', 'beta', 'embedding', 'other']);
export type WeightRole = z.output<typeof weightRole>;

/** A position in the user's code, with the identifier the code there assigns its value to (`totalLoss`), when it has one. */
export const namedSite = sourcePosition.extend({ name: z.string().nullable() });
export type NamedSite = z.output<typeof namedSite>;

/**
 * A regularizer as tfjs configured it. For tfjs's L1L2 the penalty is l1·Σ|w| + l2·Σw² (no ½). Coefficients
 * are kept as written, NaN, ±Infinity and negative values included (they travel as "NaN"/"Infinity" strings).
 * A hand-written penalty's summary uses className `HandWritten`.
 */
export const regularizerInfo = z.object({
  className: z.string(),
  l1: wireNumber,
  l2: wireNumber,
});
export type RegularizerInfo = z.output<typeof regularizerInfo>;

export const weightInfo = z.object({
  /** The variable's unique name in tfjs, e.g. `dense_Dense1/kernel`; weights are keyed by it everywhere. */
  id: z.string(),
  /** The weight's own name inside its layer, e.g. `kernel`. */
  name: z.string(),
  shape: z.array(z.number().int()),
  trainable: z.boolean(),
  role: weightRole,
  regularizer: regularizerInfo.nullable(),
  /**
   * The inner layer that holds the weight when it is not the listed layer itself: an RNN's cell, a wrapper's
   * layer. `path` is how to reach it from the listed layer (`cell`, `forwardLayer.cell`).
   */
  heldBy: z.object({ layer: z.string(), className: z.string(), path: z.string() }).nullable().optional(),
});
export type WeightInfo = z.output<typeof weightInfo>;

/** A trainable `tf.variable` that belongs to no layer: a weight fields plus where the user's code created it. */
export const rawVariableInfo = weightInfo.extend({ source: sourcePosition.nullable() });
export type RawVariableInfo = z.output<typeof rawVariableInfo>;

export const layerInfo = z.object({
  name: z.string(),
  className: z.string(),
  /** Where the user's code created the layer, mapped through the bundle's source map. */
  source: sourcePosition.nullable(),
  weights: z.array(weightInfo),
  activityRegularizer: regularizerInfo.nullable(),
  /** The identifier the user's code assigns the layer to at its creation line (`const lstm = …`), when there is one. */
  binding: z.string().nullable().optional(),
});
export type LayerInfo = z.output<typeof layerInfo>;

const plainValue = z.union([wireNumber, z.string(), z.boolean(), z.null()]);

export const optimizerInfo = z.object({
  className: z.string(),
  /**
   * The optimizer's own getConfig(): learningRate, momentum, beta1, beta2, epsilon, … A custom optimizer's may hold
   * NaN or ±Infinity: they travel as "NaN"/"Infinity" strings and are numbers again on arrival.
   */
  config: z.record(z.string(), plainValue),
  /** The JavaScript class, when it is not tfjs's own (a user's `class AdamW extends tf.AdamOptimizer` reports className Adam). */
  jsClass: z.string().optional(),
  /**
   * Settings that name a weight decay (`weightDecay`, `weight_decay`, `wd`, `weightDecayRate`, a user class's `decay`),
   * from getConfig() and the instance's own fields (`settings.weightDecayRate` one level down), as the optimizer holds them.
   */
  decaySettings: z.record(z.string(), plainValue).optional(),
  /**
   * True once the optimizer was seen writing its weights with an update of its own (not tfjs's formula, not a plain
   * rescale): a decay folded into such an update cannot be told apart from the rest of it.
   */
  ownUpdate: z.boolean().optional(),
});
export type OptimizerInfo = z.output<typeof optimizerInfo>;

export const termCollection = z.enum(['data', 'regularization']);

export const termKind = z.enum(['data', 'weight-penalty', 'activity-penalty', 'hand-written']);

/** The shape of a hand-written penalty on one variable, in tfjs's convention: L2 `c·Σw²`, L1 `c·Σ|w|`, norm `c·‖w‖`. */
export const penaltyForm = z.enum(['l2', 'l1', 'norm', 'unknown']);
export type PenaltyForm = z.output<typeof penaltyForm>;

/** One variable a hand-written penalty covers, with its coefficient there (null when the form is unknown). */
export const penaltyPiece = z.object({
  weight: z.string(),
  form: penaltyForm,
  coefficient: wireNumber.nullable(),
});
export type PenaltyPiece = z.output<typeof penaltyPiece>;

/** One additive part of the loss: the data loss, or one regularization penalty. */
export const termInfo = z.object({
  id: z.string(),
  collection: termCollection,
  kind: termKind,
  layer: z.string().nullable(),
  weight: z.string().nullable(),
  regularizer: regularizerInfo.nullable(),
  /** The graph node whose output is this term. */
  nodeId: z.string(),
  /** False when the step never even computed the penalty (a minimize loop that never calls calculateLosses). */
  evaluated: z.boolean(),
  reachesMinimizedLoss: z.boolean(),
  /** Hand-written terms: every variable the term covers, with its form and coefficient (as it counts in the minimized loss). */
  pieces: z.array(penaltyPiece).optional(),
  /** Hand-written terms: the user's line that built the term. */
  source: namedSite.nullable().optional(),
  /** A penalty that does not reach the minimized loss but is summed with the data loss: the sum that adds it. */
  summedAt: namedSite.nullable().optional(),
});
export type TermInfo = z.output<typeof termInfo>;

export const graphNodeKind = z.enum(['variable', 'op', 'unevaluated-term']);

/** Which part of the loss a node computes: only data, only a penalty, or the sum of both. */
export const nodeRole = z.enum(['data', 'regularization', 'mixed']);
export type NodeRole = z.output<typeof nodeRole>;

export const graphNode = z.object({
  id: z.string(),
  kind: graphNodeKind,
  /** tfjs kernel name for ops, weight name for variables. */
  label: z.string(),
  layer: z.string().nullable(),
  shape: z.array(z.number().int()),
  role: nodeRole,
  /** Set on the node that outputs a term. */
  termId: z.string().nullable(),
  /** Set on variable nodes. */
  weight: z.string().nullable(),
  /** True when the node is an ancestor of (or is) the minimized scalar. */
  reachesMinimizedLoss: z.boolean(),
});
export type GraphNode = z.output<typeof graphNode>;

export const graphEdge = z.object({
  from: z.string(),
  to: z.string(),
  shape: z.array(z.number().int()),
});
export type GraphEdge = z.output<typeof graphEdge>;

/** The ops of one optimizer step that lead from the trainable variables to the minimized scalar, plus every penalty. */
export const lossGraph = z.object({
  objective: z.number().int(),
  step: z.number().int(),
  nodes: z.array(graphNode),
  edges: z.array(graphEdge),
  minimizedNodeId: z.string(),
  dataNodeId: z.string().nullable(),
  terms: z.array(termInfo),
  /** The variables the step differentiates with respect to (weight ids). */
  variables: z.array(z.string()),
  /** Where the user's code ran the step (the model.fit or optimizer.minimize call), when it is on the stack. */
  source: sourcePosition.nullable().default(null),
  /** Where the user's code built the minimized scalar, with its name there (`crossEntropy`); null inside model.fit. */
  minimizedSource: namedSite.nullable().optional(),
  /** Trainable tf.variables of no layer that this step trains or penalizes. */
  rawVariables: z.array(rawVariableInfo).optional(),
  captureMs: z.number(),
});
export type LossGraph = z.output<typeof lossGraph>;

/**
 * Which weights one optimizer instance updates (the variables its applyGradients received, or those of the
 * minimize call it ran). `index` numbers optimizer instances in the order they first trained something.
 * `weights` is omitted when only the optimizer's configuration changed.
 */
export const optimizerWeights = z.object({
  index: z.number().int(),
  optimizer: optimizerInfo,
  weights: z.array(z.string()).optional(),
});
export type OptimizerWeights = z.output<typeof optimizerWeights>;

/**
 * How the run treats weight decay: `as-written` runs the script unchanged; `decoupled` takes every L1/L2 penalty
 * out of the minimized loss and decays each L2-penalized weight by w·(1 − lr·2·l2) after each of its updates.
 */
export const weightDecayMode = z.enum(['as-written', 'decoupled']);
export type WeightDecayMode = z.output<typeof weightDecayMode>;

/**
 * The effective decay of one step, sent once the step's update (and anything the script did to the weights before
 * the next step) is known. A value is s, the fraction of the weight its decay removed in that step:
 * s = −⟨Δ_applied − Δ_data, w⟩/⟨w, w⟩ (see README); null when it could not be measured that step.
 */
/**
 * Who shrinks a weight outside its optimizer's update formula: an optimizer subclass after its update (`className`:
 * its JavaScript class), the script between steps, or the decoupled what-if. `source`: the user's line that applied it.
 */
export const decayApplier = z.object({
  by: z.enum(['optimizer', 'script', 'what-if']),
  className: z.string().nullable(),
  source: sourcePosition.nullable(),
});
export type DecayApplier = z.output<typeof decayApplier>;

export const decayRecord = z.object({
  objective: z.number().int(),
  step: z.number().int(),
  values: z.record(z.string(), wireNumber.nullable()),
  /**
   * The part of each value that was a multiplicative shrink applied outside the optimizer's update formula (a
   * decoupled decay: an AdamW subclass, a decay step in the script, the what-if), per weight, for this step.
   */
  decoupled: z.record(z.string(), wireNumber).optional(),
  /** Who applied that shrink, per weight: sent when first seen and when it changes. */
  appliers: z.record(z.string(), decayApplier).optional(),
  /** Weights whose effective decay cannot be measured, each with why (sent once, when it becomes known). */
  unavailable: z.record(z.string(), z.string()).optional(),
});
export type DecayRecord = z.output<typeof decayRecord>;

/**
 * The training a `model.fit` / `fitDataset` call plans, read from its arguments when it is called: `epochs` (after
 * `initialEpoch`), optimizer steps per epoch (null when unknown: a dataset of unknown size), and the weights it trains.
 */
export const trainingPlan = z.object({
  method: z.enum(['fit', 'fitDataset']),
  epochs: z.number().int(),
  stepsPerEpoch: z.number().int().nullable(),
  weights: z.array(z.string()),
  source: sourcePosition.nullable(),
});
export type TrainingPlan = z.output<typeof trainingPlan>;

export const stepRecord = z.object({
  objective: z.number().int(),
  /** 1-based count of optimizer steps of this objective. */
  step: z.number().int(),
  totalLoss: wireNumber,
  dataLoss: wireNumber,
  regularizationLoss: wireNumber,
  /** Each penalty's value this step, whether or not it reached the minimized loss. */
  terms: z.record(z.string(), wireNumber),
  /** Ids of the penalty terms that are ancestors of this step's minimized scalar. */
  inLoss: z.array(z.string()),
  weightNorms: z.record(z.string(), wireNumber),
  learningRate: wireNumber.nullable(),
  /** Wall time since the previous step of this objective (or since the script started). */
  wallMs: z.number(),
});
export type StepRecord = z.output<typeof stepRecord>;

export const backendInfo = z.object({
  /** The tfjs backend the script ran on: tensorflow, wasm or cpu. */
  name: z.string(),
  tfjsVersion: z.string(),
  /** Whose tfjs: the user's own install, or the copy that ships with Loss Lens. */
  tfjsSource: z.enum(['user', 'bundled']),
  tfjsPath: z.string(),
  /** Kernels Loss Lens added to the backend, and kernels that fall back to the cpu implementation. */
  addedKernels: z.array(z.string()),
  fallbackKernels: z.array(z.string()),
});
export type BackendInfo = z.output<typeof backendInfo>;

export const scriptError = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().nullable(),
  /** The first frame in the user's own code. */
  source: sourcePosition.nullable(),
});
export type ScriptError = z.output<typeof scriptError>;
