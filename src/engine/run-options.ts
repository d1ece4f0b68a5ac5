import type { WeightDecayMode } from '../shared/protocol/run-data';
import type { BackendChoice } from '../shared/protocol/runner-protocol';

/** What starting the runner takes: the one base of a whole run's options and of the child process's. */
export interface RunnerLaunch {
  /** The runner entry (dist/runner.js). */
  runnerPath: string;
  scriptPath: string;
  steps: number;
  backend: BackendChoice;
  /** Benchmarks only: the same run without the probes. */
  instrument?: boolean;
  /** `decoupled`: the what-if that takes L1/L2 penalties out of the loss and decays after each update (default as-written). */
  weightDecay?: WeightDecayMode;
  /** Benchmarks only: every probe but the effective-decay measurement. */
  measureDecay?: boolean;
  /** The run's working folder (default: this process's). */
  cwd?: string;
  /** The Node executable for the runner (default: the one running us). */
  nodePath?: string;
  /** The script's own stdout/stderr, passed through untouched. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** A telemetry line that failed validation: logged, never trusted. */
  onProtocolError?: (error: string) => void;
}
