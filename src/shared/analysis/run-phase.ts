import { formatInt } from '../format';
import type { RunState } from '../model/run-state';

/**
 * Where a run is, from its state alone: the line under the script's name while the panel waits, and the
 * status after. No backend yet: the script is being checked and tfjs loaded; a backend and no step: tfjs
 * is up and the script is getting to its first optimizer step.
 */
export type RunPhaseKind = 'starting' | 'loading' | 'waiting' | 'training' | 'ended' | 'failed';

export interface RunPhase {
  kind: RunPhaseKind;
  text: string;
  /** The run is still going: Cancel applies. */
  running: boolean;
}

const END_TEXT: Record<string, string> = {
  completed: 'finished',
  'step-limit': 'stopped at the step limit',
  exit: 'the script exited',
  error: 'the script failed',
  stopped: 'stopped',
  timeout: 'timed out',
  killed: 'the process was killed',
  'stopped-by-user': 'cancelled',
};

/** The phase before the host has sent anything: what the panel's own HTML says. */
export const STARTING: RunPhase = { kind: 'starting', text: 'Starting…', running: true };

export function runPhase(state: RunState | null): RunPhase {
  if (!state) return STARTING;
  const steps = Object.values(state.series).reduce((n, s) => Math.max(n, s.step.length), 0);
  const stepText = `${formatInt(steps)} step${steps === 1 ? '' : 's'}`;
  const running = state.status === 'running' && state.end === null;
  if (!running) {
    const how = state.end ? END_TEXT[state.end.reason] ?? state.end.reason : state.status;
    const failed = state.status === 'failed' || state.status === 'timeout';
    return { kind: failed ? 'failed' : 'ended', text: `${how[0].toUpperCase()}${how.slice(1)} · ${stepText}`, running: false };
  }
  if (steps > 0) return { kind: 'training', text: `Training · step ${formatInt(lastStep(state))}`, running: true };
  const python = state.framework === 'tensorflow';
  if (!state.backend) return { kind: 'loading', text: python ? 'Starting Python…' : 'Checking the script and loading tfjs…', running: true };
  const b = state.backend;
  const engine = python ? `TensorFlow ${b.tfjsVersion} in Python` : `tfjs ${b.tfjsVersion} on ${b.name}`;
  return { kind: 'waiting', text: `${engine} · waiting for the first optimizer step…`, running: true };
}

function lastStep(state: RunState): number {
  let last = 0;
  for (const s of Object.values(state.series)) if (s.step.length) last = Math.max(last, s.step[s.step.length - 1]);
  return last;
}
