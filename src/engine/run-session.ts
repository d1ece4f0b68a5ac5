import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeRun } from '../shared/analysis/rules';
import { buildReport, type Report } from '../shared/analysis/report';
import type { Finding } from '../shared/analysis/finding';
import { applyRunnerEvent, emptyRunState, finalStatus, type FinishedStatus, type RunState } from '../shared/model/run-state';
import type { RunnerEvent } from '../shared/protocol/runner-protocol';
import { bundleScript } from './bundle-script';
import type { RunnerLaunch } from './run-options';
import { RunnerProcess } from './runner-process';

export interface RunOptions extends RunnerLaunch {
  timeoutSeconds: number;
  toolVersion: string;
  /** Every validated event, after it has been folded into `state`. */
  onEvent?: (event: RunnerEvent, state: RunState) => void;
  /** Called once the runner is up, with a way to stop it early. */
  onStarted?: (control: { stop: () => Promise<void>; pid: number | undefined }) => void;
  signal?: AbortSignal;
  /** A state to fill in place (a host that shows it live); a fresh one by default. */
  state?: RunState;
}

/** A finished run: its state (which owns the status), the findings and the report made from it. */
export interface RunOutcome {
  state: RunState;
  findings: Finding[];
  report: Report;
}

/**
 * One run, start to end: bundle the script, run it instrumented, fold the events into a RunState,
 * and make the report. Used by the CLI and the extension alike; it never throws for bad input.
 */
export async function runScript(options: RunOptions): Promise<RunOutcome> {
  const started = performance.now();
  const scriptPath = path.resolve(options.cwd ?? process.cwd(), options.scriptPath);
  const state = options.state ?? emptyRunState(scriptPath);
  state.script = scriptPath;
  state.weightDecay = options.weightDecay ?? 'as-written';
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-'));
  const finish = (status: FinishedStatus): RunOutcome => {
    fs.rmSync(workDir, { recursive: true, force: true });
    state.status = status;
    const findings = analyzeRun(state);
    const report = buildReport(state, { toolVersion: options.toolVersion, durationMs: performance.now() - started }, findings);
    return { state, findings, report };
  };

  const bundle = await bundleScript(scriptPath, workDir);
  if (!bundle.ok) {
    state.buildErrors = bundle.errors;
    if (bundle.missing) {
      state.error = { phase: 'build', name: 'FileNotFound', message: bundle.errors[0].message, stack: null, source: null };
      state.buildErrors = [];
    }
    return finish('failed');
  }
  if (bundle.tfjsImports.length === 0) {
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

  const runner = new RunnerProcess({
    ...options,
    scriptPath,
    bundlePath: bundle.bundlePath,
    userSources: bundle.userSources,
    onEvent: (event) => {
      applyRunnerEvent(state, event);
      options.onEvent?.(event, state);
    },
    onProtocolError: (error) => {
      state.protocolErrors++;
      options.onProtocolError?.(error);
    },
  });
  const exited = runner.start();
  options.onStarted?.({ stop: async () => void (await runner.stop('stop')), pid: runner.pid });
  const timer = setTimeout(() => void runner.stop('timeout'), options.timeoutSeconds * 1000);
  const onAbort = () => void runner.stop('stop');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const exit = await exited;
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);

  const final = finalStatus(state, exit);
  state.end = final.end;
  if (final.error && !state.error) state.error = { ...final.error, phase: 'run' };
  return finish(final.status === 'running' ? 'failed' : final.status);
}
