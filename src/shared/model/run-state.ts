import { z } from '../protocol/zod';
import {
  backendInfo,
  layerInfo,
  lossGraph,
  optimizerInfo,
  decayApplier,
  optimizerWeights,
  scriptError,
  sourcePosition,
  trainingPlan,
  weightDecayMode,
  type DecayRecord,
  type StepRecord,
} from '../protocol/run-data';
import { endReason, type RunnerEvent } from '../protocol/runner-protocol';
import { wireNumber } from '../protocol/wire-number';

/**
 * The run state: everything a run has produced, the single source of truth for the CLI report, the panel
 * and the editor. Each shape is defined once, here, as a zod schema (the webview checks hydrates with it);
 * the types are derived from the schemas.
 */
const nullableWire = wireNumber.nullable();

/** Column-wise training curves of one objective; a term or weight first seen late is padded with null. */
export const series = z.object({
  step: z.array(z.number().int()),
  totalLoss: z.array(wireNumber),
  dataLoss: z.array(wireNumber),
  regularizationLoss: z.array(wireNumber),
  learningRate: z.array(nullableWire),
  wallMs: z.array(z.number()),
  terms: z.record(z.string(), z.array(nullableWire)),
  weightNorms: z.record(z.string(), z.array(nullableWire)),
  /** For each penalty term: in how many steps it reached the minimized loss. */
  termInLossSteps: z.record(z.string(), z.number().int()),
  /**
   * Effective decay s per weight (the fraction of it its decay removed that step), with its own step column: a
   * step's value is known only after its update, so it arrives after the step and is appended on its own.
   */
  decay: z
    .object({
      step: z.array(z.number().int()),
      values: z.record(z.string(), z.array(nullableWire)),
      /** Per weight, the part of s applied outside its optimizer's update formula (a decoupled decay), on the same steps. */
      decoupled: z.record(z.string(), z.array(nullableWire)).default({}),
    })
    .default({ step: [], values: {}, decoupled: {} }),
});
export type Series = z.output<typeof series>;

/** How a run ended, as the report states it. `cancelled`: stopped by the user (Stop, re-run, Ctrl-C, SIGTERM). */
export const finishedStatus = z.enum(['completed', 'step-limit', 'timeout', 'cancelled', 'failed']);
export type FinishedStatus = z.output<typeof finishedStatus>;

export const runStatus = z.enum(['running', ...finishedStatus.options]);
export type RunStatus = z.output<typeof runStatus>;

/** The runner's own end reasons, plus the ones only the host can know. */
export const runEndReason = z.enum([...endReason.options, 'timeout', 'killed', 'stopped-by-user']);

export const runEnd = z.object({
  reason: runEndReason,
  exitCode: z.number().int().nullable(),
  exitSource: sourcePosition.nullable(),
});
export type RunEnd = z.output<typeof runEnd>;

export const buildError = z.object({ message: z.string(), source: sourcePosition.nullable() });

export const runState = z.object({
  script: z.string(),
  /** The arguments the script was given (its process.argv.slice(2)). */
  args: z.array(z.string()).default([]),
  /**
   * Which runner produced the run: the Python runner's hello names its Python (TensorFlow / Keras), else tfjs. Rules
   * read it to speak the script's language; states recorded before it existed are tfjs runs.
   */
  framework: z.enum(['tfjs', 'tensorflow']).default('tfjs'),
  status: runStatus,
  backend: backendInfo.nullable(),
  notices: z.array(z.string()),
  layers: z.array(layerInfo),
  /** Keyed by objective (JSON object keys are strings). */
  optimizers: z.record(z.string(), optimizerInfo),
  /** Each optimizer instance and the weights it updates, by instance index (a weight's own optimizer). */
  optimizerWeights: z.record(z.string(), optimizerWeights.required({ weights: true })).default({}),
  graphs: z.record(z.string(), lossGraph),
  series: z.record(z.string(), series),
  /** Penalized weights whose effective decay cannot be measured, with why. */
  decayUnavailable: z.record(z.string(), z.string()).default({}),
  /** Who applies each weight's decoupled decay (an optimizer subclass, the script, the what-if), the latest seen. */
  decayAppliers: z.record(z.string(), decayApplier).default({}),
  /** The training each model.fit / fitDataset call planned, in call order. */
  trainingPlans: z.array(trainingPlan).default([]),
  /** How the run treated weight decay: the script as written, or the decoupled what-if. */
  weightDecay: weightDecayMode.default('as-written'),
  error: scriptError.extend({ phase: z.enum(['build', 'run']) }).nullable(),
  buildErrors: z.array(buildError),
  end: runEnd.nullable(),
  /** Runner messages that failed validation and were left out: the report is incomplete when this is not 0. */
  protocolErrors: z.number().int(),
  /** What was wrong with the first of them (a zod issue list in one line), for the notice and the finding. */
  firstProtocolError: z.string().nullable().default(null),
});
export type RunState = z.output<typeof runState>;

export function emptySeries(): Series {
  return {
    step: [],
    totalLoss: [],
    dataLoss: [],
    regularizationLoss: [],
    learningRate: [],
    wallMs: [],
    terms: {},
    weightNorms: {},
    termInLossSteps: {},
    decay: { step: [], values: {}, decoupled: {} },
  };
}

export function emptyRunState(script: string, args: string[] = []): RunState {
  return {
    script,
    args,
    framework: 'tfjs',
    status: 'running',
    backend: null,
    notices: [],
    layers: [],
    optimizers: {},
    optimizerWeights: {},
    graphs: {},
    series: {},
    decayUnavailable: {},
    decayAppliers: {},
    trainingPlans: [],
    weightDecay: 'as-written',
    error: null,
    buildErrors: [],
    end: null,
    protocolErrors: 0,
    firstProtocolError: null,
  };
}

/**
 * Each state's version: bumped by every change the reducer (applyRunnerEvent, recordProtocolError) makes, so a
 * reader that derives something from the whole state (the findings) can tell whether it must derive it again
 * without looking at the state. Kept beside the state, not in it: the state is data (hydrates, archives, reports).
 */
const versions = new WeakMap<RunState, number>();

/** The state's version: it changes whenever the reducer changed the state. */
export function stateVersion(state: RunState): number {
  return versions.get(state) ?? 0;
}

/** Say the state changed, for changes made outside the reducer. */
export function touchState(state: RunState): void {
  versions.set(state, stateVersion(state) + 1);
}

/** How much of a rejected message's error the notice and the finding quote. */
const PROTOCOL_ERROR_GIST = 200;
const INCOMPLETE_NOTICE = 'The report is incomplete: ';

/** The notice an incomplete run carries: the count and the first error's gist. */
export function incompleteReportNotice(count: number, firstError: string | null): string {
  const gist = firstError === null ? '' : ` (${count === 1 ? 'the error' : 'the first'}: ${firstError.length > PROTOCOL_ERROR_GIST ? `${firstError.slice(0, PROTOCOL_ERROR_GIST)}…` : firstError})`;
  return `${INCOMPLETE_NOTICE}${count} runner message${count === 1 ? '' : 's'} failed validation and ${count === 1 ? 'was' : 'were'} left out${gist}.`;
}

/**
 * A runner message the engine rejected: whatever it carried is missing, so the run must not read as whole. Counts
 * it, keeps the first error, and keeps one notice with the count up to date (in place, so it stays where it was).
 */
export function recordProtocolError(state: RunState, error: string): void {
  touchState(state);
  state.protocolErrors++;
  state.firstProtocolError ??= error;
  const notice = incompleteReportNotice(state.protocolErrors, state.firstProtocolError);
  const at = state.notices.findIndex((n) => n.startsWith(INCOMPLETE_NOTICE));
  if (at < 0) state.notices.push(notice);
  else state.notices[at] = notice;
}

/** Append one step to column-wise series, keeping every column the same length. */
export function appendStep(series: Series, r: StepRecord): void {
  const n = series.step.length;
  series.step.push(r.step);
  series.totalLoss.push(r.totalLoss);
  series.dataLoss.push(r.dataLoss);
  series.regularizationLoss.push(r.regularizationLoss);
  series.learningRate.push(r.learningRate);
  series.wallMs.push(r.wallMs);
  appendKeyed(series.terms, r.terms, n);
  appendKeyed(series.weightNorms, r.weightNorms, n);
  for (const id of r.inLoss) series.termInLossSteps[id] = (series.termInLossSteps[id] ?? 0) + 1;
}

/** Append one step's effective decay to its own columns (the step it belongs to may be older than the last step). */
export function appendDecay(series: Series, r: DecayRecord): void {
  const d = series.decay;
  const n = d.step.length;
  const decoupled = (d.decoupled ??= {});
  const parts = r.decoupled ?? {};
  // A record for a step already there (several updates in one step) replaces that step's values.
  if (n > 0 && d.step[n - 1] === r.step) {
    for (const [k, v] of Object.entries(r.values)) (d.values[k] ??= new Array<number | null>(n).fill(null))[n - 1] = v;
    for (const [k, v] of Object.entries(parts)) (decoupled[k] ??= new Array<number | null>(n).fill(null))[n - 1] = v;
    return;
  }
  d.step.push(r.step);
  for (const k of Object.keys(r.values)) if (!d.values[k]) d.values[k] = new Array<number | null>(n).fill(null);
  for (const [k, column] of Object.entries(d.values)) column.push(r.values[k] ?? null);
  for (const k of Object.keys(parts)) if (!decoupled[k]) decoupled[k] = new Array<number | null>(n).fill(null);
  for (const [k, column] of Object.entries(decoupled)) column.push(parts[k] ?? null);
}

function appendKeyed(columns: Record<string, Array<number | null>>, values: Record<string, number>, n: number): void {
  for (const key of Object.keys(values)) {
    if (!columns[key]) columns[key] = new Array<number | null>(n).fill(null);
  }
  for (const [key, column] of Object.entries(columns)) column.push(values[key] ?? null);
}

/** Fold one runner event into the state. Mutates in place: a long run appends, never copies. */
export function applyRunnerEvent(state: RunState, event: RunnerEvent): void {
  if (event.type !== 'hello') touchState(state);
  switch (event.type) {
    case 'hello':
      if (event.python !== undefined) state.framework = 'tensorflow';
      return;
    case 'backend':
      state.backend = event.backend;
      return;
    case 'notice':
      if (!state.notices.includes(event.message)) state.notices.push(event.message);
      return;
    case 'layers':
      state.layers = event.layers;
      return;
    case 'optimizer':
      state.optimizers[event.objective] = event.optimizer;
      return;
    case 'optimizer-weights': {
      const u = event.update;
      state.optimizerWeights[u.index] = { index: u.index, optimizer: u.optimizer, weights: u.weights ?? state.optimizerWeights[u.index]?.weights ?? [] };
      return;
    }
    case 'graph':
      state.graphs[event.graph.objective] = event.graph;
      return;
    case 'step': {
      const series = (state.series[event.record.objective] ??= emptySeries());
      appendStep(series, event.record);
      return;
    }
    case 'decay': {
      if (Object.keys(event.record.values).length > 0) appendDecay((state.series[event.record.objective] ??= emptySeries()), event.record);
      for (const [weight, reason] of Object.entries(event.record.unavailable ?? {})) state.decayUnavailable[weight] = reason;
      for (const [weight, applier] of Object.entries(event.record.appliers ?? {})) (state.decayAppliers ??= {})[weight] = applier;
      return;
    }
    case 'training-plan':
      (state.trainingPlans ??= []).push(event.plan);
      return;
    case 'weight-decay':
      state.weightDecay = event.mode;
      return;
    case 'error':
      state.error = { ...event.error, phase: 'run' };
      return;
    case 'end':
      state.end = { reason: event.reason, exitCode: event.exitCode, exitSource: event.exitSource };
      return;
  }
}

/** Every objective (variable set) the run has a graph or steps for, in order. */
export function objectivesOf(state: RunState): number[] {
  const keys = new Set([...Object.keys(state.graphs), ...Object.keys(state.series)].map(Number));
  return [...keys].sort((a, b) => a - b);
}

/** The objective a report, a note or a status line speaks of when it names one: the first one trained. */
export function primaryObjective(state: RunState): number | null {
  return objectivesOf(state)[0] ?? null;
}
