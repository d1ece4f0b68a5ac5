import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { applyRunnerEvent, emptyRunState, type RunState } from '../../../src/shared/model/run-state';
import { parseRunnerEvent, type RunnerEvent } from '../../../src/shared/protocol/runner-protocol';

export const STREAMS = path.resolve(__dirname, '../../fixtures/streams');

export function readStream(name: string): RunnerEvent[] {
  return readFileSync(path.join(STREAMS, `${name}.ndjson`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = parseRunnerEvent(l);
      if (!r.ok) throw new Error(`${name}: ${r.error}`);
      return r.value;
    });
}

export function replayStream(name: string): RunState {
  const state = emptyRunState(`${name}.ts`);
  for (const e of readStream(name)) applyRunnerEvent(state, e);
  return state;
}
