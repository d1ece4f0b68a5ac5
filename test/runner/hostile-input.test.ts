// Scripts that push on Loss Lens's edges (issue 18): a 200 KB line, wasm memory exhausted through a typed array,
// a script that reads Loss Lens's init or replaces the functions its telemetry writes with.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze, fixtureScript } from '../helpers/run';

describe('scripts on the edges', () => {
  it('a 200 KB data-table line: the run completes with the right verdict and names (the name lookups are linear)', async () => {
    const script = fixtureScript('long-line-table.ts');
    expect(fs.readFileSync(script, 'utf8').split('\n').some((l) => l.length > 200_000)).toBe(true);
    const { report, state, output } = await analyze(script, { steps: 100 });
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(10);
    expect(/loss (.*)/.exec(output)?.[1].split(' ')).toHaveLength(10);
    expect(report.terms.filter((t) => t.collection === 'regularization').map((t) => [t.id, t.reachesMinimizedLoss, t.stepsInLoss])).toEqual([
      ['penalty:dense_Dense1/kernel', true, 10],
      ['penalty:dense_Dense2/kernel', true, 10],
    ]);
    // The layers are created right after the table: their bindings are read back over its line.
    expect(state.layers.map((l) => [l.name, l.binding, l.source?.line])).toEqual([
      ['dense_Dense1', 'hidden', 10],
      ['dense_Dense2', 'output', 11],
    ]);
    expect(report.findings).toEqual([]);
  });
});
