import { z } from './zod';
import { parseWith, type ParseResult } from './parse';
import {
  backendInfo,
  decayRecord,
  layerInfo,
  lossGraph,
  optimizerInfo,
  optimizerWeights,
  scriptError,
  sourcePosition,
  stepRecord,
  trainingPlan,
  weightDecayMode,
} from './run-data';

export const RUNNER_PROTOCOL_VERSION = 2;

/** The global the script's `@tensorflow/*` imports read the runner's one instrumented tfjs from. */
export const MODULES_GLOBAL = '__lossLensModules';
/**
 * Every process of a run carries this variable (value: the run's mark) in its environment, inherited from the
 * runner, so a stop can find the script's descendants even after they left its process group or were re-parented.
 */
export const RUN_MARK_ENV = 'LOSS_LENS_RUN';

export const backendChoice = z.enum(['auto', 'tensorflow', 'wasm', 'cpu']);
export type BackendChoice = z.output<typeof backendChoice>;

/** How a TypeScript file of the user's was transpiled by the host before the run. */
export const transpiledModule = z.object({
  /** The JavaScript (with an inline source map back to the .ts file). */
  file: z.string(),
  format: z.enum(['module', 'commonjs']),
});
export type TranspiledModule = z.output<typeof transpiledModule>;

// ---- host → runner (init.json in the run's private folder, its path the runner's one argument) ------------

export const initCommand = z.object({
  type: z.literal('init'),
  protocol: z.literal(RUNNER_PROTOCOL_VERSION),
  scriptPath: z.string(),
  /** What the script sees as process.argv.slice(2). */
  args: z.array(z.string()).default([]),
  /** The run's private folder (mode 0700): the channel, the generated tfjs modules, transpiled TypeScript. */
  workDir: z.string(),
  /** The private telemetry channel: a FIFO (POSIX) or named pipe (Windows), and the run's frame token. */
  channel: z.object({ path: z.string(), token: z.string() }),
  /** The host's pid: when it goes away, the runner takes its whole tree down. */
  hostPid: z.number().int(),
  /** The user's TypeScript files the host transpiled, by absolute path. */
  transpiled: z.record(z.string(), transpiledModule).default({}),
  /**
   * User ES modules that user code require()s (and nothing imports), by absolute path → a CommonJS version.
   * Node < 22.15 loads a required ES module without the module hooks, so its tfjs import would escape the
   * mapping; there the runner loads this version instead.
   */
  requiredEsm: z.record(z.string(), z.string()).default({}),
  steps: z.number().int().positive(),
  backend: backendChoice,
  /** False only for benchmarks: the same process, backend and kernels, without the probes. */
  instrument: z.boolean().default(true),
  /** The decoupled what-if (`loss-lens analyze --weight-decay decoupled`), or the script as written. */
  weightDecay: weightDecayMode.default('as-written'),
  /** False only for benchmarks: every other probe, without measuring the effective decay. */
  measureDecay: z.boolean().default(true),
  /**
   * The run's cgroup v2 folder (Linux, where the host could make one): the runner joins it before any user code
   * runs, so every process the script starts is in it. Null: the mark and the descendant record contain the run.
   */
  cgroup: z.string().nullable().default(null),
  /**
   * Variables the host put in the runner's environment only to start it (ELECTRON_RUN_AS_NODE, for Electron's
   * binary) that its own environment did not have: the runner removes them before user code, so the script
   * sees the environment `node script.js` would have given it.
   */
  hostOnlyEnv: z.array(z.string()).default([]),
});
export type InitCommand = z.output<typeof initCommand>;
export type InitCommandInput = z.input<typeof initCommand>;

/**
 * Files of the run's private folder besides init.json and the channel. A polite stop is a file, not a signal
 * (any signal is one a script may use itself): the host writes `control/stop`, the runner's watchdog thread
 * notices it and the main thread writes the end event and exits; SIGKILL follows after a grace period.
 * `descendants` records the run's processes as they were seen (`pid starttime` lines), for a stop that comes
 * after they were re-parented (see src/engine/descendants.ts).
 */
export const RUN_FILES = { control: 'control', stop: 'stop', descendants: 'descendants' } as const;

// ---- runner → host (the private channel, one framed JSON object per event) -------------------------------

export const endReason = z.enum(['completed', 'step-limit', 'exit', 'error', 'stopped']);
export type EndReason = z.output<typeof endReason>;

export const runnerEvent = z.discriminatedUnion('type', [
  /** `node` from the tfjs runner, `python` (its version) from the Python runner (src/python). */
  z.object({ type: z.literal('hello'), protocol: z.number().int(), pid: z.number().int(), node: z.string().optional(), python: z.string().optional() }),
  z.object({ type: z.literal('backend'), backend: backendInfo }),
  z.object({ type: z.literal('notice'), level: z.enum(['info', 'warning']), message: z.string() }),
  z.object({ type: z.literal('layers'), layers: z.array(layerInfo) }),
  z.object({ type: z.literal('optimizer'), objective: z.number().int(), optimizer: optimizerInfo }),
  z.object({ type: z.literal('optimizer-weights'), update: optimizerWeights }),
  z.object({ type: z.literal('graph'), graph: lossGraph }),
  z.object({ type: z.literal('step'), record: stepRecord }),
  z.object({ type: z.literal('decay'), record: decayRecord }),
  /** A model.fit / fitDataset call began: the training it plans (one event per call). */
  z.object({ type: z.literal('training-plan'), plan: trainingPlan }),
  /**
   * How the run treats weight decay. The runner no longer sends it: the engine seeds the state with the mode it
   * launched the run with (init.weightDecay). Still accepted, for streams recorded before (and the CLI's --events
   * recordings, which write it so a replay knows the mode).
   */
  z.object({ type: z.literal('weight-decay'), mode: weightDecayMode }).meta({ deprecated: true }),
  z.object({ type: z.literal('error'), error: scriptError }),
  z.object({
    type: z.literal('end'),
    reason: endReason,
    exitCode: z.number().int().nullable(),
    /** Where the script called process.exit(), when it did. */
    exitSource: sourcePosition.nullable(),
  }),
]);
export type RunnerEvent = z.output<typeof runnerEvent>;
/** What the runner writes before encoding: numbers may be non-finite. */
export type RunnerEventInput = z.input<typeof runnerEvent>;
/**
 * A runner event as it crossed the channel: the JSON the runner wrote (non-finite numbers as their names), checked
 * but not transformed. The host forwards it to the webview as it is, so an event is encoded once.
 */
export type WireRunnerEvent = z.input<typeof runnerEvent>;
/** One checked frame: the event for the host's own use, and the JSON it came as, to forward. */
export interface RunnerFrame {
  event: RunnerEvent;
  wire: WireRunnerEvent;
}
export type DecayRecordInput = z.input<typeof decayRecord>;

export type { ParseResult } from './parse';

const checkRunnerEvent = parseWith(runnerEvent);

/**
 * Check one frame from the telemetry channel where it enters the host: one JSON.parse and one zod pass. zod builds
 * the event as a new object, so the parsed JSON stays as the runner wrote it (the `wire` form).
 */
export function parseRunnerFrame(line: string): ParseResult<RunnerFrame> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${line.slice(0, 80)}` };
  }
  const checked = checkRunnerEvent(json);
  return checked.ok ? { ok: true, value: { event: checked.value, wire: json as WireRunnerEvent } } : checked;
}

/** Check one frame where it enters the host, when only the event is wanted. */
export function parseRunnerEvent(line: string): ParseResult<RunnerEvent> {
  const frame = parseRunnerFrame(line);
  return frame.ok ? { ok: true, value: frame.value.event } : frame;
}

/** Check the init command where it enters the runner. */
export const parseInitCommand = parseWith(initCommand);
