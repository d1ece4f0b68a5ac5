import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeRun } from '../shared/analysis/rules';
import { buildReport, type Report } from '../shared/analysis/report';
import type { Finding } from '../shared/analysis/finding';
import { finalStatus } from '../shared/model/run-exit';
import { applyRunnerEvent, emptyRunState, recordProtocolError, type FinishedStatus, type RunState } from '../shared/model/run-state';
import type { RunnerEvent, WireRunnerEvent } from '../shared/protocol/runner-protocol';
import { MAX_TIMEOUT_SECONDS, type RunnerLaunch } from './run-options';
import { RunnerProcess } from './runner-process';
import { DEFAULT_PYTHON, isPythonScript, pythonRunnerDir, scanPython } from './python-launch';
import { scanScript } from './script-scan';

export interface RunOptions extends RunnerLaunch {
  /** At most MAX_TIMEOUT_SECONDS (Node's timers hold 2^31−1 ms). */
  timeoutSeconds: number;
  toolVersion: string;
  /** Every validated event, after it has been folded into `state`; `wire`: the JSON the runner wrote, to forward as is. */
  onEvent?: (event: RunnerEvent, state: RunState, wire: WireRunnerEvent) => void;
  /**
   * Called once the scan succeeded, before anything runs, with every file of the user's it read (the script
   * included): a caller that writes files of its own (the CLI's --events) must never write over one of them.
   */
  onScanned?: (scan: { files: readonly string[] }) => void;
  /** Called once the runner is up, with a way to stop it early and the mark its processes carry. */
  onStarted?: (control: { stop: () => Promise<void>; pid: number | undefined; mark: string }) => void;
  /** Aborting it cancels the run: status `cancelled`. */
  signal?: AbortSignal;
  /** A state to fill in place (a host that shows it live); a fresh one by default. */
  state?: RunState;
  /** Where the run's private folder is made (default: the system's temp folder). */
  tempRoot?: string;
}

/** A finished run: its state (which owns the status), the findings and the report made from it. */
export interface RunOutcome {
  state: RunState;
  findings: Finding[];
  report: Report;
}

/**
 * One run, start to end: look at the script (syntax errors, does it use tfjs, transpile its TypeScript), run it
 * instrumented as the entry point of its own Node process, fold the events into a RunState, and make the report.
 * Used by the CLI and the extension alike; it never throws for bad input, and its private folder is gone when
 * it returns.
 */
export async function runScript(options: RunOptions): Promise<RunOutcome> {
  const started = performance.now();
  const scriptPath = path.resolve(options.cwd ?? process.cwd(), options.scriptPath);
  const args = options.args ?? [];
  const state = options.state ?? emptyRunState(scriptPath, args);
  state.script = scriptPath;
  state.args = args;
  state.weightDecay = options.weightDecay ?? 'as-written';
  const finish = (status: FinishedStatus): RunOutcome => {
    state.status = status;
    const findings = analyzeRun(state);
    const report = buildReport(state, { toolVersion: options.toolVersion, durationMs: performance.now() - started }, findings);
    return { state, findings, report };
  };
  let workDir: string;
  try {
    // mkdtemp makes it 0700: the channel, init.json and the transpiled files are the run's alone.
    workDir = fs.mkdtempSync(path.join(options.tempRoot ?? os.tmpdir(), 'loss-lens-'));
  } catch (err) {
    state.error = { phase: 'build', name: 'RunnerDied', message: `Loss Lens could not make its private folder: ${(err as Error).message}`, stack: null, source: null };
    return finish('failed');
  }
  try {
    const python = isPythonScript(scriptPath);
    const scan = python ? await scanPython(scriptPath, options.pythonPath ?? DEFAULT_PYTHON, pythonRunnerDir(options.runnerPath)) : await scanScript(scriptPath, workDir);
    if (!scan.ok) {
      if (scan.missing) state.error = { phase: 'build', name: 'FileNotFound', message: scan.errors[0].message, stack: null, source: null };
      else if ('launchError' in scan && scan.launchError) {
        const { name, message } = scan.launchError as { name: string; message: string };
        state.error = { phase: 'build', name, message, stack: null, source: null };
      }
      else state.buildErrors = scan.errors;
      return finish('failed');
    }
    if (!python && scan.tfjsImports.length === 0) {
      state.error = {
        phase: 'build',
        name: 'NotATfjsScript',
        message:
          `${path.basename(scriptPath)} does not import TensorFlow.js (no @tensorflow/tfjs* import anywhere in it or in ` +
          'the files it imports). Loss Lens analyzes tfjs training scripts; it did not run this one.',
        stack: null,
        source: null,
      };
      return finish('failed');
    }
    for (const message of scan.notices) if (!state.notices.includes(message)) state.notices.push(message);
    options.onScanned?.({ files: scan.readFiles });
    if (options.signal?.aborted) {
      state.end = { reason: 'stopped-by-user', exitCode: null, exitSource: null };
      return finish('cancelled');
    }

    const runner = new RunnerProcess({
      ...options,
      scriptPath,
      args,
      workDir,
      transpiled: scan.transpiled,
      requiredEsm: scan.requiredEsm,
      onEvent: (event, wire) => {
        applyRunnerEvent(state, event);
        options.onEvent?.(event, state, wire);
      },
      onProtocolError: (error) => {
        recordProtocolError(state, error);
        options.onProtocolError?.(error);
      },
      onSpawn: (pid, mark) => options.onStarted?.({ stop: async () => void (await runner.stop('stop')), pid, mark }),
    });
    // Starting can fail before any process exists (no mkfifo, an unwritable temp folder): a failed run, not a throw.
    const exited = runner.start().catch((err: Error) => {
      state.error = { phase: 'run', name: 'RunnerDied', message: `Loss Lens could not start the script: ${err.message}`, stack: null, source: null };
      return null;
    });
    const timer = setTimeout(() => void runner.stop('timeout'), Math.min(options.timeoutSeconds, MAX_TIMEOUT_SECONDS) * 1000);
    const onAbort = () => void runner.stop('stop');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const exit = await exited;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (!exit) return finish('failed');

    const notice = (message: string) => {
      if (!state.notices.includes(message)) state.notices.push(message);
    };
    notice(exit.containment);
    if (exit.garbageBytes > 0) {
      notice(`${exit.garbageBytes} bytes on Loss Lens's private telemetry channel were not its frames; they were skipped.`);
    }
    if (exit.channelError) notice(`Loss Lens's private telemetry channel broke: ${exit.channelError}.`);
    if (exit.survivors.length > 0) {
      notice(`${exit.survivors.length} process(es) of the run could not be stopped (pid ${exit.survivors.join(', ')}).`);
    }
    const final = finalStatus(state, exit);
    state.end = final.end;
    if (final.error && (!state.error || final.error.name === 'ChannelBroken')) state.error = { ...final.error, phase: 'run' };
    return finish(final.status === 'running' ? 'failed' : final.status);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
