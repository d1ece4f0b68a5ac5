import type { WeightDecayMode } from '../shared/protocol/run-data';
import type { BackendChoice } from '../shared/protocol/runner-protocol';
import type { ContainmentMode } from './containment';

/** The longest timeout: Node's timers hold at most 2^31−1 ms (a larger delay fires at once), about 24.8 days. */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** What starting the runner takes: the one base of a whole run's options and of the child process's. */
export interface RunnerLaunch {
  /** The runner entry (dist/runner.js; its hook modules and the reaper sit beside it). */
  runnerPath: string;
  scriptPath: string;
  /** The script's own arguments: its process.argv.slice(2). */
  args?: string[];
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
  /** Variables added to the script's environment (on top of this process's). */
  env?: NodeJS.ProcessEnv;
  /** The Node executable for the runner (default: the one running us). */
  nodePath?: string;
  /** The Python interpreter for a `.py` script (default python3): the user's own, with its TensorFlow. */
  pythonPath?: string;
  /** `auto` (default): the run's own cgroup where the platform gives one; `mark`: the process mark and descendant walk only. */
  containment?: ContainmentMode;
  /** The script's own stdout/stderr, passed through untouched. */
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** A telemetry frame that failed validation: logged, never trusted. */
  onProtocolError?: (error: string) => void;
  /** The runner process was started; `mark` is in the environment of every process of the run. */
  onSpawn?: (pid: number | undefined, mark: string) => void;
}
