/**
 * The runner: `node <dist>/runner.js <init.json>`. It loads tfjs, instruments it, maps every tfjs import of the
 * script onto that instance, and then runs the script the way `node script.js args…` would: as the process's
 * main module (Node's own `Module.runMain`), with `process.argv` = [node, script, ...args]. Events go out on
 * the run's private channel. Nothing here imports vscode.
 */
import * as fs from 'node:fs';
import * as nodeModule from 'node:module';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SourcePosition } from '../shared/protocol/run-data';
import {
  parseInitCommand,
  RUN_FILES,
  RUN_MARK_ENV,
  RUNNER_PROTOCOL_VERSION,
  type EndReason,
  type InitCommand,
  type RunnerEventInput,
} from '../shared/protocol/runner-protocol';
import { BackendUnavailableError, loadTfjs } from './backend/load-tfjs';
import { EffectiveDecay } from './probes/decay/effective-decay';
import { hostGone, reapRun, type HostWatch } from './host-gone';
import { installModuleHooks } from './module-hooks';
import { onProcessExit } from './exit-hook';
import { joinCgroup, recordDescendants } from './run-containment';
import { thrownError } from './probes/hooks/describe-names';
import { LayerProbe } from './probes/hooks/layer-probe';
import { OptimizerProbe } from './probes/hooks/optimizer-probe';
import { StepProbe } from './probes/step/step-probe';
import { WeightSampler } from './probes/decay/weight-sample';
import { WeightStats } from './probes/decay/weight-stats';
import { PERF_ENV, perfReportLine } from './perf-report';
import { Telemetry } from './telemetry';
import { engineOf, layerPrototype, type Tf } from './tfjs-internals';
import { UserFrames } from './user-frames';
import { describeWasmMemoryFailure } from './wasm-memory';
import { descriptorsNow, guardThreadDescriptors } from './fd-guard';

/** Enough frames that an error thrown deep inside model.fit still shows the user's line that called it. */
const STACK_TRACE_LIMIT = 100;
const WATCHDOG_POLL_MS = 250;

const realExit = process.exit.bind(process);
let ended = false;
let telemetry: Telemetry | null = null;
let layerProbe: LayerProbe | null = null;
let decayProbe: EffectiveDecay | null = null;
let frames: UserFrames | null = null;
let tfjs: Tf | null = null;
let exitSource: SourcePosition | null = null;
let fatalError = false;
let watch: HostWatch | null = null;
let stepProbe: StepProbe | null = null;

function emit(event: RunnerEventInput): void {
  telemetry?.send(event);
}

function flushLayers(): void {
  const layers = layerProbe?.layersIfChanged();
  if (layers) emit({ type: 'layers', layers });
}

/**
 * Layers reach the host as they are built, not at the first step, so a script that hangs or spins before
 * training still shows what it built. Each event carries the whole list, so each costs O(layers). The rule is
 * by count, not by time, so that what a spinning script reports does not depend on how loaded the machine is:
 * every change is sent at once while the model is small (the first SMALL_MODEL_CHANGES weights), and past that
 * whenever half again as many changes came since the last send, so the sends add up to O(layers) (a geometric
 * series). Whatever is left goes with the trailing timer, the first step or the end.
 */
const SMALL_MODEL_CHANGES = 64;
const GROWTH_TO_SEND = 1 / 3;
let changes = 0;
let changesSent = 0;
let trailing: NodeJS.Timeout | null = null;
function layersChanged(): void {
  changes++;
  if (changes <= SMALL_MODEL_CHANGES || changes - changesSent >= GROWTH_TO_SEND * changes) {
    changesSent = changes;
    flushLayers();
  } else {
    trailing ??= setTimeout(() => {
      trailing = null;
      changesSent = changes;
      flushLayers();
    }, 20).unref();
  }
}

function end(reason: EndReason, exitCode: number | null, source: SourcePosition | null = null): void {
  if (ended) return;
  ended = true;
  flushLayers();
  // Ended right after an update (step limit, stop, error): what the script does after its updates was not seen.
  decayProbe?.finish(reason !== 'completed' && reason !== 'exit');
  if (process.env[PERF_ENV] === '1') process.stderr.write(perfReportLine(tfjs, stepProbe?.stepsTaken() ?? 0));
  emit({ type: 'end', reason, exitCode, exitSource: source });
}

function reportError(err: unknown): void {
  const e = err instanceof Error ? err : new Error(thrownError(err).message);
  const { name, message, stack: rawStack } = thrownError(e);
  const stack = rawStack !== null ? (frames?.withoutOwnFrames(rawStack) ?? rawStack) : null;
  const source = frames?.firstUserFrame(stack) ?? null;
  const wasm = tfjs ? describeWasmMemoryFailure(tfjs, e) : null;
  emit({ type: 'error', error: { name: wasm?.name ?? name, message: wasm?.message ?? message, stack, source } });
}

function installProcessHooks(): void {
  // Who called process.exit(), so a report can point at the line. Otherwise Node's exit is untouched.
  process.exit = function exit(code?: number | string | null) {
    if (!ended) exitSource = frames?.captureSite() ?? null;
    return realExit(code as number);
  } as typeof process.exit;
  // Not an 'exit' listener: the script may remove those (see exit-hook.ts).
  onProcessExit((code) => {
    if (fatalError) end('error', code);
    else end(code === 0 ? 'completed' : 'exit', code, exitSource);
    // Children still the runner's now are re-parented the moment it exits: record them while they are ours.
    if (watch?.recordFile) recordDescendants(watch.recordFile);
    // The script ended on its own after the host died (say, on EPIPE writing to it): take its children along.
    if (watch && hostGone(watch)) reapRun(watch);
  });
  // A monitor sees an uncaught error without changing what happens: Node prints it and exits 1, unless the
  // script has its own 'uncaughtException' handler, which then decides (as under plain node).
  process.on('uncaughtExceptionMonitor', (err) => {
    if (process.listenerCount('uncaughtException') > 0) return;
    fatalError = true;
    flushLayers();
    reportError(err);
  });
}

type ErrorListeners = Record<'uncaughtException' | 'unhandledRejection', Array<(...a: unknown[]) => void>>;

function processErrorListeners(): ErrorListeners {
  return {
    uncaughtException: process.listeners('uncaughtException') as ErrorListeners['uncaughtException'],
    unhandledRejection: process.listeners('unhandledRejection') as ErrorListeners['unhandledRejection'],
  };
}

function removeListenersAddedSince(before: ErrorListeners): void {
  const now = processErrorListeners();
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    for (const listener of now[event]) if (!before[event].includes(listener)) process.removeListener(event, listener);
  }
}

/**
 * Before anything of the script runs: join the run's cgroup (the host already moved us; this makes sure), give
 * the script the environment `node script.js` would have (without what the host set only to start us), and
 * start the watchdog thread (host gone, polite stop, descendant record).
 */
function startWatchdog(init: InitCommand): void {
  const contained = joinCgroup(init.cgroup);
  for (const name of init.hostOnlyEnv) delete process.env[name];
  const mark = process.env[RUN_MARK_ENV];
  if (!mark) return;
  watch = {
    hostPid: init.hostPid,
    parentPid: process.ppid,
    reaperPath: path.join(__dirname, 'reaper.js'),
    mark,
    markEnv: RUN_MARK_ENV,
    workDir: init.workDir,
    pollMs: WATCHDOG_POLL_MS,
    cgroup: contained ? init.cgroup : null,
    controlDir: path.join(init.workDir, RUN_FILES.control),
    stopFile: RUN_FILES.stop,
    recordFile: contained || process.platform !== 'linux' ? null : path.join(init.workDir, RUN_FILES.descendants),
  };
  const worker = new Worker(path.join(__dirname, 'host-watchdog.js'), { workerData: watch, stdout: true, stderr: true, env: process.env });
  // The host's polite stop, forwarded by the watchdog thread: handled whenever the main thread gets to it.
  // Listened to before unref(): a 'message' listener added later would keep the process alive (Node 20).
  worker.on('message', (message: { lossLensStop?: boolean } | null) => {
    if (!message?.lossLensStop) return;
    end('stopped', 0);
    realExit(0);
  });
  worker.on('error', () => {});
  worker.unref();
}

/** Nobody reads the channel any more: if the host is gone, the whole run goes (as the watchdog would do). */
function channelLost(): never {
  if (watch && hostGone(watch)) reapRun(watch);
  return realExit(70);
}

function readInit(): InitCommand {
  const initPath = process.argv[2];
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(initPath ?? '', 'utf8'));
    // It holds the channel's path and token: gone before any user code runs, so a script that finds its path in
    // /proc/self/cmdline cannot read the token and forge an `end: completed`. The token then lives only in this
    // process's memory (never in the environment, the watchdog's workerData or the reaper's arguments).
    fs.unlinkSync(initPath);
  } catch (err) {
    process.stderr.write(`loss-lens runner: start me through the Loss Lens host (no init file: ${(err as Error).message}).\n`);
    return realExit(2);
  }
  const parsed = parseInitCommand(json);
  if (!parsed.ok) {
    process.stderr.write(`loss-lens runner: a bad init file: ${parsed.error}\n`);
    return realExit(2);
  }
  return parsed.value;
}

async function main(): Promise<void> {
  // Node's own descriptors, as under plain node: what Loss Lens's threads open after this is guarded (fd-guard.ts).
  const nodeOwnFds = descriptorsNow();
  const init = readInit();
  startWatchdog(init);
  telemetry = new Telemetry(init.channel.path, init.channel.token, channelLost);
  emit({ type: 'hello', protocol: RUNNER_PROTOCOL_VERSION, pid: process.pid, node: process.version });
  installProcessHooks();
  frames = new UserFrames(init.scriptPath, [__dirname, init.workDir]);

  const errorListenersBefore = processErrorListeners();
  let loaded;
  try {
    loaded = await loadTfjs(init.scriptPath, init.backend, (kernel) =>
      emit({
        type: 'notice',
        level: 'info',
        message: `${kernel} is missing on this backend: it runs on the cpu implementation (correct, slower).`,
      }),
      init.workDir,
    );
  } catch (err) {
    if (err instanceof BackendUnavailableError) {
      emit({ type: 'error', error: { name: 'BackendUnavailable', message: err.message, stack: null, source: null } });
      end('error', 2);
      return realExit(2);
    }
    reportError(err);
    end('error', 1);
    return realExit(1);
  }
  // Emscripten's glue (the wasm backend) adds process handlers that rethrow every uncaught error from its own
  // file (exit code 7); the script did not ask for them, so Node's own handling is restored.
  removeListenersAddedSince(errorListenersBefore);
  tfjs = loaded.tf;
  emit({ type: 'backend', backend: loaded.info });
  for (const message of loaded.notices) emit({ type: 'notice', level: 'info', message });
  if (init.instrument) installProbes(loaded.tf, init, frames);

  installModuleHooks({ modules: loaded.modules, transpiled: init.transpiled, requiredEsm: init.requiredEsm, workDir: init.workDir, distDir: __dirname });
  // After tfjs: parsing tfjs's own source maps would cost ~150 ms, and its frames are never the user's.
  process.setSourceMapsEnabled(true);
  Error.stackTraceLimit = Math.max(Error.stackTraceLimit, STACK_TRACE_LIMIT);
  guardThreadDescriptors(nodeOwnFds);
  process.argv = [process.execPath, init.scriptPath, ...init.args];
  process.exitCode = undefined;
  // Node sets it again for a CommonJS entry; for an ES module entry it stays unset, so require.main of a
  // CommonJS file that entry loads is undefined, as under plain node.
  process.mainModule = undefined;
  // From a fresh stack, as Node's own entry does: no frame of ours under the script's top level.
  setImmediate(nodeModule.runMain as unknown as () => void);
}

function installProbes(tf: Tf, init: InitCommand, userFrames: UserFrames): void {
  const engine = engineOf(tf);
  layerProbe = new LayerProbe(tf, engine, userFrames);
  layerProbe.install();
  // After the probe's own hook: a layer's weights exist once addWeight returns.
  const proto = layerPrototype(tf);
  const probedAddWeight = proto.addWeight as (...a: unknown[]) => unknown;
  proto.addWeight = function addWeight(this: unknown, ...args: unknown[]) {
    const variable = probedAddWeight.apply(this, args);
    layersChanged();
    return variable;
  };
  const optimizerProbe = new OptimizerProbe(tf);
  optimizerProbe.install();
  // The weight-decay mode is not sent back: the engine launched the run with it and seeded the state (set once).
  if (init.measureDecay || init.weightDecay === 'decoupled') {
    decayProbe = new EffectiveDecay(tf, optimizerProbe, new WeightSampler(tf), new WeightStats(tf), {
      mode: init.weightDecay,
      measure: init.measureDecay,
      emit: (record) => emit({ type: 'decay', record }),
      frames: userFrames,
      emitPlan: (plan) => emit({ type: 'training-plan', plan }),
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

void main();
