/**
 * The runner: a child process that loads tfjs, instruments it, and imports the user's bundled script.
 * It waits for `init` over IPC, then writes telemetry to fd 3. Nothing here imports vscode.
 */
import { pathToFileURL } from 'node:url';
import {
  MODULES_GLOBAL,
  parseHostToRunner,
  RUNNER_PROTOCOL_VERSION,
  TELEMETRY_FD,
  type InitCommand,
} from '../shared/protocol/runner-protocol';
import type { EndReason, RunnerEventInput } from '../shared/protocol/runner-protocol';
import type { SourcePosition } from '../shared/protocol/run-data';
import { BackendUnavailableError, loadTfjs } from './backend/load-tfjs';
import { EffectiveDecay } from './probes/effective-decay';
import { LayerProbe } from './probes/layer-probe';
import { OptimizerProbe } from './probes/optimizer-probe';
import { StepProbe } from './probes/step-probe';
import { WeightSampler } from './probes/weight-sample';
import { WeightStats } from './probes/weight-stats';
import { PERF_ENV, perfReportLine } from './perf-report';
import { Telemetry } from './telemetry';
import { engineOf, type Tf } from './tfjs-internals';
import { UserFrames } from './user-frames';

const realExit = process.exit.bind(process);
let ended = false;
let telemetry: Telemetry | null = null;
let layerProbe: LayerProbe | null = null;
let decayProbe: EffectiveDecay | null = null;
let frames: UserFrames | null = null;
let exitCall: { code: number; source: SourcePosition | null } | null = null;
let loadedTf: Tf | null = null;
let stepProbe: StepProbe | null = null;

function emit(event: RunnerEventInput): void {
  telemetry?.send(event);
}

function flushLayers(): void {
  const layers = layerProbe?.layersIfChanged();
  if (layers) emit({ type: 'layers', layers });
}

function end(reason: EndReason, exitCode: number | null, exitSource: SourcePosition | null = null): void {
  if (ended) return;
  ended = true;
  flushLayers();
  // Ended right after an update (step limit, stop, error): what the script does after its updates was not seen.
  decayProbe?.finish(reason !== 'completed' && reason !== 'exit');
  if (process.env[PERF_ENV] === '1') process.stderr.write(perfReportLine(loadedTf, stepProbe?.stepsTaken() ?? 0));
  emit({ type: 'end', reason, exitCode, exitSource });
}

function reportError(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const stack = typeof e.stack === 'string' ? e.stack : null;
  emit({
    type: 'error',
    error: {
      name: e.name || 'Error',
      message: e.message,
      stack,
      source: frames?.firstUserFrame(stack ?? undefined) ?? null,
    },
  });
  // The script's own stderr is where a user looks first; keep Node's usual report there.
  process.stderr.write(`${stack ?? `${e.name}: ${e.message}`}\n`);
}

function failAndExit(err: unknown): never {
  flushLayers();
  reportError(err);
  end('error', 1);
  return realExit(1);
}

function installProcessHooks(): void {
  // Who called process.exit(), so a report can point at the line.
  process.exit = function exit(code?: number | string | null) {
    if (!ended) exitCall = { code: Number(code ?? process.exitCode ?? 0), source: frames?.captureSite() ?? null };
    return realExit(code as number);
  } as typeof process.exit;
  process.on('exit', (code) => {
    if (exitCall) end('exit', exitCall.code, exitCall.source);
    else end(code === 0 ? 'completed' : 'exit', code);
  });
  process.once('beforeExit', () => end('completed', 0));
  process.on('uncaughtException', (err) => failAndExit(err));
  process.on('unhandledRejection', (err) => failAndExit(err));
}

async function start(init: InitCommand): Promise<void> {
  telemetry = new Telemetry(TELEMETRY_FD, () => realExit(70));
  emit({ type: 'hello', protocol: RUNNER_PROTOCOL_VERSION, pid: process.pid, node: process.version });
  installProcessHooks();
  frames = new UserFrames(init.bundlePath, init.userSources);

  let loaded;
  try {
    loaded = await loadTfjs(init.scriptPath, init.backend, (kernel) =>
      emit({
        type: 'notice',
        level: 'info',
        message: `${kernel} is missing on this backend: it runs on the cpu implementation (correct, slower).`,
      }),
    );
  } catch (err) {
    if (err instanceof BackendUnavailableError) {
      emit({ type: 'error', error: { name: 'BackendUnavailable', message: err.message, stack: null, source: null } });
      end('error', 2);
      return realExit(2);
    }
    return failAndExit(err);
  }
  loadedTf = loaded.tf;
  emit({ type: 'backend', backend: loaded.info });
  for (const message of loaded.notices) emit({ type: 'notice', level: 'info', message });

  if (init.instrument) installProbes(loaded.tf, init, frames);
  (globalThis as Record<string, unknown>)[MODULES_GLOBAL] = loaded.modules;
  try {
    await import(pathToFileURL(init.bundlePath).href);
  } catch (err) {
    failAndExit(err);
  }
}

function installProbes(tf: Tf, init: InitCommand, userFrames: UserFrames): void {
  const engine = engineOf(tf);
  layerProbe = new LayerProbe(tf, engine, userFrames);
  layerProbe.install();
  const optimizerProbe = new OptimizerProbe(tf);
  optimizerProbe.install();
  emit({ type: 'weight-decay', mode: init.weightDecay });
  if (init.measureDecay || init.weightDecay === 'decoupled') {
    decayProbe = new EffectiveDecay(tf, optimizerProbe, new WeightSampler(tf), new WeightStats(tf), {
      mode: init.weightDecay,
      measure: init.measureDecay,
      emit: (record) => emit({ type: 'decay', record }),
    });
    decayProbe.install();
  }
  stepProbe = new StepProbe(tf, engine, layerProbe, optimizerProbe, userFrames, {
    stepLimit: init.steps,
    emit,
    decay: decayProbe,
    startedAt: performance.now(),
    onStepLimit: () => {
      end('step-limit', 0);
      realExit(0);
    },
  });
  stepProbe.install();
}

function main(): void {
  if (!process.send) {
    process.stderr.write('loss-lens runner: start me through the Loss Lens host (no IPC channel).\n');
    realExit(2);
  }
  process.on('message', (message: unknown) => {
    const parsed = parseHostToRunner(message);
    if (!parsed.ok) {
      process.stderr.write(`loss-lens runner: ignored a malformed command: ${parsed.error}\n`);
      return;
    }
    const command = parsed.value;
    if (command.type === 'init') {
      // The channel must not keep the process alive once the script is done.
      process.channel?.unref();
      void start(command);
    } else if (command.type === 'stop') {
      end('stopped', 0);
      realExit(0);
    }
  });
}

main();
