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

describe('a script cannot forge or rewrite what Loss Lens reports (cheap doors closed; not a sandbox)', () => {
  it('the init file named in /proc/self/cmdline is gone before the script runs; no token in its env or the run folder', async () => {
    const { report, output, mark } = await analyze(fixtureScript('reads-init-file.js'));
    expect(output).toMatch(/init path \/\S+\/init\.json: ENOENT/);
    expect(/argv (.*)/.exec(output)?.[1]).toBe('["reads-init-file.js"]');
    // Token-like values in its environment: the run's mark (not the token), and whatever the test's own env holds.
    const tokenLikeEnv = JSON.parse(/token-like in env: (.*)/.exec(output)![1]) as Array<[string, string]>;
    expect(tokenLikeEnv.filter(([k, v]) => process.env[k] !== v)).toEqual([['LOSS_LENS_RUN', mark]]);
    expect(output).toMatch(/token-like in the run's folder: false \(\d+ files\)/);
    // No forged end: the script's own failure after three steps is what the report says.
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ message: 'failed after training', source: { file: fixtureScript('reads-init-file.js'), line: 37 } });
    expect(report.steps).toBe(3);
  });

  it('a script that replaces fs.writeSync, JSON.stringify, Buffer.from and adds Object.prototype.toJSON: the report keeps every step and the true losses', async () => {
    const { report, output } = await analyze(fixtureScript('replaces-telemetry-globals.js'));
    const printed = JSON.parse(/losses (.*)/.exec(output)![1]) as number[];
    expect(printed).toHaveLength(6);
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(6);
    report.curves.totalLoss.forEach((loss, i) => expect(loss).toBeCloseTo(printed[i], 5));
    // Its wrappers saw none of Loss Lens's frames.
    expect(output).toContain('intercepted: 0 step frames dropped, 0 step events seen by toJSON');
    expect(report.terms.filter((t) => t.collection === 'regularization').every((t) => t.stepsInLoss === 6)).toBe(true);
  });
});

describe('wasm out of memory while copying a tensor in', () => {
  // Unguarded, wasm's malloc returns 0 and tfjs copies the data to address 0: "RangeError: offset is out of bounds"
  // when it is larger than the heap, silently over the heap's own data when it is smaller.
  it('a second copy of a 2.6 GiB dataset: WasmOutOfMemory with the size asked for and what was held', async () => {
    const script = fixtureScript('wasm-out-of-memory-copy.js');
    const { report, output } = await analyze(script, { backend: 'wasm' });
    expect(output).toContain('train 100663296,4');
    expect(output).not.toContain('all ');
    expect(report.status).toBe('failed');
    expect(report.error?.name).toBe('WasmOutOfMemory');
    expect(report.error?.message).toBe(
      'The wasm backend ran out of memory: an allocation of 2.60 GiB failed with its heap at 1.50 GiB of the 4.00 GiB it can address, with 1.50 GiB in 1 live tensor. Dispose of tensors you no longer need (tf.tidy, tensor.dispose()), train on smaller batches, or install @tensorflow/tfjs-node.',
    );
    expect(report.error?.source).toMatchObject({ file: script, line: 10 });
    expect(report.findings.map((f) => f.ruleId)).toEqual(['script-error']);
  });
});

describe("stray writes to descriptors Loss Lens's threads hold", () => {
  it('fail with EBADF, as under plain node where they are closed, saying what they are; the run survives', async () => {
    const { report, output } = await analyze(fixtureScript('writes-to-high-fds.js'));
    expect(output).toContain('survived');
    const results = /fd results (.*)/.exec(output)![1].split(' ').map((r) => r.split(':'));
    expect(results).toHaveLength(23);
    // Every write from 18 to 40 is EBADF (as plain node says for all of them), but one that lands in Loss Lens's
    // own channel, where it is skipped garbage.
    for (const [fd, kind, code] of results) expect([fd, kind, code]).toEqual([fd, kind, kind === 'channel' ? code : 'EBADF']);
    // Among them, event-loop descriptors of its threads (at least the watchdog's), refused by name.
    expect(results.some(([, kind]) => kind === '[eventpoll]' || kind === '[eventfd]' || kind === 'self-pipe')).toBe(true);
    expect(/refusal (.*)/.exec(output)![1]).toMatch(
      /^EBADF: bad file descriptor, write \(fd \d+ is not open under plain node; under Loss Lens it is (an epoll descriptor|an eventfd|a wake-up pipe) of a worker thread's event loop/,
    );
    expect(output).toMatch(/async write to \d+: EBADF/);
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(4);
    expect(report.findings.map((f) => f.ruleId)).toEqual(['regularizer-not-in-loss', 'regularizer-not-in-loss']);
  });
});
