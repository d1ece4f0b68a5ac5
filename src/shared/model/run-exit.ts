// How a run ended: the runner process's exit facts, turned into the run's final status, end and error.
import type { ScriptError } from '../protocol/run-data';
import type { RunEnd, RunState, RunStatus } from './run-state';

/** How the runner's process ended, as the host saw it. */
export interface RunnerExitFacts {
  code: number | null;
  signal: string | null;
  /** Why the host ended it, if the host did. */
  killedBy: 'timeout' | 'stop' | null;
  /** The runner said hello on its channel: it started and the channel worked. */
  started?: boolean;
  /** The private channel failed (a read error, or foreign bytes inside a frame): events may be missing. */
  channelError?: string | null;
  /** The last non-empty line the script wrote to stderr (a usage message, a native error). */
  lastStderrLine?: string | null;
}

function stepsTaken(state: RunState): number {
  return Object.values(state.series).reduce((n, s) => n + s.step.length, 0);
}

/**
 * The end of a sentence about an exit: ` before training` when there was no step, then the script's last stderr
 * line (a usage message, a native error), so an early exit says why.
 */
function exitContext(state: RunState, exit: RunnerExitFacts, alwaysStderr = false): string {
  const early = stepsTaken(state) === 0;
  const line = exit.lastStderrLine?.trim();
  const said = line && (early || alwaysStderr) ? `. Its last line on stderr: ${JSON.stringify(line.slice(0, 300))}` : '.';
  return `${early ? ' before training' : ''}${said}`;
}

/**
 * The run's final status, from what the runner said and how its process ended. Never cleaner than the truth:
 * a lost end event, a broken channel or a silent death is a failure that says which it was.
 */
export function finalStatus(state: RunState, exit: RunnerExitFacts): { status: RunStatus; end: RunEnd; error: ScriptError | null } {
  const end = state.end;
  if (state.buildErrors.length > 0) {
    return { status: 'failed', end: { reason: 'error', exitCode: null, exitSource: null }, error: null };
  }
  const channelBroken = (message: string) => ({
    status: 'failed' as const,
    end: end ?? { reason: 'killed' as const, exitCode: exit.code, exitSource: null },
    error: { name: 'ChannelBroken', message, stack: null, source: null },
  });
  if (exit.channelError) {
    return channelBroken(`Loss Lens's private telemetry channel broke (${exit.channelError}): events may be missing, so this report is incomplete.`);
  }
  if (end?.reason === 'step-limit') return { status: 'step-limit', end, error: null };
  if (exit.killedBy === 'timeout' && (!end || end.reason === 'stopped')) {
    return { status: 'timeout', end: { reason: 'timeout', exitCode: null, exitSource: null }, error: null };
  }
  if (exit.killedBy === 'stop' && (!end || end.reason === 'stopped')) {
    return { status: 'cancelled', end: { reason: 'stopped-by-user', exitCode: null, exitSource: null }, error: null };
  }
  if (end?.reason === 'error' || state.error) {
    return { status: 'failed', end: end ?? { reason: 'error', exitCode: exit.code, exitSource: null }, error: null };
  }
  if (end?.reason === 'completed' && exit.code !== null && exit.code !== 0) {
    // Node set the code after the script's last 'exit' listener ran: 13 is a top-level await that never settled.
    const why = exit.code === 13 ? ' (its top-level await never settled)' : '';
    return {
      status: 'failed',
      end: { ...end, reason: 'exit', exitCode: exit.code },
      error: { name: 'ProcessExit', message: `The script exited with code ${exit.code}${why}${exitContext(state, exit)}`, stack: null, source: null },
    };
  }
  if (end?.reason === 'completed') return { status: 'completed', end, error: null };
  if (end?.reason === 'exit') {
    if (end.exitCode === 0) return { status: 'completed', end, error: null };
    const exitCall = /\.py$/i.test(state.script) ? 'sys.exit' : 'process.exit';
    const how = end.exitSource ? `called ${exitCall}(${end.exitCode})` : `exited with code ${end.exitCode}`;
    return {
      status: 'failed',
      end,
      error: { name: 'ProcessExit', message: `The script ${how}${exitContext(state, exit)}`, stack: null, source: end.exitSource },
    };
  }
  if (end?.reason === 'stopped') {
    // Somebody other than the host sent the stop signal.
    return { status: 'cancelled', end, error: null };
  }
  if (exit.signal) {
    const hint = exit.signal === 'SIGKILL' ? ' (the system may have run out of memory)' : exit.signal === 'SIGSEGV' || exit.signal === 'SIGBUS' || exit.signal === 'SIGABRT' ? ' (a native crash)' : '';
    return {
      status: 'failed',
      end: { reason: 'killed', exitCode: exit.code, exitSource: null },
      error: {
        name: 'RunnerDied',
        message: `The script's process was killed by ${exit.signal}${hint}${exitContext(state, exit, true)}`,
        stack: null,
        source: null,
      },
    };
  }
  if (!exit.started) {
    return {
      status: 'failed',
      end: { reason: 'killed', exitCode: exit.code, exitSource: null },
      error: {
        name: 'RunnerDied',
        message: `Loss Lens's runner exited with code ${exit.code} before it could start the script${exit.lastStderrLine ? `: ${exit.lastStderrLine.trim().slice(0, 300)}` : '.'}`,
        stack: null,
        source: null,
      },
    };
  }
  // It exited with a code, yet its exit handler's end event never arrived: the channel lost it.
  return channelBroken(`the runner exited with code ${exit.code} but its end event never arrived`);
}
