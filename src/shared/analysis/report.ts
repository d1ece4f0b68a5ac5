import { z } from '../protocol/zod';
import { finishedStatus, primaryObjective, type RunState } from '../model/run-state';
import {
  backendInfo,
  lossGraph,
  namedSite,
  optimizerInfo,
  penaltyPiece,
  weightDecayMode,
  regularizerInfo,
  sourcePosition,
  termInfo,
  trainingPlan,
  weightRole,
} from '../protocol/run-data';
import { wireNumber } from '../protocol/wire-number';
import { effectiveDecayOf } from './effective-decay';
import { finding, type Finding } from './finding';
import { analyzeRun } from './rules';
import { firstNonFinite } from './non-finite';
import { collectTerms, decayFactor, weightViews, type WeightView } from './terms';

export const REPORT_SCHEMA_VERSION = 1;

const nullableNumber = wireNumber.nullable();

const lossSplit = z.object({
  step: z.number().int(),
  totalLoss: wireNumber,
  dataLoss: wireNumber,
  regularizationLoss: wireNumber,
});

const reportWeight = z.object({
  name: z.string(),
  shortName: z.string(),
  shape: z.array(z.number().int()),
  trainable: z.boolean(),
  role: weightRole,
  regularizer: regularizerInfo.nullable(),
  /** The inner layer that holds the weight (an RNN's cell), when it is not the listed layer. */
  heldBy: z.object({ layer: z.string(), className: z.string(), path: z.string() }).nullable(),
  /** Ids of every term that penalizes this weight: its layer's regularizer, hand-written terms. */
  penalties: z.array(z.string()),
  /** Index into `optimizers` of the optimizer that updates it; null when none is known to. */
  optimizer: z.number().int().nullable(),
  decayPerStep: z.number().optional(),
  /** Measured: the median over the steps of s, the fraction of the weight its decay removed per step (see README). */
  effectiveDecay: z.number().optional(),
  /** 1 − effectiveDecay: the factor the decay really multiplied the weight by per step, under its own optimizer. */
  effectiveDecayPerStep: z.number().optional(),
  /** Why a penalized weight has no measured effective decay. */
  effectiveDecayUnavailable: z.string().optional(),
  /**
   * A decay that no penalty expresses: the weight shrinks beyond what its data gradient and its penalties explain,
   * applied by an optimizer subclass after its update (a user's AdamW), by the script between steps, or by the what-if.
   */
  decay: z
    .object({
      kind: z.literal('decoupled'),
      /** Median over the measured steps of the fraction of the weight it removed per step. */
      shrinkPerStep: z.number(),
      /** 1 − shrinkPerStep: the factor it multiplied the weight by per step. */
      factorPerStep: z.number(),
      steps: z.number().int(),
      appliedBy: z.enum(['optimizer', 'script', 'what-if']).nullable(),
      /** The optimizer's JavaScript class (`AdamW`) when an optimizer applies it. */
      className: z.string().nullable(),
      /** The user's line that applied it (the decay step in the script, or inside the optimizer's class). */
      source: sourcePosition.nullable(),
      /** True: it is lr·λ; false: λ whatever the learning rate; null: the run cannot tell (a constant lr and no λ known). */
      followsLearningRate: z.boolean().nullable(),
    })
    .optional(),
  /** τ = 1/s over the measured decay: the steps over which the decay forgets the weight's past. */
  decayHorizonSteps: z.number().optional(),
  /** τ in epochs, where the fit / fitDataset that trains the weight says how many steps an epoch has. */
  decayHorizonEpochs: z.number().optional(),
});

/**
 * The `loss-lens analyze --json` report. Non-finite numbers are the strings "NaN", "Infinity"
 * and "-Infinity". Documented field by field in the README.
 */
export const reportSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  tool: z.object({ name: z.literal('loss-lens'), version: z.string() }),
  script: z.string(),
  /** What the script trains with: `tfjs` (a JavaScript/TypeScript script) or `tensorflow` (a Python script: TensorFlow / Keras). */
  framework: z.enum(['tfjs', 'tensorflow']),
  status: finishedStatus,
  /** `decoupled`: the what-if run (`--weight-decay decoupled`); `as-written`: the script unchanged. */
  weightDecay: weightDecayMode,
  /** Every optimizer step the script made, over all its objectives (what `--steps` counts). */
  steps: z.number().int(),
  /** Each objective's own step count, in objective order (`steps` is their sum). */
  stepsByObjective: z.array(z.number().int()),
  durationMs: z.number(),
  backend: backendInfo.nullable(),
  notices: z.array(z.string()),
  error: z
    .object({
      phase: z.enum(['build', 'run']),
      name: z.string(),
      message: z.string(),
      source: sourcePosition.nullable(),
      stack: z.string().nullable(),
    })
    .nullable(),
  optimizer: optimizerInfo.nullable(),
  /** Every optimizer instance that trained something, and the weights it updates (a weight's own optimizer). */
  optimizers: z.array(optimizerInfo.extend({ index: z.number().int(), weights: z.array(z.string()) })),
  layers: z.array(
    z.object({
      name: z.string(),
      className: z.string(),
      source: sourcePosition.nullable(),
      activityRegularizer: regularizerInfo.nullable(),
      weights: z.array(reportWeight),
    }),
  ),
  /** Trainable tf.variables that belong to no layer. */
  variables: z.array(reportWeight.extend({ source: sourcePosition.nullable() })),
  terms: z.array(
    termInfo.omit({ nodeId: true, pieces: true, source: true, summedAt: true }).extend({
      value: nullableNumber,
      stepsInLoss: z.number().int(),
      stepsObserved: z.number().int(),
      pieces: z.array(penaltyPiece),
      source: namedSite.nullable(),
      summedAt: namedSite.nullable(),
    }),
  ),
  lossSplit: z.object({ first: lossSplit.nullable(), last: lossSplit.nullable() }),
  curves: z.object({
    step: z.array(z.number().int()),
    totalLoss: z.array(wireNumber),
    dataLoss: z.array(wireNumber),
    regularizationLoss: z.array(wireNumber),
    learningRate: z.array(nullableNumber),
    terms: z.record(z.string(), z.array(nullableNumber)),
    weightNorms: z.record(z.string(), z.array(nullableNumber)),
    /** Per weight, s at each step (aligned with `step`; null where it was not measured). */
    effectiveDecay: z.record(z.string(), z.array(nullableNumber)),
  }),
  nonFinite: z
    .object({ step: z.number().int(), terms: z.array(z.string()), weights: z.array(z.string()) })
    .nullable(),
  objectives: z.number().int(),
  /** The training each model.fit / fitDataset call planned: epochs, steps per epoch, the weights it trains. */
  trainingPlans: z.array(trainingPlan),
  graph: lossGraph.nullable(),
  findings: z.array(finding),
});
export type Report = z.output<typeof reportSchema>;
export interface ReportMeta {
  toolVersion: string;
  durationMs: number;
}

/** The report of a finished (or failed) run: everything captured, nothing dropped because the script misbehaved. */
export function buildReport(state: RunState, meta: ReportMeta, findings: Finding[] = analyzeRun(state)): Report {
  if (state.status === 'running') throw new Error('A report is made of a finished run; this one is still running.');
  const status = state.status;
  const terms = collectTerms(state);
  const primaryKey = primaryObjective(state);
  const s = primaryKey === null ? undefined : state.series[primaryKey];
  const optimizer = primaryKey === null ? undefined : state.optimizers[primaryKey];
  const views = weightViews(state, terms);
  const weightById = new Map(views.map((v) => [v.info.id, v]));
  const split = (i: number) =>
    s && s.step.length > 0
      ? { step: s.step[i], totalLoss: s.totalLoss[i], dataLoss: s.dataLoss[i], regularizationLoss: s.regularizationLoss[i] }
      : null;
  const nf = firstNonFinite(state);
  const error = state.buildErrors.length
    ? {
        phase: 'build' as const,
        name: 'BuildError',
        message: state.buildErrors.map((e) => e.message).join('\n'),
        source: state.buildErrors[0].source,
        stack: null,
      }
    : state.error;

  const stepsByObjective = Object.keys(state.series)
    .map(Number)
    .sort((a, b) => a - b)
    .map((o) => state.series[o].step.length);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'loss-lens', version: meta.toolVersion },
    script: state.script,
    framework: state.framework === 'tensorflow' ? 'tensorflow' : frameworkOf(state.script),
    status,
    weightDecay: state.weightDecay ?? 'as-written',
    steps: stepsByObjective.reduce((n, k) => n + k, 0),
    stepsByObjective,
    durationMs: Math.round(meta.durationMs),
    backend: state.backend,
    notices: state.notices,
    error: error
      ? { phase: error.phase, name: error.name, message: error.message, source: error.source, stack: error.stack }
      : null,
    optimizer: optimizer ?? null,
    optimizers: Object.values(state.optimizerWeights ?? {})
      .sort((a, b) => a.index - b.index)
      .map((o) => ({ ...o.optimizer, index: o.index, weights: o.weights })),
    layers: state.layers.map((l) => ({
      name: l.name,
      className: l.className,
      source: l.source,
      activityRegularizer: l.activityRegularizer,
      weights: l.weights.filter((w) => weightById.has(w.id)).map((w) => reportWeightOf(state, weightById.get(w.id)!)),
    })),
    variables: views.filter((v) => v.layer === null).map((v) => ({ ...reportWeightOf(state, v), source: v.source })),
    terms: terms.map((t) => ({
      id: t.id,
      collection: t.collection,
      kind: t.kind,
      layer: t.layer,
      weight: t.weight,
      regularizer: t.regularizer,
      value: t.firstValue,
      reachesMinimizedLoss: t.reachesMinimizedLoss,
      evaluated: t.evaluated,
      stepsInLoss: t.stepsInLoss,
      stepsObserved: t.stepsObserved,
      pieces: t.pieces,
      source: t.source ? { ...t.source, name: t.sourceName } : null,
      summedAt: t.summedAt,
    })),
    lossSplit: { first: split(0), last: s ? split(s.step.length - 1) : null },
    curves: {
      step: s?.step ?? [],
      totalLoss: s?.totalLoss ?? [],
      dataLoss: s?.dataLoss ?? [],
      regularizationLoss: s?.regularizationLoss ?? [],
      learningRate: s?.learningRate ?? [],
      terms: s?.terms ?? {},
      weightNorms: s?.weightNorms ?? {},
      effectiveDecay: s ? alignedDecay(s) : {},
    },
    nonFinite: nf ? { step: nf.step, terms: nf.terms, weights: nf.weights } : null,
    objectives: Object.keys(state.series).length,
    trainingPlans: state.trainingPlans ?? [],
    graph: primaryKey === null ? null : (state.graphs[primaryKey] ?? null),
    findings,
  };
}

/** The effective-decay columns on the series' own step column (a step's decay arrives after it, on its own column). */
function alignedDecay(s: RunState['series'][string]): Record<string, Array<number | null>> {
  const index = new Map(s.step.map((step, i) => [step, i]));
  const out: Record<string, Array<number | null>> = {};
  for (const [weight, column] of Object.entries(s.decay?.values ?? {})) {
    const aligned = new Array<number | null>(s.step.length).fill(null);
    s.decay.step.forEach((step, i) => {
      const at = index.get(step);
      if (at !== undefined) aligned[at] = column[i];
    });
    out[weight] = aligned;
  }
  return out;
}

/** A weight as the report lists it, with every penalty on it, its own optimizer's decay factor and its measured decay. */
function reportWeightOf(state: RunState, v: WeightView): z.output<typeof reportWeight> {
  const decay = decayFactor(v);
  const measured = effectiveDecayOf(state, v);
  return {
    name: v.info.id,
    shortName: v.info.name,
    shape: v.info.shape,
    trainable: v.info.trainable,
    role: v.info.role,
    regularizer: v.info.regularizer,
    heldBy: v.info.heldBy ?? null,
    penalties: v.penalties.map((t) => t.id),
    optimizer: v.optimizerIndex,
    ...(decay === undefined ? {} : { decayPerStep: decay }),
    ...(measured?.median != null ? { effectiveDecay: measured.median, effectiveDecayPerStep: 1 - measured.median } : {}),
    ...(measured?.unavailable ? { effectiveDecayUnavailable: measured.unavailable } : {}),
    ...(measured?.decoupled
      ? {
          decay: {
            kind: 'decoupled' as const,
            shrinkPerStep: measured.decoupled.shrinkPerStep,
            factorPerStep: 1 - measured.decoupled.shrinkPerStep,
            steps: measured.decoupled.steps,
            appliedBy: measured.decoupled.applier?.by ?? null,
            className: measured.decoupled.applier?.className ?? null,
            source: measured.decoupled.applier?.source ?? null,
            followsLearningRate: measured.decoupled.followsLearningRate,
          },
        }
      : {}),
    ...(measured?.horizonSteps != null ? { decayHorizonSteps: measured.horizonSteps } : {}),
    ...(measured?.horizonEpochs != null ? { decayHorizonEpochs: measured.horizonEpochs } : {}),
  };
}

/** A `.py` script runs on the Python runner (TensorFlow / Keras); everything else on the tfjs runner. */
export function frameworkOf(script: string): Report['framework'] {
  return /\.py$/i.test(script) ? 'tensorflow' : 'tfjs';
}

/** 0 clean, 1 error-level findings, 2 the script could not be built or run. */
export function exitCodeFor(report: Report): 0 | 1 | 2 {
  if (report.status === 'failed') return 2;
  return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
}
