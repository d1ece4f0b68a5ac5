import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyRunnerEvent, emptyRunState, type RunState } from '../../src/shared/model/run-state';
import { parseRunnerEvent, type RunnerEvent, type RunnerEventInput } from '../../src/shared/protocol/runner-protocol';
import { toWireJson } from '../../src/shared/protocol/wire-number';

export const FIXTURES = path.resolve(__dirname, '..', 'fixtures');

/** Events from a recorded NDJSON stream, validated exactly as the host validates them. */
export function readStream(name: string): RunnerEvent[] {
  const text = fs.readFileSync(path.join(FIXTURES, 'streams', `${name}.ndjson`), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const parsed = parseRunnerEvent(line);
      if (!parsed.ok) throw new Error(`bad recorded event: ${parsed.error}`);
      return parsed.value;
    });
}

export function stateFrom(events: RunnerEvent[], script = '/ws/train.ts'): RunState {
  const state = emptyRunState(script);
  for (const e of events) applyRunnerEvent(state, e);
  return state;
}

/** Build events the way the runner writes them (non-finite numbers included) and decode them like the host. */
export function wire(events: RunnerEventInput[]): RunnerEvent[] {
  return events.map((e) => {
    const parsed = parseRunnerEvent(toWireJson(e));
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.value;
  });
}
