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
  /** The run's working folder (default: this process's). */
  cwd?: string;
  /** The Node executable for the runner (default: the one running us). */
  nodePath?: string;
  /** The script's own stdout/stderr, passed through untouched. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** A telemetry line that failed validation: logged, never trusted. */
  onProtocolError?: (error: string) => void;
}
