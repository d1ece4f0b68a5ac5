import type {
  BackendInfo,
  LayerInfo,
  LossGraph,
  OptimizerInfo,
  ScriptError,
  SourcePosition,
  StepRecord,
} from '../protocol/model';
import type { EndReason, RunnerEvent } from '../protocol/runner-protocol';

/** Column-wise training curves of one objective; a term or weight first seen late is padded with null. */
export interface Series {
  step: number[];
  totalLoss: number[];
  dataLoss: number[];
  regularizationLoss: number[];
  learningRate: Array<number | null>;
  wallMs: number[];
  terms: Record<string, Array<number | null>>;
  weightNorms: Record<string, Array<number | null>>;
  /** For each penalty term: in how many steps it reached the minimized loss. */
  termInLossSteps: Record<string, number>;
}

export type RunStatus = 'running' | 'completed' | 'step-limit' | 'timeout' | 'failed';

export interface RunEnd {
  reason: EndReason | 'timeout' | 'killed' | 'stopped-by-user';
  exitCode: number | null;
  exitSource: SourcePosition | null;
}

/** Everything a run has produced: the single source of truth for the CLI report, the panel and the editor. */
export interface RunState {
  script: string;
  status: RunStatus;
  backend: BackendInfo | null;
  notices: string[];
  layers: LayerInfo[];
  optimizers: Record<number, OptimizerInfo>;
  graphs: Record<number, LossGraph>;
  series: Record<number, Series>;
  error: (ScriptError & { phase: 'build' | 'run' }) | null;
  buildErrors: Array<{ message: string; source: SourcePosition | null }>;
  end: RunEnd | null;
  protocolErrors: number;
}

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
  };
}

export function emptyRunState(script: string): RunState {
  return {
    script,
    status: 'running',
    backend: null,
    notices: [],
    layers: [],
    optimizers: {},
    graphs: {},
    series: {},
    error: null,
    buildErrors: [],
    end: null,
    protocolErrors: 0,
  };
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

function appendKeyed(columns: Record<string, Array<number | null>>, values: Record<string, number>, n: number): void {
  for (const key of Object.keys(values)) {
    if (!columns[key]) columns[key] = new Array<number | null>(n).fill(null);
  }
  for (const [key, column] of Object.entries(columns)) column.push(values[key] ?? null);
}

/** Fold one runner event into the state. Mutates in place: a long run appends, never copies. */
export function applyRunnerEvent(state: RunState, event: RunnerEvent): void {
  switch (event.type) {
    case 'hello':
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
    case 'graph':
      state.graphs[event.graph.objective] = event.graph;
      return;
    case 'step': {
      const series = (state.series[event.record.objective] ??= emptySeries());
      appendStep(series, event.record);
      return;
    }
    case 'error':
      state.error = { ...event.error, phase: 'run' };
      return;
    case 'end':
      state.end = { reason: event.reason, exitCode: event.exitCode, exitSource: event.exitSource };
      return;
  }
}

/**
 * The run's final status, from what the runner said and how its process ended.
 * `killedBy` is the host's own reason when it ended the process.
 */
export function finalStatus(
  state: RunState,
  exit: { code: number | null; signal: string | null; killedBy: 'timeout' | 'stop' | null },
): { status: RunStatus; end: RunEnd; error: ScriptError | null } {
  const end = state.end;
  if (state.buildErrors.length > 0) {
    return { status: 'failed', end: { reason: 'error', exitCode: null, exitSource: null }, error: null };
  }
  if (end?.reason === 'step-limit') return { status: 'step-limit', end, error: null };
  if (exit.killedBy === 'timeout' && (!end || end.reason === 'stopped')) {
    return { status: 'timeout', end: { reason: 'timeout', exitCode: null, exitSource: null }, error: null };
  }
  if (exit.killedBy === 'stop' && (!end || end.reason === 'stopped')) {
    return { status: 'completed', end: { reason: 'stopped-by-user', exitCode: null, exitSource: null }, error: null };
  }
  if (end?.reason === 'error' || state.error) {
    return { status: 'failed', end: end ?? { reason: 'error', exitCode: exit.code, exitSource: null }, error: null };
  }
  if (end?.reason === 'completed') return { status: 'completed', end, error: null };
  if (end?.reason === 'exit') {
    if (end.exitCode === 0) return { status: 'completed', end, error: null };
    return {
      status: 'failed',
      end,
      error: {
        name: 'ProcessExit',
        message: `The script called process.exit(${end.exitCode}).`,
        stack: null,
        source: end.exitSource,
      },
    };
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return {
    status: 'failed',
    end: { reason: 'killed', exitCode: exit.code, exitSource: null },
    error: {
      name: 'RunnerDied',
      message: `The script's process ${how} before it finished (out of memory, or a native crash?).`,
      stack: null,
      source: null,
    },
  };
}
