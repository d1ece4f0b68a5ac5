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
  weightDecayMode,
} from './run-data';

export const RUNNER_PROTOCOL_VERSION = 1;

/** The runner writes its events to this file descriptor (the host opens it as a pipe). */
export const TELEMETRY_FD = 3;
/** The global the script's `@tensorflow/*` imports read the runner's one instrumented tfjs from. */
export const MODULES_GLOBAL = '__lossLensModules';

export const backendChoice = z.enum(['auto', 'tensorflow', 'wasm', 'cpu']);
export type BackendChoice = z.output<typeof backendChoice>;

// ---- host → runner (IPC: process.send) -------------------------------------------------------

export const initCommand = z.object({
  type: z.literal('init'),
  protocol: z.literal(RUNNER_PROTOCOL_VERSION),
  bundlePath: z.string(),
  scriptPath: z.string(),
  /** Original sources that belong to the user (not node_modules): frames there are "user frames". */
  userSources: z.array(z.string()),
  steps: z.number().int().positive(),
  backend: backendChoice,
  /** False only for benchmarks: the same process, backend and kernels, without the probes. */
  instrument: z.boolean().default(true),
  /** The decoupled what-if (`loss-lens analyze --weight-decay decoupled`), or the script as written. */
  weightDecay: weightDecayMode.default('as-written'),
  /** False only for benchmarks: every other probe, without measuring the effective decay. */
  measureDecay: z.boolean().default(true),
});
export type InitCommand = z.output<typeof initCommand>;

export const stopCommand = z.object({ type: z.literal('stop') });
export type StopCommand = z.output<typeof stopCommand>;

export const hostToRunner = z.discriminatedUnion('type', [initCommand, stopCommand]);
export type HostToRunner = z.output<typeof hostToRunner>;

// ---- runner → host (telemetry pipe, one JSON object per line) -----------------------------------

export const endReason = z.enum(['completed', 'step-limit', 'exit', 'error', 'stopped']);
export type EndReason = z.output<typeof endReason>;

export const runnerEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), protocol: z.number().int(), pid: z.number().int(), node: z.string() }),
  z.object({ type: z.literal('backend'), backend: backendInfo }),
  z.object({ type: z.literal('notice'), level: z.enum(['info', 'warning']), message: z.string() }),
  z.object({ type: z.literal('layers'), layers: z.array(layerInfo) }),
  z.object({ type: z.literal('optimizer'), objective: z.number().int(), optimizer: optimizerInfo }),
  z.object({ type: z.literal('optimizer-weights'), update: optimizerWeights }),
  z.object({ type: z.literal('graph'), graph: lossGraph }),
  z.object({ type: z.literal('step'), record: stepRecord }),
  z.object({ type: z.literal('decay'), record: decayRecord }),
  /** How the run treats weight decay (sent once, before the first step). */
  z.object({ type: z.literal('weight-decay'), mode: weightDecayMode }),
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
export type DecayRecordInput = z.input<typeof decayRecord>;

export type { ParseResult } from './parse';

const checkRunnerEvent = parseWith(runnerEvent);

/** Check one line from the telemetry pipe where it enters the host. */
export function parseRunnerEvent(line: string): ParseResult<RunnerEvent> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${line.slice(0, 80)}` };
  }
  return checkRunnerEvent(json);
}

/** Check a command from the host where it enters the runner. */
export const parseHostToRunner = parseWith(hostToRunner);
